"""Where a result came from: the device, the software and the commit, recorded in every results
file so that a figure can always be traced back."""
import datetime
import platform
import subprocess
from pathlib import Path

import torch

import equiconv
from benchmarks import peers

HERE = Path(__file__).resolve().parent


def synchronize(device: torch.device) -> None:
    """Waits for queued GPU work, so that a timer or a memory counter sees all of it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    names = [l.split(":", 1)[1].strip() for l in cpuinfo.read_text().splitlines()
             if l.startswith("model name")] if cpuinfo.is_file() else []
    return names[0] if names else platform.processor() or platform.machine()


def baseline_backend(device: torch.device) -> str:
    """What nn.Conv2d runs on: the library the ratios are measured against."""
    if device.type == "cuda":
        version = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        return f"cuDNN {version}" if version else "CUDA (no cuDNN)"
    return "oneDNN" if torch.backends.mkldnn.is_available() else "ATen (no oneDNN)"


def torchvision_version():
    try:
        import torchvision
    except ImportError:
        return None
    return torchvision.__version__


def commit() -> str:
    """Short hash of HEAD, with ``-dirty`` when tracked files differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE, check=True).stdout.strip()
    try:
        head = git("rev-parse", "--short", "HEAD")
        return head + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environment(device: torch.device) -> dict:
    return {
        "device": device_name(device), "device_type": device.type, "baseline": baseline_backend(device),
        "torch": torch.__version__, "cuda": torch.version.cuda, "torchvision": torchvision_version(),
        "torch_harmonics": peers.version(),
        "threads": torch.get_num_threads(), "equiconv": equiconv.__version__, "commit": commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }

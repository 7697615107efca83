"""Fuzzes the ``panosis-*`` console scripts with random combinations of their flags.

Each run starts from a tiny valid command line and changes a few flags to valid, boundary or
hostile values (0, negative, NaN, inf, huge, malformed HxW, missing or unwritable folders,
non-empty folders, files where folders are expected, corrupt checkpoints). Every run must

- exit 0, or 2 with one line ``<prog>: error: ...`` on stderr, or 130 (interrupted);
- never print a traceback;
- never change a file outside its own output (``--out``, or DST for convert-masks), apart from
  the synthetic-data cache.

A run still going after ``--cap`` seconds gets SIGINT, as a user's Ctrl-C, and must then stop
within ``--grace`` seconds with status 130 and no traceback (or 0 within a second: its work was
done as the interrupt came).

The runs are forked from this process after it has imported the commands, so that a few hundred
of them fit in minutes; each child runs ``main()`` as the console script does
(``sys.exit(main())``) with its own stdout/stderr files, working folder and HOME. The draws are
derandomised by ``--seed``.

    python tests/panosis_models/cli/fuzz_cli.py --runs 20 --seed 0          # 20 runs per command
    python tests/panosis_models/cli/fuzz_cli.py --runs 200 --command panosis-train
"""
import argparse
import importlib
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

SCRIPTS = re.search(r'for name in \(([^)]*)\)', (ROOT / "setup.py").read_text()).group(1)
SCRIPTS = ["panosis-" + name for name in re.findall(r'"([a-z-]+)"', SCRIPTS)]

# flags never drawn: --debug asks for tracebacks, --help only prints
SKIPPED = {"--debug", "-h", "--help"}
FINISHING = 1.0  # seconds: a run ending this soon after SIGINT had finished its work as it came
PRECIOUS, A_FILE = "the user's own file\n", "a file where a folder is expected\n"
PATH_FLAGS = {"out", "data", "checkpoint", "image", "mask", "cache_dir", "test", "pairs", "src", "dst"}


def module_of(script: str):
    return importlib.import_module("panosis_models.cli." + script[len("panosis-"):].replace("-", "_"))


# --- the sandbox: fixtures every run may read and must not change -------------------------------

class Sandbox:
    """A folder holding the shared fixtures (data, checkpoints, odd files), the runs' own areas
    (``runs/N``), the common working folder and HOME, and the data cache."""

    def __init__(self, root: Path):
        self.root = root
        self.cache = root / "cache"
        self.cwd = root / "cwd"
        self.home = root / "home"
        self.fixtures = root / "fixtures"
        self.runs = root / "runs"
        for folder in (self.cache, self.cwd, self.home, self.fixtures, self.runs, root / "tmp", root / "mpl"):
            folder.mkdir(parents=True, exist_ok=True)
        self.text = self.fixtures / "notes.txt"
        self.text.write_text("not an image, not a checkpoint\n")
        self.corrupt = self.fixtures / "corrupt.pt"
        self.corrupt.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
        self.empty_dir = self.fixtures / "empty"
        self.empty_dir.mkdir()
        self.image, self.mask, self.folder = self._cvrg_folder()
        self.checkpoints = {}

    def _cvrg_folder(self):
        folder = self.fixtures / "cvrg"
        rng = np.random.default_rng(0)
        for sub in ("rgb", "mask"):
            (folder / sub).mkdir(parents=True)
        for k in range(4):
            labels = np.zeros((32, 64), np.uint8)
            labels[:12], labels[12:20], labels[20:] = 5, 2, 1
            labels[14:18, 8 * k:8 * k + 10] = 7
            Image.fromarray(rng.integers(0, 255, (32, 64, 3), dtype=np.uint8)).save(folder / "rgb" / f"p{k}.png")
            Image.fromarray(labels).save(folder / "mask" / f"p{k}.png")
        return folder / "rgb" / "p0.png", folder / "mask" / "p0.png", folder

    def snapshot(self, skip: tuple) -> dict:
        """Every file outside ``skip`` and the caches (size, modification time and mode) and
        every folder (mode)."""
        skipped = tuple(str(p) for p in (*skip, self.cache, self.root / "tmp", self.root / "mpl",
                                         self.home / ".cache"))
        files = {}
        for folder, dirs, names in os.walk(self.root):
            if folder.startswith(skipped):
                dirs[:] = []
                continue
            dirs[:] = [d for d in dirs if not os.path.join(folder, d).startswith(skipped)]
            for name in (*names, *dirs):
                path = os.path.join(folder, name)
                if path.startswith(skipped):
                    continue
                st = os.lstat(path)  # a folder's own times change with its entries: only files count
                files[path] = (st.st_mode,) if os.path.isdir(path) else (st.st_size, st.st_mtime_ns, st.st_mode)
        return files


# --- running one command line as its console script ---------------------------------------------

class Outcome:
    """How a run ended: its status (None: killed), output, seconds, and when SIGINT was sent
    (seconds from the start, None if it was not)."""

    def __init__(self, status, stdout, stderr, seconds, interrupted_at):
        self.status, self.stdout, self.stderr = status, stdout, stderr
        self.seconds, self.interrupted_at = seconds, interrupted_at

    @property
    def interrupted(self) -> bool:
        """SIGINT came while the work was still going (a run that ended within a second of it
        had finished its work as the interrupt came: any status it gives is its own)."""
        return self.interrupted_at is not None and not (self.status == 0 and
                                                        self.seconds - self.interrupted_at < FINISHING)


def run_forked(script: str, argv: list, box: Sandbox, area: Path, cap: float, grace: float) -> Outcome:
    """``script`` with ``argv`` in a forked child; SIGINT after ``cap`` seconds, SIGKILL after
    ``grace`` more (status None)."""
    main = module_of(script).main
    out_path, err_path = area / ".stdout", area / ".stderr"
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: the console script's process
        status = 1
        try:
            os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
            os.chdir(box.cwd)
            os.environ.update(HOME=str(box.home), TMPDIR=str(box.root / "tmp"), MPLCONFIGDIR=str(box.root / "mpl"))
            tempfile.tempdir = None
            sys.argv = [script, *argv]
            import torch
            torch.set_num_threads(1)
            try:
                result = main(argv)
                status = 0 if result is None else (result if isinstance(result, int) else 1)
            except SystemExit as stop:
                code = stop.code
                status = 0 if code is None else (code if isinstance(code, int) else 1)
                if not isinstance(code, (int, type(None))):
                    print(code, file=sys.stderr)
            except KeyboardInterrupt:
                traceback.print_exc()
                status = 130
            except BaseException:
                traceback.print_exc()
                status = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)
    interrupted_at, status = None, None
    deadline = started + cap
    while True:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(code)
            break
        now = time.perf_counter()
        if interrupted_at is None and now > deadline:
            os.killpg(pid, signal.SIGINT)
            interrupted_at, deadline = now - started, now + grace
        elif interrupted_at is not None and now > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.02)
    read = lambda p: p.read_text(errors="replace") if p.exists() else ""  # noqa: E731
    return Outcome(status, read(out_path), read(err_path), time.perf_counter() - started, interrupted_at)


def verdict(script: str, argv: list, outcome: Outcome, changed: list, area: Path) -> str:
    """None when the run behaved, else what went wrong."""
    err = outcome.stderr
    if "Traceback (most recent call last)" in err:
        return "printed a traceback"
    if changed:
        return f"changed files outside its output: {changed[:5]}"
    precious = area / "taken" / "precious.txt"
    if "--overwrite" not in argv and (not precious.is_file() or precious.read_text() != PRECIOUS):
        return "replaced a non-empty folder without --overwrite"
    if (area / "a file").read_text() != A_FILE:
        return "wrote into a file given where a folder was expected"
    if outcome.status is None:
        return "did not stop within the grace time after SIGINT"
    if outcome.interrupted and outcome.status != 130:
        return f"exit {outcome.status} after SIGINT, not 130"
    if outcome.status == 2:
        lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
        if not lines or not lines[-1].startswith(f"{script}") or ": error: " not in lines[-1]:
            return "exit 2 without a final '<prog>: error: ...' line"
        if "--no-progress" in argv and len(lines) != 1:
            return f"exit 2 with {len(lines)} lines on stderr"
        return None
    if outcome.status not in (0, 130):
        return f"exit {outcome.status}"
    return None


# --- drawing command lines ------------------------------------------------------------------------

def value_pool(action, box: Sandbox, area: Path) -> list:
    """Valid, boundary and hostile values for one flag; each is a list of words (none: omit)."""
    dest = action.dest
    type_name = getattr(action.type, "__qualname__", getattr(action.type, "__name__", ""))
    if dest in ("out", "dst", "cache_dir"):  # where the run writes: its own area, or nowhere it may
        return [[str(area / "fresh")], [""], [str(area / "deep" / "er")], [str(area / "a file")],
                [str(area / "taken")], ["/proc/equiconv-fuzz/out"], [str(area / "empty")],
                [str(area / "a file" / "sub")]]
    if dest in PATH_FLAGS:  # what the run reads: shared fixtures it must leave as they are
        pool = [[""], [str(box.root / "missing" / "nowhere")], [str(box.text)], [str(box.empty_dir)],
                [str(area / "taken")]]
        if dest in ("checkpoint", "pairs"):
            pool += [[str(box.corrupt)], *([str(p)] for p in box.checkpoints.values())]
        if dest in ("data", "test"):
            pool += [[str(box.folder)], ["synthetic"]]
        if dest in ("image", "mask"):
            pool += [[str(box.image)], [str(box.mask)]]
        return pool
    if dest == "device":
        return [["cpu"], ["cuda"], ["cuda:abc"], ["tpu"], ["cuda:0"], [""], ["meta"], ["cpu:0"], ["mps"]]
    if action.nargs == 0:  # store_true or --x/--no-x
        return [[option] for option in action.option_strings]
    if action.choices is not None and not isinstance(action.choices, range):
        return [[str(c)] for c in action.choices] + [["bogus"], [""]]
    if "size" in type_name:
        return [[v] for v in ("32x64", "16x32", "31x31", "30x60", "0x0", "-8x16", "abc", "64", "1x1", "8x8",
                              "100000x200000", "32X64", "x", "nanxnan", "1e3x2e3")]
    if "channels" in type_name:
        return [[v] for v in ("4,8", "0,4", "4", "a,b", "4,8,16", "100000,100000", "-1,4")]
    if "seeds" in type_name or "shots" in type_name or "names" in type_name:
        return [[v] for v in ("0", "1", "0,0", "a", "0,1", "", "-1", "1,2")]
    if action.type is float:
        return [[v] for v in ("0", "-1", "nan", "inf", "-inf", "1e308", "0.5", "1", "abc", "", "1e-300", "180")]
    # counts, plain integers and ranges
    return [[v] for v in ("0", "-1", "1", "2", "3", "1000000000000", "abc", "", "1.5", str(2 ** 70))]


def actions_of(parser, words: list):
    """The parser's flags that may be drawn (for a command with sub-commands, the chosen one's)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subs and words and words[0] in subs[0].choices:
        parser = subs[0].choices[words[0]]
    return parser, [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction)
                    and not (set(a.option_strings) & SKIPPED)]


def base_line(script: str, box: Sandbox, area: Path, rng: random.Random, sub: str = None) -> list:
    """A tiny valid command line of ``script`` writing into ``area/out`` (for panosis-panoptic,
    of its sub-command ``sub``, else a drawn one)."""
    out = str(area / "out")
    tiny_seg = ["--num", "6", "--size", "32x64", "--channels", "4,8", "--epochs", "1", "--batch-size", "2"]
    ck = box.checkpoints
    lines = {
        "panosis-train": tiny_seg + ["--out", out],
        "panosis-evaluate": ["--checkpoint", str(ck.get("unet", box.corrupt)), "--out", out],
        "panosis-experiment": ["--epochs", "1", "--num", "6", "--out", out],
        "panosis-osmis-train": ["--size", "32x64", "--iterations", "2", "--channels-g", "4", "--channels-d", "4",
                                "--checkpoint-every", "1", "--preview-every", "1", "--warmup", "1",
                                "--batch-size", "2", "--out", out],
        "panosis-osmis-generate": ["--checkpoint", str(ck.get("osmis", box.corrupt)), "--num", "2", "--out", out],
        "panosis-pipeline": ["--quick", "--iterations", "2", "--num", "6", "--epochs", "1", "--out", out],
        "panosis-showcase": ["--out", out],
        "panosis-convert-masks": ["--to", "colour", str(box.folder / "mask"), out],
        "panosis-render-preview": ["--size", "16x32", "--shares", "2", "--out", out],
        "panosis-cityscapes-pairs": ["--train", "2", "--val", "1", "--out", out],
        "panosis-oneshot-train": ["--fold", "1", "--size", "16x32", "--num", "6", "--channels", "4,8",
                                  "--episodes", "2", "--batch-size", "2", "--epochs", "1", "--out", out],
        "panosis-oneshot-evaluate": ["--checkpoint", str(ck.get("oslsm", box.corrupt)), "--episodes", "3",
                                     "--panoramas", "6", "--shots", "1,2", "--out", out],
        "panosis-oneshot-compare": ["--quick", "--out", out],
    }
    if script == "panosis-panoptic":
        sub = sub or rng.choice(["train", "evaluate", "experiment"])
        line = {"train": tiny_seg + ["--head-channels", "4", "--out", out],
                "evaluate": ["--checkpoint", str(ck.get("panoptic", box.corrupt)), "--out", out],
                "experiment": ["--epochs", "1", "--num", "6", "--out", out]}[sub]
        line = [sub, *line]
    else:
        line = lines[script]
    _, actions = actions_of(module_of(script).parser(), line)
    flags = {s for a in actions for s in a.option_strings}
    for flag, value in (("--device", "cpu"), ("--no-progress", None), ("--cache-dir", str(box.cache))):
        if flag in flags:
            line += [flag] if value is None else [flag, value]
    return line


def mutate(script: str, line: list, box: Sandbox, area: Path, rng: random.Random) -> list:
    """``line`` with 0-3 flags set to drawn values (a later value of a flag wins in argparse);
    sometimes a malformed word as well."""
    parser, actions = actions_of(module_of(script).parser(), line)
    line = list(line)
    (area / "taken").mkdir(parents=True, exist_ok=True)
    (area / "taken" / "precious.txt").write_text(PRECIOUS)
    (area / "empty").mkdir(exist_ok=True)
    (area / "a file").write_text(A_FILE)
    for _ in range(rng.choices([0, 1, 2, 3], [1, 5, 3, 1])[0]):
        action = rng.choice(actions)
        words = rng.choice(value_pool(action, box, area))
        if not action.option_strings:  # convert-masks' SRC and DST, after --to X
            line[{"src": 2, "dst": 3}[action.dest]] = words[0]
            continue
        if action.nargs == 0:
            line += words
        else:
            line += [rng.choice(action.option_strings), *words]
    if rng.random() < 0.05:
        line += rng.choice([["--bogus-flag"], ["--size"], ["extra"]])
    return line


# --- the fuzzing loop -----------------------------------------------------------------------------

def make_checkpoints(box: Sandbox, cap: float, grace: float) -> None:
    """One tiny run of each trainer, whose checkpoints the evaluating commands read."""
    rng = random.Random(0)
    for kind, script in (("unet", "panosis-train"), ("panoptic", "panosis-panoptic"),
                         ("oslsm", "panosis-oneshot-train"), ("osmis", "panosis-osmis-train")):
        area = box.fixtures / f"run-{kind}"
        area.mkdir()
        line = base_line(script, box, area, rng, sub="train")
        outcome = run_forked(script, line, box, area, cap * 4, grace)
        if outcome.status != 0:
            raise SystemExit(f"fixture {kind}: {script} {' '.join(line)} failed:\n{outcome.stderr[-3000:]}")
        box.checkpoints[kind] = area / "out" / "last.pt"


def fuzz(scripts: list, runs: int, seed: int, cap: float, grace: float, root: Path) -> int:
    for script in SCRIPTS:  # imported once, before any run: every child runs the same code
        module_of(script)
    box = Sandbox(root)
    make_checkpoints(box, cap, grace)
    counts = defaultdict(Counter)
    failures = []
    number = 0
    for script in scripts:
        rng = random.Random(f"{seed}:{script}")
        for _ in range(runs):
            number += 1
            area = box.runs / str(number)
            area.mkdir()
            line = mutate(script, base_line(script, box, area, rng), box, area, rng)
            before = box.snapshot((area,))
            print(f"[{number}] {script} {' '.join(repr(w) if not w or ' ' in w else w for w in line)}", flush=True)
            outcome = run_forked(script, line, box, area, cap, grace)
            after = box.snapshot((area,))
            changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
            problem = verdict(script, line, outcome, changed, area)
            kind = ("interrupted" if outcome.interrupted else f"exit {outcome.status}") if not problem else "FAILED"
            counts[script][kind] += 1
            print(f"    -> {kind} in {outcome.seconds:.1f} s", flush=True)
            if problem:
                failures.append((script, line, problem, outcome))
                print(f"    !! {problem}\n    stderr: {outcome.stderr[-1500:]}", flush=True)
            shutil.rmtree(area, ignore_errors=True)
    print("\nruns per command and outcome:")
    for script in scripts:
        print(f"  {script:28s} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts[script].items())))
    print(f"fuzzed {number} runs, {len(failures)} failed")
    for script, line, problem, outcome in failures:
        print(f"\nFAILED {script} {' '.join(line)}\n  {problem}\n  {outcome.stderr[-800:]}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per command")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--command", action="append", choices=SCRIPTS, help="only these commands")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds before a run is interrupted")
    parser.add_argument("--grace", type=float, default=15.0, help="seconds an interrupted run has to stop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fuzz-cli-") as root:
        return fuzz(args.command or SCRIPTS, args.runs, args.seed, args.cap, args.grace, Path(root))


if __name__ == "__main__":
    sys.exit(main())

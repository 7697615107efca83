"""The bars the benchmarks are read against, in one place for the report and the plots: per
device type, the largest ratio to nn.Conv2d allowed for forward+backward (a training step for
the U-Net), for forward alone and for peak memory, and the smallest speed-up over the peer
(torch-harmonics' fwd+bwd time over EquiConv's)."""

TARGETS = {
    "cpu": {"forward_backward": 1.5, "forward": 1.3, "memory": 1.5, "peer_speedup": 2.0},
    "cuda": {"forward_backward": 1.5},
}
# Measures where more is better; the others are ceilings.
FLOORS = {"peer_speedup"}


def _peak_ratio(mode: dict):
    peaks = mode.get("peak_bytes", {})
    return peaks["equiconv"] / peaks["conv2d"] if peaks.get("equiconv") and peaks.get("conv2d") else None


def measures(row: dict) -> dict:
    """A results row's value for each targeted measure (None where it was not measured)."""
    if row["suite"] == "unet":
        step = row.get("train_step", {})
        return {"forward_backward": step.get("ratio"), "memory": _peak_ratio(step)}
    fwd, both = row.get("forward", {}), row.get("forward_backward", {})
    peer = both.get("ratios", {}).get("torch_harmonics")
    return {"forward_backward": both.get("ratio"), "forward": fwd.get("ratio"), "memory": _peak_ratio(both),
            "peer_speedup": peer / both["ratio"] if peer and both.get("ratio") else None}


def meets(measure: str, value: float, target: float) -> bool:
    return value >= target if measure in FLOORS else value <= target

"""Sanity check of the deformable-convolution comparison: torchvision's deform_conv2d, fed
equiconv.deform_offsets, must compute what EquiConv2d computes wherever their boundary rules
agree, i.e. where no tap wraps around in longitude or crosses a pole (deform_conv2d reads zeros
there). A mismatch is recorded in the results, never hidden."""
import torch

import equiconv

TOLERANCE = {torch.float32: 1e-3, torch.float64: 1e-6}  # relative to the largest output
REDUCED_TOLERANCE = 5e-2


def interior_mask(rows: torch.Tensor, cols: torch.Tensor, height: int, width: int, stride_w: int,
                  out_w: int) -> torch.Tensor:
    """(Ho, Wo) bool: the outputs all of whose taps (``equiconv.sampling_grid``'s ``rows`` and
    ``cols``, column relative to ``q * stride_w``) fall inside the image."""
    row_inside = (rows.amin(dim=(1, 2)) >= 0) & (rows.amax(dim=(1, 2)) <= height - 1)
    shift = torch.arange(out_w, dtype=cols.dtype) * stride_w
    left = cols.amin(dim=(1, 2))[:, None] + shift
    right = cols.amax(dim=(1, 2))[:, None] + shift
    return row_inside[:, None] & (left >= 0) & (right <= width - 1)


def _forward(layer, x):
    """(output as float32, None), or (None, the error's first line) when the layer cannot run."""
    try:
        with torch.no_grad():
            return layer(x).float(), None
    except (RuntimeError, NotImplementedError, TypeError, ValueError) as error:
        return None, str(error).splitlines()[0] if str(error) else type(error).__name__


def deform_agreement(case, x: torch.Tensor, layers: dict, dtype: torch.dtype) -> dict:
    """Forward outputs of deform_conv2d and of EquiConv2d (or, where the compiled core cannot
    run, the reference) compared on the interior outputs of the layer."""
    rows, cols = equiconv.sampling_grid(case.height, case.width, case.kernel_size, case.stride, case.padding)
    mask = interior_mask(rows, cols, case.height, case.width, case.stride, case.out_size[1]).to(x.device)
    if not mask.any():
        return {"skipped": "no output of this layer has all its taps inside the image"}
    tested, failure = _forward(layers["deform_conv2d"], x)
    if tested is None:
        return {"skipped": f"deform_conv2d: {failure}"}
    failures = []
    for name in ("equiconv", "reference"):
        expected, failure = _forward(layers[name], x) if name in layers else (None, "not run")
        if expected is not None:
            break
        failures.append(f"{name}: {failure}")
    else:
        return {"skipped": "nothing to compare with (" + "; ".join(failures) + ")"}
    diff = (tested - expected).abs().amax(dim=(0, 1))[mask].max().item()
    scale = expected.abs().amax(dim=(0, 1))[mask].max().item()
    tolerance = TOLERANCE.get(dtype, REDUCED_TOLERANCE)
    return {"against": name, "region": "outputs whose taps neither wrap nor cross a pole",
            "outputs": int(mask.sum()), "of": mask.numel(), "max_abs_diff": diff, "max_abs_output": scale,
            "tolerance": tolerance, "ok": diff <= tolerance * max(scale, 1e-12)}

"""Fuzzes equiconv's public API with random, often invalid, arguments and values.

Every call must either return what the pure-PyTorch reference returns for the same arguments,
or raise ValueError/TypeError/RuntimeError whose message names one of the call's arguments.
Run as a script, in its own process, by tests/equiconv/fuzz/test_fuzz_api.py: an abort (a crash in the compiled
core) then fails that test instead of killing pytest. Each example is printed before it runs,
so the last line printed names the one that crashed.

    python tests/equiconv/fuzz/fuzz_api.py --examples 2000
"""
import argparse
import copy
import math
import re
import resource
import sys
import warnings

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from torch import nn

import equiconv
from equiconv import EquiConv2d, reference
from equiconv.functional import equi_avg_pool2d, equi_conv2d, equi_conv_transpose2d, equi_max_pool2d

ALLOWED = (ValueError, TypeError, RuntimeError)
# Every argument name of the public calls below; an error must name one of them.
NAMES = ("input", "weight", "bias", "stride", "padding", "dilation", "groups", "lat_range", "lon_span",
         "kernel_size", "height", "width", "in_channels", "out_channels", "backend", "padding_mode",
         "dtype", "device", "output_padding")
NAMED = re.compile(r"\b(" + "|".join(NAMES) + r")\b")

# --- argument strategies: mostly valid, often not --------------------------------------------------

NUMPY_INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8)
small_ints = st.integers(-2, 5)
odd_ints = st.sampled_from([0, -1, 2**31, 2**62, 10**20])
int_like = st.one_of(small_ints, small_ints.map(abs).flatmap(lambda v: st.sampled_from(NUMPY_INTS).map(lambda t: t(v))))
bad_scalars = st.sampled_from([2.5, 3.0, True, False, "3", None, float("nan"), [], object()])


def hostile(usual):
    """An int, a pair, or something that is neither."""
    return st.one_of(usual, st.tuples(usual, usual), st.lists(usual, min_size=0, max_size=3), odd_ints,
                     bad_scalars, int_like)


extreme_floats = st.sampled_from([5e-324, 1e-300, 1e-100, 1e-30, 1e-12, 1e-9, 1e-6, 0.5, 89.999999999999,
                                  90.0, -90.0, 90.0000001, 360.0, 360.0000001, 0.0, -0.0, -1.0,
                                  float("nan"), float("inf"), -float("inf")])
degrees = st.one_of(st.floats(-100, 100), extreme_floats)


@st.composite
def lat_ranges(draw, valid=True):
    kinds = ["full", "band", "tiny"] + ([] if valid else ["random", "bad"])
    kind = draw(st.sampled_from(kinds))
    if kind == "full":
        return (90.0, -90.0)
    if kind == "band":
        top = draw(st.floats(-60.0, 90.0))
        return (top, draw(st.floats(-90.0, top - 1.0)))
    if kind == "tiny":
        top = draw(st.sampled_from([90.0, 0.0, -89.0, 45.0]))
        return (top, top - draw(st.sampled_from([1e-12, 1e-9, 1e-6, 1e-3])))
    if kind == "random":
        return (draw(degrees), draw(degrees))
    return draw(st.sampled_from([(True, False), (90,), (90, 0, -90), "full", 45.0, None, (np.float32(30), -30),
                                 (90, -90), ("90", "-90")]))


def lon_spans(valid=True):
    usual = st.one_of(st.just(360.0), st.floats(1e-3, 360.0), st.sampled_from([1e-6, 1e-9, 0.5, 180]))
    if valid:
        return usual
    return st.one_of(usual, extreme_floats, st.sampled_from([True, "360", None, np.float32(180.0), 400]))


DTYPES = (torch.float64, torch.float32, torch.bfloat16, torch.float16, torch.int64, torch.bool, torch.complex64)


@st.composite
def tensors(draw, shape, dtype, device):
    """A tensor of shape and dtype, in a random layout, sometimes holding NaN or Inf."""
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    t = torch.randn(shape, generator=gen, dtype=torch.float64)
    if t.numel() and draw(st.integers(0, 5)) == 0:
        t.view(-1)[draw(st.integers(0, t.numel() - 1))] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    t = t.to(dtype) if dtype.is_floating_point or dtype.is_complex else (t * 3).to(dtype)
    layout = draw(st.sampled_from(["contiguous", "channels_last", "strided"]))
    if layout == "channels_last" and t.dim() == 4:
        t = t.contiguous(memory_format=torch.channels_last)
    elif layout == "strided" and t.dim() >= 1:  # the same values, read through a non-contiguous view
        t = torch.cat([t, t], dim=-1)[..., ::2]
    return t.to(device)


def mutate(draw, call, hostile_values):
    """Replaces 0, 1 or 2 arguments of a valid call (half the calls stay valid) by hostile values."""
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        name = draw(st.sampled_from(sorted(hostile_values)))
        call[name] = draw(hostile_values[name])
    return call


GEOMETRY_HOSTILE = {"kernel_size": hostile(st.integers(-1, 4)), "stride": hostile(st.integers(-1, 3)),
                    "padding": st.one_of(hostile(st.integers(-1, 3)), st.sampled_from(["same", "valid", "full"])),
                    "dilation": hostile(st.integers(-1, 3)), "lat_range": lat_ranges(valid=False),
                    "lon_span": lon_spans(valid=False)}


@st.composite
def valid_geometry(draw):
    steps = st.sampled_from([1, 1, 1, 2, 3])
    return dict(stride=(draw(steps), draw(steps)),
                padding=draw(st.one_of(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.integers(0, 3),
                                       st.sampled_from(["same", "valid"]))),
                dilation=(draw(steps), draw(steps)), lat_range=draw(lat_ranges()),
                lon_span=draw(lon_spans()))


@st.composite
def conv_calls(draw, mutations=True):
    """Arguments of one equi_conv2d call: tensors, geometry and ranges."""
    device = draw(st.sampled_from(["cpu", "cpu", "cpu", "meta"]))
    dtype = draw(st.sampled_from(DTYPES[:2] * 12 + DTYPES))
    g = draw(st.integers(1, 3))
    n, c = draw(st.integers(0, 2)), g * draw(st.integers(0, 2))
    h, w = draw(st.one_of(st.integers(3, 12), st.integers(3, 12), st.integers(0, 2))), \
        draw(st.one_of(st.integers(5, 16), st.integers(5, 16), st.integers(0, 4)))
    shape = draw(st.sampled_from([[n, c, h, w]] * 24 + [[c, h, w]] * 4 + [[h, w], [1, n, c, h, w]]))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    out = g * draw(st.integers(0, 2))
    call = dict(input=draw(tensors(shape, dtype, device)), weight=draw(tensors([out, c // g, kh, kw], dtype, device)),
                bias=draw(st.sampled_from([None, draw(tensors([out], dtype, device))])), groups=g,
                **draw(valid_geometry()))
    if not mutations:
        return call
    hostile_geometry = {k: v for k, v in GEOMETRY_HOSTILE.items() if k != "kernel_size"}
    return mutate(draw, call, dict(hostile_geometry, groups=hostile(st.integers(-1, 3)),
                                   weight=st.builds(lambda t: t, tensors([out + 1, c, kh, kw], dtype, device)),
                                   bias=st.sampled_from([[0.0] * out, torch.zeros(out + 1), torch.zeros(out, dtype=torch.int64)]),
                                   input=st.sampled_from([[[0.0]], torch.zeros(1, c, h, w, dtype=torch.int64),
                                                          torch.zeros(1, c, h, w, device="meta")])))


@st.composite
def geometry_calls(draw):
    sizes = st.one_of(st.integers(1, 64), st.integers(64, 4096))
    call = dict(height=draw(sizes), width=draw(sizes), kernel_size=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
                **draw(valid_geometry()))
    bad_sizes = st.one_of(st.integers(-2, 2), int_like, odd_ints, bad_scalars)
    return mutate(draw, call, dict(GEOMETRY_HOSTILE, height=bad_sizes, width=bad_sizes))


@st.composite
def module_calls(draw):
    call = draw(conv_calls(mutations=False))
    x = call.pop("input")
    weight = call.pop("weight")
    kwargs = dict(call, in_channels=x.shape[-3] if x.dim() >= 3 else 1, out_channels=weight.shape[0],
                  kernel_size=tuple(weight.shape[2:]) if weight.dim() == 4 else 3, bias=call["bias"] is not None,
                  dtype=x.dtype if x.is_floating_point() else None, device=x.device)
    channels = st.one_of(st.integers(-1, 6), int_like, odd_ints, bad_scalars)
    kwargs = mutate(draw, kwargs, dict(in_channels=channels, out_channels=channels, groups=hostile(st.integers(-1, 3)),
                                       dtype=st.sampled_from([torch.int64, torch.float16, None]),
                                       device=st.sampled_from(["meta", "cpu"])))
    return kwargs, x


@st.composite
def networks(draw):
    """A small network of torch.nn layers, some of them convertible, and an input for it."""
    layers, channels = [], 3
    for _ in range(draw(st.integers(1, 3))):
        out = draw(st.integers(1, 4))
        k = draw(st.sampled_from([1, 2, 3]))
        layers.append(nn.Conv2d(channels, out, k, stride=draw(st.integers(1, 2)), padding=k // 2,
                                padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))))
        if draw(st.booleans()):
            layers.append(nn.ReLU())
        extra = draw(st.sampled_from([None, "max", "avg", "up", "resize"]))
        if extra == "max":
            layers.append(nn.MaxPool2d(draw(st.integers(1, 2)), padding=0))
        elif extra == "avg":
            layers.append(nn.AvgPool2d(draw(st.integers(1, 2))))
        elif extra == "up":
            layers.append(nn.ConvTranspose2d(out, out, draw(st.integers(1, 3)), stride=draw(st.integers(1, 2))))
        elif extra == "resize":
            layers.append(nn.Upsample(scale_factor=2, mode=draw(st.sampled_from(["nearest", "bilinear"]))))
        channels = out
    net = nn.Sequential(*layers).double()
    x = torch.randn(1, 3, draw(st.integers(4, 12)), draw(st.integers(6, 16)), dtype=torch.float64)
    return net, x, draw(lat_ranges(valid=draw(st.booleans()))), draw(lon_spans(valid=draw(st.booleans())))


@st.composite
def transpose_calls(draw):
    """Arguments of one equi_conv_transpose2d call: a convolution call's, with the weight laid out
    (in, out/groups, kH, kW) and an output_padding."""
    call = draw(conv_calls(mutations=False))
    x, weight, g = call["input"], call["weight"], call["groups"]
    c = x.shape[-3] if x.dim() >= 3 else 1
    call["weight"] = draw(tensors([c, weight.shape[0] // g, *weight.shape[2:]], x.dtype, x.device))
    if isinstance(call["padding"], str):
        call["padding"] = draw(st.integers(0, 2))
    call["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(call["stride"], call["dilation"]))
    return mutate(draw, call, dict(GEOMETRY_HOSTILE, output_padding=hostile(st.integers(-1, 3)),
                                   groups=hostile(st.integers(-1, 3))))


@st.composite
def pool_calls(draw):
    """Arguments of one equi_max_pool2d / equi_avg_pool2d call."""
    call = draw(conv_calls(mutations=False))
    pool = dict(input=call["input"], kernel_size=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                stride=draw(st.sampled_from([None, 1, 2, (2, 1)])), padding=draw(st.integers(0, 2)),
                dilation=call["dilation"], lat_range=call["lat_range"], lon_span=call["lon_span"])
    return draw(st.sampled_from(["max", "avg"])), mutate(draw, pool, GEOMETRY_HOSTILE)


CALLS = st.one_of(conv_calls().map(lambda c: ("functional", c)), geometry_calls().map(lambda c: ("geometry", c)),
                  module_calls().map(lambda c: ("module", c)), networks().map(lambda c: ("convert", c)),
                  transpose_calls().map(lambda c: ("transpose", c)), pool_calls().map(lambda c: ("pool", c)))
POOLS = {"max": (equi_max_pool2d, reference.equi_max_pool2d), "avg": (equi_avg_pool2d, reference.equi_avg_pool2d)}

# --- the checks --------------------------------------------------------------------------------------


def attempt(fn):
    """(result, None) or (None, error); errors outside ALLOWED propagate and fail the run."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(), None
    except ALLOWED as error:
        return None, error


def refused(error) -> str:
    message = str(error)
    assert NAMED.search(message), f"{type(error).__name__} names no argument: {message[:500]}"
    return "refused"


def assert_matches(got, want):
    """got (compiled) equals want (reference), within what the dtype allows; NaN where NaN."""
    if isinstance(got, (tuple, list)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert_matches(a, b)
        return
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype and got.device == want.device, (got.dtype, want.dtype, got.device, want.device)
    if got.device.type == "meta":
        return
    eps = torch.finfo(got.dtype).eps
    scale = 1.0 + want.double().nan_to_num(0, 0, 0).abs().max().item() if want.numel() else 1.0
    # float32 sums in another order than the reference; half types are one rounding of float32.
    tol = {torch.float64: 1e-9, torch.float32: 64 * eps}.get(got.dtype, 4 * eps)
    torch.testing.assert_close(got.double(), want.double(), rtol=tol, atol=tol * scale, equal_nan=True)


def against_reference(op, ref, call):
    """The compiled op's result for call, compared with the reference's; or the named refusal."""
    got, error = attempt(lambda: op(**call))
    if error is not None:
        return refused(error)
    args = call
    if call["input"].dtype in (torch.bfloat16, torch.float16):  # the reference in float32 like the core
        args = {k: (v.float() if isinstance(v, torch.Tensor) else v) for k, v in call.items()}
    want, ref_error = attempt(lambda: ref(**args))
    assert ref_error is None, f"compiled accepted what the reference refused: {ref_error}"
    assert_matches(got, want.to(got.dtype))
    return got


def check(kind, call) -> str:
    """Runs one call; returns 'compared' or 'refused' (raising if the API misbehaved)."""
    if kind == "functional":
        got = against_reference(equi_conv2d, reference.equi_conv2d, call)
        if isinstance(got, str):
            return got
        if got.requires_grad is False and got.device.type == "cpu" and got.dtype == torch.float64:
            check_gradients(call)
    elif kind == "transpose":
        if isinstance(against_reference(equi_conv_transpose2d, reference.equi_conv_transpose2d, call), str):
            return "refused"
    elif kind == "pool":
        mode, args = call
        if isinstance(against_reference(*POOLS[mode], args), str):
            return "refused"
    elif kind == "geometry":
        got, error = attempt(lambda: equiconv.sampling_grid(**call))
        if error is not None:
            return refused(error)
        assert_matches(got, reference.sampling_grid(**call))
        offsets, error = attempt(lambda: equiconv.deform_offsets(**call))
        assert error is None and offsets.shape[1] == 2 * got[0].shape[1] * got[0].shape[2]
    elif kind == "module":
        kwargs, x = call
        module, error = attempt(lambda: EquiConv2d(**kwargs))
        if error is not None:
            return refused(error)
        ref_module = copy.deepcopy(module)
        ref_module.backend = "reference"
        got, error = attempt(lambda: module(x))
        if error is not None:
            return refused(error)
        want, ref_error = attempt(lambda: ref_module(x))
        assert ref_error is None, f"compiled module accepted what the reference refused: {ref_error}"
        assert_matches(got, want)
    else:
        net, x, lat_range, lon_span = call
        ref_net = copy.deepcopy(net)
        converted, error = attempt(lambda: equiconv.convert(net, lat_range=lat_range, lon_span=lon_span))
        if error is not None:
            return refused(error)
        ref_net = equiconv.convert(ref_net, lat_range=lat_range, lon_span=lon_span, backend="reference")
        got, error = attempt(lambda: converted(x))
        if error is not None:
            return refused(error)
        assert_matches(got, ref_net(x))
    return "compared"


def check_gradients(call):
    """Backward of a float64 call: gradients equal the reference's (NaN where NaN)."""
    grads = []
    for fn in (equi_conv2d, reference.equi_conv2d):
        leaves = {k: v.detach().clone().requires_grad_() if isinstance(v, torch.Tensor) else v
                  for k, v in call.items()}
        out = fn(**leaves)
        out.backward(torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out))
        grads.append([leaves[k].grad for k in ("input", "weight", "bias") if isinstance(leaves[k], torch.Tensor)])
    assert_matches(*grads)


def describe(kind, call):
    def short(v):
        if isinstance(v, torch.Tensor):
            return f"Tensor{tuple(v.shape)}:{v.dtype}:{v.device}:{'cl' if v.dim() == 4 and v.is_contiguous(memory_format=torch.channels_last) and not v.is_contiguous() else 'c' if v.is_contiguous() else 'nc'}"
        if isinstance(v, nn.Module):
            return " ".join(repr(m) for m in v.modules() if not list(m.children()))
        if isinstance(v, dict):
            return {k: short(x) for k, x in v.items()}
        if isinstance(v, (tuple, list)):
            return type(v)(short(x) for x in v)
        return v
    return f"{kind} {short(call)!r}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--memory-gib", type=int, default=8, help="address-space cap, so a runaway allocation fails")
    args = parser.parse_args()
    limit = args.memory_gib << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # convert's padding_mode warnings, TracerWarnings: not the subject
    counts = {}

    @settings(max_examples=args.examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(CALLS)
    def fuzz(case):
        kind, call = case
        print(describe(kind, call), flush=True)
        outcome = f"{kind} {check(kind, call)}"
        counts[outcome] = counts.get(outcome, 0) + 1

    fuzz()
    print(f"fuzzed {sum(counts.values())} calls: {counts}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

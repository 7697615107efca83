"""OperatorTester: the battery every operator's tests inherit, so that a new operator gets all of
it by declaring its cases (as torchvision's RoIOpTester and kornia's BaseTester do).

A subclass named ``Test<Op>`` declares
  * ``op``: the functional form as users call it (the compiled backend where there is one);
  * ``reference``: an independent pure-PyTorch implementation taking the same arguments;
  * ``make_case(rng, gen)``: one random call, its tensors float64 and contiguous, drawn from
    ``rng`` (a CaseRandom: sizes, options and ``rng.sphere()``) and ``gen`` (a torch.Generator:
    values);
  * ``library_op`` and ``library_args(args, kwargs)`` when ``op`` calls a torch.library op;
  * ``dtypes`` (float32 and float64 by default; bfloat16/float16 where the op supports them),
    ``tolerance`` per dtype, and ``bad_inputs``: (call, error type, message regex) triples;
  * ``test_opcheck = None`` for an op in pure PyTorch (no torch.library op to check);
  * ``slow_tests``: names of battery tests that are long for this op (tests/conftest.py marks
    them slow).
The battery: agreement with the reference over random cases, every dtype and both memory layouts
(values and gradients, the output in the input's layout); gradcheck and gradgradcheck in float64;
torch.library.opcheck in both layouts; torch.compile once; meta tensors give the output's shape,
dtype and layout; every bad input raises its error naming the argument.
"""
import dataclasses
import functools
import random

import pytest
import torch

LAYOUTS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
DTYPE_NAMES = {torch.float64: "float64", torch.float32: "float32", torch.bfloat16: "bfloat16",
               torch.float16: "float16"}


@dataclasses.dataclass
class Case:
    """One call: positional arguments (tensors and others) and keyword arguments."""
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)


class CaseRandom(random.Random):
    """random.Random for one case, which also draws the patch of sphere: the seed picks its kind
    (seed % 3), so any three consecutive seeds cover the whole sphere, a band and a partial panorama."""
    KINDS = ("sphere", "band", "partial")

    def __init__(self, seed: int):
        super().__init__(seed)
        self.kind = self.KINDS[seed % len(self.KINDS)]

    def sphere(self) -> dict:
        """lat_range/lon_span keywords of a patch of this case's kind."""
        if self.kind == "sphere":
            return dict(lat_range=(90.0, -90.0), lon_span=360.0)
        top = self.uniform(-40.0, 90.0)
        bottom = self.uniform(-90.0, top - 30.0)
        return dict(lat_range=(top, bottom), lon_span=360.0 if self.kind == "band" else self.uniform(40.0, 300.0))


def randn(gen: torch.Generator, *shape) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _converted(value, dtype, layout, requires_grad=False):
    """A floating tensor in ``dtype`` (4-D ones in ``layout``); anything else unchanged."""
    if not (isinstance(value, torch.Tensor) and value.is_floating_point()):
        return value
    out = value.detach().to(dtype)
    if out.dim() == 4:
        out = out.contiguous(memory_format=layout)
    return out.requires_grad_(requires_grad)


def _floating(args):
    return [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]


class OperatorTester:
    """Base class of each operator's test class; see the module docstring for what to declare."""
    op = None
    reference = None
    library_op = None
    dtypes = (torch.float32, torch.float64)
    seeds = range(3)
    tolerance = {torch.float64: 1e-10, torch.float32: 1e-4, torch.bfloat16: 5e-2, torch.float16: 1e-2}
    keeps_layout = True  # a channels_last input gives a channels_last output
    gradient_dtypes = None  # the dtypes whose gradients are compared (None: every dtype)
    bad_inputs = ()
    slow_tests = ()

    # --- what a subclass declares ------------------------------------------------------------------

    def make_case(self, rng: CaseRandom, gen: torch.Generator) -> Case:
        raise NotImplementedError(f"{type(self).__name__} must declare make_case")

    def library_args(self, args, kwargs) -> tuple:
        """The torch.library op's arguments for the functional call ``op(*args, **kwargs)``."""
        raise NotImplementedError(f"{type(self).__name__} declares library_op but not library_args")

    # --- parametrisation -------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc):
        """pytest calls this per test of the class: dtypes, layouts, seeds and bad inputs from the
        subclass's declarations."""
        names = metafunc.fixturenames
        if "dtype" in names:
            metafunc.parametrize("dtype", self.dtypes, ids=[DTYPE_NAMES[d] for d in self.dtypes])
        if "layout" in names:
            metafunc.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
        if "seed" in names:
            metafunc.parametrize("seed", list(self.seeds))
        if "bad_input" in names:
            metafunc.parametrize("bad_input", self.bad_inputs,
                                 ids=[f"{error.__name__}-{match}" for _, error, match in self.bad_inputs])

    # --- helpers -----------------------------------------------------------------------------------

    def case(self, seed, dtype=torch.float64, layout=torch.contiguous_format, requires_grad=False) -> Case:
        """The seed's case with its floating tensors in ``dtype`` and ``layout``: the same values
        (rounded) whatever the dtype, so every dtype is compared with one float64 reference."""
        raw = self.make_case(CaseRandom(seed), torch.Generator().manual_seed(seed))
        return Case(tuple(_converted(a, dtype, layout, requires_grad) for a in raw.args), raw.kwargs)

    def call(self, fn_name, case):
        return getattr(type(self), fn_name)(*case.args, **case.kwargs)

    def assert_close(self, got, want, dtype, what):
        tol = self.tolerance[dtype]
        scale = max(1.0, want.abs().max().item()) if want.numel() else 1.0
        torch.testing.assert_close(got.to(torch.float64), want, rtol=tol, atol=tol * scale,
                                   msg=lambda m: f"{type(self).__name__} {what} in {DTYPE_NAMES[dtype]}: {m}")

    # --- the battery -----------------------------------------------------------------------------

    def test_matches_reference(self, seed, dtype, layout):
        """Values and gradients against the reference in float64 on contiguous inputs."""
        case = self.case(seed, dtype, layout, requires_grad=True)
        want_case = self.case(seed, requires_grad=True)
        out, want = self.call("op", case), self.call("reference", want_case)
        assert out.dtype == dtype, f"{type(self).__name__} gave {out.dtype} for {dtype} input"
        first = case.args[0]
        if layout is torch.channels_last and self.keeps_layout and not first.is_contiguous():
            # (an input with one channel or one pixel is both: torch then picks either layout)
            assert out.is_contiguous(memory_format=torch.channels_last), "channels_last input, output not"
        self.assert_close(out.detach(), want.detach(), dtype, "output")
        probe = torch.linspace(-1, 1, want.numel(), dtype=torch.float64).view_as(want)
        if self.gradient_dtypes is not None and dtype not in self.gradient_dtypes:
            return
        (out * probe.to(dtype)).sum().backward()
        (want * probe).sum().backward()
        for i, (got_t, want_t) in enumerate(zip(_floating(case.args), _floating(want_case.args))):
            assert got_t.grad is not None and got_t.grad.dtype == dtype, f"gradient of tensor argument {i}"
            self.assert_close(got_t.grad, want_t.grad, dtype, f"gradient of tensor argument {i}")

    def test_gradcheck_and_gradgradcheck(self):
        """First and second derivatives in float64 against finite differences."""
        case = self.case(0)
        where = [i for i, a in enumerate(case.args) if isinstance(a, torch.Tensor) and a.is_floating_point()]

        def fn(*tensors):
            args = list(case.args)
            for i, t in zip(where, tensors):
                args[i] = t
            return type(self).op(*args, **case.kwargs)

        tensors = tuple(case.args[i].detach().clone().requires_grad_() for i in where)
        assert torch.autograd.gradcheck(fn, tensors)
        assert torch.autograd.gradgradcheck(fn, tensors)

    def test_opcheck(self, layout):
        """Schema, autograd registration, fake kernel (shapes and strides) and AOT dispatch."""
        case = self.case(0, layout=layout, requires_grad=True)
        torch.library.opcheck(self.library_op, self.library_args(case.args, case.kwargs))

    def test_torch_compile_matches_eager(self):
        case = self.case(0, torch.float32)
        compiled = torch.compile(functools.partial(type(self).op, **case.kwargs), fullgraph=True,
                                 backend="aot_eager")
        torch.testing.assert_close(compiled(*case.args), self.call("op", case))

    def test_meta_tensors_give_the_output_shape(self, layout):
        case = self.case(0, torch.float32, layout)
        meta = Case(tuple(a.to("meta") if isinstance(a, torch.Tensor) else a for a in case.args), case.kwargs)
        got, want = self.call("op", meta), self.call("op", case)
        assert got.device.type == "meta"
        assert (got.shape, got.dtype) == (want.shape, want.dtype)
        assert got.is_contiguous(memory_format=layout) == want.is_contiguous(memory_format=layout)

    def test_bad_input_is_named(self, bad_input):
        call, error, match = bad_input
        with pytest.raises(error, match=match):
            call()


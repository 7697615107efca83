"""Second-order gradients (R1 penalties, gradient penalties) through equi_conv2d and
equi_max_pool2d: non-zero, and equal to the reference's."""
import pytest
import torch
from torch import nn

import equiconv
from equiconv import EquiConv2d
from equiconv.functional import equi_conv2d

F64 = torch.float64


@pytest.mark.slow  # float64 gradgradcheck of the convolution
@pytest.mark.parametrize("kwargs", [
    dict(padding=1),
    dict(padding=1, lat_range=(60.0, -10.0), lon_span=120.0),
    dict(stride=2, padding=(2, 1), dilation=2, groups=2),
    dict(padding=(3, 1), dilation=(2, 1)),  # pole-heavy: rows cross the poles
])
def test_gradgradcheck_float64(kwargs):
    groups = kwargs.get("groups", 1)
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 8, dtype=F64, requires_grad=True)
    w = torch.randn(2, 2 // groups, 3, 3, dtype=F64, requires_grad=True)
    b = torch.randn(2, dtype=F64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda x, w, b: equi_conv2d(x, w, b, **kwargs), (x, w, b))


def _r1_step(backend):
    """One R1-penalised step of a small EquiConv2d discriminator; returns its new weights."""
    torch.manual_seed(3)
    d = nn.Sequential(EquiConv2d(3, 4, 3, padding=1, backend=backend), nn.LeakyReLU(0.2),
                      EquiConv2d(4, 1, 3, stride=2, padding=1, backend=backend)).double()
    opt = torch.optim.SGD(d.parameters(), lr=0.1)
    real = torch.randn(2, 3, 8, 16, dtype=F64, requires_grad=True)
    score = d(real).sum()
    (grad,) = torch.autograd.grad(score, real, create_graph=True)
    penalty = grad.pow(2).sum()
    opt.zero_grad()
    (penalty - score).backward()
    opt.step()
    return [p.detach().clone() for p in d.parameters()]


def test_r1_penalty_step_equals_the_reference():
    for got, want in zip(_r1_step("compiled"), _r1_step("reference")):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_double_backward_is_not_zero():
    x = torch.randn(1, 1, 6, 8, dtype=F64, requires_grad=True)
    w = torch.randn(1, 1, 3, 3, dtype=F64, requires_grad=True)
    (gx,) = torch.autograd.grad(equi_conv2d(x, w, padding=1).sum(), x, create_graph=True)
    (gw,) = torch.autograd.grad(gx.pow(2).sum(), w)
    (ref_gx,) = torch.autograd.grad(equi_conv2d(x, w, padding=1, backend="reference").sum(), x, create_graph=True)
    (ref_gw,) = torch.autograd.grad(ref_gx.pow(2).sum(), w)
    assert gw.abs().sum() > 0
    torch.testing.assert_close(gw, ref_gw, rtol=1e-10, atol=1e-10)


def test_max_pool_r1_penalty_matches_the_reference():
    """The issue's case: an R1-style penalty through conv + max pool (a second-order gradient)."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 16, dtype=F64)
    w = torch.randn(4, 3, 3, 3, dtype=F64)
    grads = []
    for backend in ("compiled", "reference"):
        ws, xs = w.clone().requires_grad_(), x.clone().requires_grad_()
        y = equiconv.functional.equi_max_pool2d(
            equiconv.functional.equi_conv2d(xs, ws, padding=1, backend=backend), 3, 2, 1, backend=backend)
        (gx,) = torch.autograd.grad(y.square().sum(), xs, create_graph=True)
        grads.append(torch.autograd.grad(gx.square().sum(), ws)[0])
    torch.testing.assert_close(*grads)

"""The ops the compiled core registers in the torch.library namespace ``equiconv``, found at run
time, backward ops included: each has samples, gradients of every order (gradgradcheck) and
passes opcheck (schema, autograd, fake kernel) in both memory layouts."""
import warnings

import pytest
import torch

import equiconv  # noqa: F401  (registers torch.ops.equiconv.*)

F64 = torch.float64
CL = torch.channels_last
SPHERE = ([90.0, -90.0], 360.0)
PARTIAL = ([60.0, -40.0], 300.0)
POOL = ([3, 3], [2, 2], [1, 1], [1, 1])


def registered_ops():
    """Every op the compiled core declares in the equiconv namespace, found at run time."""
    return sorted(name.split("::")[1] for name in torch._C._dispatch_get_all_op_names()
                  if name.startswith("equiconv::"))


def _t(*shape, layout, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=F64, generator=g).contiguous(memory_format=layout)


def _max_indices(x, geometry, sphere):
    return torch.ops.equiconv.equi_max_pool2d(x, *geometry, *sphere)[1]


def samples(layout, sphere):
    """Arguments for each op, its 4-D tensors in ``layout``. A new op must get a line here
    (test_every_op_has_samples fails until it does)."""
    x = _t(2, 4, 7, 12, layout=layout, seed=0)
    w = _t(6, 2, 3, 3, layout=layout, seed=1)
    b = _t(6, seed=2, layout=torch.contiguous_format)
    conv = ([1, 2], [1, 1], [1, 1], 2, *sphere)
    conv_out = torch.ops.equiconv.equi_conv2d(x, w, b, *conv)
    go_conv = _t(*conv_out.shape, layout=layout, seed=3)
    wt = _t(4, 3, 3, 3, layout=layout, seed=4)
    transposed = ([2, 2], [1, 1], [1, 1], [1, 1], 1, *sphere)
    pooled = torch.ops.equiconv.equi_avg_pool2d(x, *POOL, *sphere)
    go_pool = _t(*pooled.shape, layout=layout, seed=5)
    return {
        "equi_conv2d": (x, w, b, *conv),
        "equi_conv2d_backward": (go_conv, x, w, *conv, [True, True, True]),
        "equi_conv_transpose2d": (x, wt, _t(3, layout=torch.contiguous_format, seed=6), *transposed),
        "equi_max_pool2d": (x, *POOL, *sphere),
        "equi_max_pool2d_backward": (go_pool, _max_indices(x, POOL, sphere), [7, 12], *POOL, *sphere),
        "equi_avg_pool2d": (x, *POOL, *sphere),
        "equi_avg_pool2d_backward": (go_pool, [7, 12], *POOL, *sphere),
        "sampling_grid": (7, 12, [3, 3], [1, 2], [1, 1], [1, 1], *sphere),
        "sampling_plan": (7, 12, [3, 3], [1, 2], [1, 1], [1, 1], *sphere),
    }


def tensor_ops():
    """The operators and their backward ops: every registered op that takes a tensor. The others
    (sampling_grid, sampling_plan) turn numbers into geometry; they are CompositeImplicitAutograd
    in the core and have no fake kernel to check."""
    return [name for name in registered_ops()
            if any(isinstance(a.type, torch.TensorType)
                   for a in getattr(torch.ops.equiconv, name).default._schema.arguments)]


def test_every_op_has_samples():
    assert registered_ops() == sorted(samples(torch.contiguous_format, SPHERE))


def _differentiable(args):
    return [i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.is_floating_point()]


@pytest.mark.slow  # float64 gradgradcheck of every op, backward ops included
@pytest.mark.parametrize("sphere", [SPHERE, PARTIAL], ids=["sphere", "partial"])
@pytest.mark.parametrize("name", registered_ops())
def test_every_op_has_gradients_of_every_order(name, sphere):
    """gradgradcheck in float64 through each op, forward and backward ops alike. A missing
    autograd registration only warns in torch (and gives wrong higher gradients): warnings fail."""
    op = getattr(torch.ops.equiconv, name).default
    args = list(samples(torch.contiguous_format, sphere)[name])
    where = _differentiable(args)
    if not where:  # geometry: no tensor in, nothing to differentiate
        assert not any(t.requires_grad for t in torch.utils._pytree.tree_leaves(op(*args))
                       if isinstance(t, torch.Tensor))
        return

    def call(*tensors):
        full = list(args)
        for i, t in zip(where, tensors):
            full[i] = t
        return op(*full)

    tensors = tuple(args[i].detach().clone().requires_grad_() for i in where)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.autograd.gradcheck(call, tensors)
        assert torch.autograd.gradgradcheck(call, tensors)


@pytest.mark.parametrize("layout", [torch.contiguous_format, CL], ids=["contiguous", "channels_last"])
@pytest.mark.parametrize("name", tensor_ops())
def test_opcheck_every_op(name, layout):
    """Schema, autograd registration, fake kernel (shapes and strides) and AOT dispatch of each op."""
    args = samples(layout, SPHERE)[name]
    args = tuple(a.detach().clone().requires_grad_() if isinstance(a, torch.Tensor) and a.is_floating_point() else a
                 for a in args)
    torch.library.opcheck(getattr(torch.ops.equiconv, name).default, args)


def test_conv_backward_op_takes_channels_last_input_without_an_input_gradient():
    """The compiled op itself, not through autograd: an unrequested grad_input is an empty
    placeholder and must not be given the input's channels_last layout (it raised 'required rank
    4 tensor to use channels_last format')."""
    x = torch.randn(2, 3, 8, 16, dtype=torch.float64).to(memory_format=CL)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    go = torch.randn(2, 4, 8, 16, dtype=torch.float64)
    geometry = ([1, 1], [1, 1], [1, 1], 1, [90.0, -90.0], 360.0)
    op = torch.ops.equiconv.equi_conv2d_backward
    grad_input, grad_weight, _ = op(go, x, w, *geometry, [False, True, False])
    assert grad_input.numel() == 0
    torch.testing.assert_close(grad_weight, op(go, x.contiguous(), w, *geometry, [False, True, False])[1])

"""Convolution layer configurations as the hypothesis strategies draw them (tests.helpers.strategies
.layers), turned into tensors and keyword arguments; shared by the CPU and CUDA tests."""
import torch

F64 = torch.float64


def make_tensors(cfg, dtype=F64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(cfg["batch"], cfg["in_channels"], cfg["height"], cfg["width"], generator=g, dtype=dtype)
    w = torch.randn(cfg["out_channels"], cfg["in_channels"] // cfg["groups"], *cfg["kernel_size"],
                    generator=g, dtype=dtype)
    b = torch.randn(cfg["out_channels"], generator=g, dtype=dtype)
    return x, w, b


def conv_kwargs(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"],
                lat_range=cfg["lat_range"], lon_span=cfg["lon_span"])


def pole_layer(**overrides):
    """A full-sphere layer whose taps fall within half a pixel of a pole (row -1 / row H)."""
    cfg = dict(batch=2, in_channels=2, out_channels=2, groups=1, kernel_size=(3, 3), stride=(1, 1),
               padding=(2, 1), dilation=(2, 1), height=8, width=16, lat_range=(90.0, -90.0), lon_span=360.0)
    cfg.update(overrides)
    return cfg

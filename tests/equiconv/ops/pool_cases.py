"""Pooling configurations (the convolution layers of tests.helpers.strategies.layers, read as
windows) turned into images and keyword arguments; shared by the CPU and CUDA host tests."""
import torch

F64 = torch.float64


def pool_kwargs(cfg):
    return dict(kernel_size=cfg["kernel_size"], stride=cfg["stride"], padding=cfg["padding"],
                dilation=cfg["dilation"], lat_range=cfg["lat_range"], lon_span=cfg["lon_span"])


def image(cfg, seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(cfg["batch"], cfg["in_channels"], cfg["height"], cfg["width"], generator=g, dtype=dtype)


POLE = dict(batch=2, in_channels=2, out_channels=2, groups=1, kernel_size=(3, 3), stride=(1, 1), padding=(2, 1),
            dilation=(2, 1), height=8, width=16, lat_range=(90.0, -90.0), lon_span=360.0)

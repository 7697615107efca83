"""The OSMIS networks: a generator of multi-scale images and a mask, and a discriminator with
low-level, content and layout branches; every 3x3 convolution standard or spherical."""
from .discriminator import Discriminator
from .generator import Generator

__all__ = ["Discriminator", "Generator"]

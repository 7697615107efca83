"""OSMIS (one-shot synthesis of images and segmentation masks) for panoramas: a GAN that learns
from one image-mask pair and generates new pairs, with standard or spherical convolutions.
Command lines: ``python -m panosis_models.osmis.train`` and ``python -m
panosis_models.osmis.generate``."""
from .discriminator import Discriminator
from .generator import Generator
from .pair import TrainingPair, load_pair, synthetic_pair

__all__ = ["Discriminator", "Generator", "TrainingPair", "load_pair", "synthetic_pair"]

"""Data for the PanOSIS models: the CVRG-Pano label scheme, the synthetic street renderer (the
built-in default data set), data sets of (image, mask) pairs and sphere-preserving
augmentation."""
from .augment import PanoramaAugment
from .datasets import (PanoramaFolder, SyntheticPanoramas, Transformed, prerender, resize_pair,
                       split_indices)
from .palette import CLASS_NAMES, NUM_CLASSES, PALETTE, colour_to_labels, labels_to_colour
from .render import (RENDERER_VERSION, panorama_directions, perspective_directions,
                     render_panorama, render_perspective)
from .world import World

__all__ = [
    "CLASS_NAMES", "NUM_CLASSES", "PALETTE", "RENDERER_VERSION", "PanoramaAugment",
    "PanoramaFolder", "SyntheticPanoramas", "Transformed", "World", "colour_to_labels",
    "labels_to_colour", "panorama_directions", "perspective_directions", "prerender",
    "render_panorama", "render_perspective", "resize_pair", "split_indices",
]

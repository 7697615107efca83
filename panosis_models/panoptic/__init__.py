"""Panoptic segmentation of panoramas (Panoptic-DeepLab on the sphere): a run's configuration,
its losses, its training and evaluation, and the post-processing from network outputs to
Cityscapes ``instanceIds`` maps. The loop's shared steps are the engine's."""

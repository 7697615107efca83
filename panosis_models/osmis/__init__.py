"""OSMIS (one-shot synthesis of images and segmentation masks) for panoramas: the training of
a GAN (its networks are in ``panosis_models.models.osmis``) that learns from one image-mask
pair, and the sampling of new pairs, with standard or spherical convolutions."""

"""Supervised semantic segmentation on panoramas (the PanOSIS U-Net): a run's configuration, its
training and its evaluation. The loop itself is the shared engine's."""

"""What every training job shares: checkpoints, output folders, distributed set-up and the
segmentation training loop."""

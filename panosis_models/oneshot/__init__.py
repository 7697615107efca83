"""One-shot segmentation of panoramas with OSLSM: a run's configuration, episodic training on a
fold's base classes, and evaluation on its novel classes in held-out worlds."""

"""Benchmarks of equiconv against standard convolution: every claim is a ratio measured in one run."""

"""The training loop and the files it writes (curves, reconstructions, samples)."""

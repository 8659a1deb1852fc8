"""Data sets (IDX files, the offline MNIST digits) and the small samples that go with models."""

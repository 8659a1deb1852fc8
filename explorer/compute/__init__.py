"""Pure torch and numpy: decoding, grids, KL, drawings, noise and devices. No Panel, no files."""

"""The command lines: ``vae-explorer`` (main.py, a module per command) and ``python train.py``
(train.py)."""

"""Train the VAE: ``python train.py --help`` (the loop lives in explorer/training/loop.py)."""

from explorer.training.loop import main

if __name__ == "__main__":
    raise SystemExit(main())

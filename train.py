"""Train the VAE: ``python train.py --help`` (the loop lives in explorer/training.py)."""

from explorer.training import main

if __name__ == "__main__":
    raise SystemExit(main())

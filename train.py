"""Train the VAE: ``python train.py --help`` (its command line is explorer/cli/train.py, the loop
explorer/training/loop.py)."""

from explorer.cli.train import main

if __name__ == "__main__":
    raise SystemExit(main())

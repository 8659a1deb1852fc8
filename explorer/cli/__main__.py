"""``python -m explorer.cli``: the ``vae-explorer`` command without its console script."""

import sys

from explorer.cli.main import main

if __name__ == "__main__":
    sys.exit(main())

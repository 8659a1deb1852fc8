"""The VAE latent explorer.

panel serve apps/explorer.py [--args --checkpoint PATH|ZOO-NAME]
"""

import os
import sys

# Bokeh runs this script with its folder first on sys.path, where this file shadows the package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p) != os.path.dirname(__file__)]

from explorer.app.options import TITLE, parse_args  # noqa: E402
from explorer.app.server import create_app  # noqa: E402

create_app(parse_args(sys.argv[1:])).servable(title=TITLE)

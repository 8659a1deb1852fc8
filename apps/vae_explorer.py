"""The VAE latent explorer.

panel serve apps/vae_explorer.py [--args --checkpoint PATH|ZOO-NAME]
"""

import sys

from explorer.app import create_app

create_app(sys.argv[1:]).servable(title="VAE latent explorer")

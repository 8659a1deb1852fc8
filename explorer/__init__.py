"""vae-explorer: an interactive explorer of a variational autoencoder's latent space."""

__version__ = "0.1.0"

"""The latent state without Panel: LatentModel, the slider table, bounded vectors, URL and JSON."""

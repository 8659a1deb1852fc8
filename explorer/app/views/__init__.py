"""The exploration views, one tab each and one module each, all on the session's LatentModel:
``base`` (what a view is), ``tabs`` (the views of a session and their tabs), ``session`` (what
they share), ``elements`` (their grid elements), and one module per view."""

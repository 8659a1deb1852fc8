"""A module that must never be imported by a name from a browser: importing it leaves a mark."""

import os

os.environ["VAE_EXPLORER_TRIPWIRE"] = "imported"


def make():
    raise AssertionError("a browser's name was imported")

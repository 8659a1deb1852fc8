"""The browser app, the only package that imports Panel: the Viewer, its sliders and views."""

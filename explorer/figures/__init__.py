"""PNG and GIF drawing: publication figures and animations of the views."""

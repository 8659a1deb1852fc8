"""The ways a model comes in: our checkpoints and the original app's (explorer.checkpoint), ONNX
graphs; each becomes a model the explorer decodes with."""

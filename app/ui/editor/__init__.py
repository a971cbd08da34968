"""UI: the editor feature."""

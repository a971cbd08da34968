"""UI: the run feature."""

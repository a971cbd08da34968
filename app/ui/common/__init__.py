"""UI: the common feature."""

"""UI: the lessons feature."""

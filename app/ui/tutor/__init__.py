"""UI: the tutor feature."""

"""Widgets: the main window, the editor, the chat panel, dialogs."""

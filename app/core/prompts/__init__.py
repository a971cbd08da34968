"""Prompts: chat messages, templates, the prompt plan of a tutor request, and the token budget."""

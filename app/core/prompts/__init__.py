"""Prompts: chat messages, the token budget, and turning a tutor request into messages."""

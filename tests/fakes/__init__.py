"""Test doubles that isolate logic: scripted backends standing in for llama.cpp."""

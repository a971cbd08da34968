"""Plain-Python core: no Qt, no llama_cpp. Lessons, prompts, progress, files, markdown."""

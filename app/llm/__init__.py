"""Inference: the only package that imports llama_cpp. Backends, the worker thread, the service."""

"""Code Tutor: a desktop coding tutor with a local model beside a real code editor."""

__version__ = "0.1.0"

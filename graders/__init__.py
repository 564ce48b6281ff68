"""nngrade: sandboxed, trustworthy grading for the Neural Networks lab course."""

__version__ = "0.1.0"

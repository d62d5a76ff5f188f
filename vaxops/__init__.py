"""vaxops: command system for mass vaccination campaigns."""

__version__ = "0.1.0"

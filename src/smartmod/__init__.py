"""smartmod: content moderation whose deep learning is written from first principles."""

__version__ = "0.1.0"

"""assistant: a local-first terminal AI assistant (version only; nothing heavy imported here)."""

__version__ = "0.1.0"

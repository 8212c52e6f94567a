"""Execution: running chunks and turning what they do into events (not public API)."""

__all__: list[str] = []

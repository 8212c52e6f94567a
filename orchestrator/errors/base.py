"""The root every error of the library inherits."""

from __future__ import annotations

__all__ = [
    "OrchestratorError",
]


class OrchestratorError(Exception):
    """Root of every error raised by triggerlog."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # KeyError subclasses would otherwise repr() the message.
        return self.message

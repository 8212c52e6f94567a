"""RetryPolicy: how often a chunk is tried again, and how long to wait in between.

The policy is part of the flow definition (JSON, so blueprints keep it). The
wait before each new attempt is computed once, with jitter, and recorded in the
log as the time the attempt starts, so a crash during a backoff does not restart
the wait.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import FlowDefinitionError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry a failing chunk.

    Args:
        attempts: total attempts, the first included (``1`` = no retry).
        initial_backoff: seconds before the second attempt.
        multiplier: growth of the backoff per attempt.
        max_backoff: cap of one backoff.
        jitter: +/- fraction of random spread applied to each backoff.
        retry_on: exception class names (or classes) that are retried; an
            exception is retried when any class in its MRO matches.
    """

    attempts: int = 3
    initial_backoff: float = 0.5
    multiplier: float = 2.0
    max_backoff: float = 30.0
    jitter: float = 0.1
    retry_on: tuple[str | type[BaseException], ...] = ("Exception",)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise FlowDefinitionError(
                f"RetryPolicy.attempts must be >= 1, got {self.attempts}"
            )
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise FlowDefinitionError(
                "RetryPolicy needs initial_backoff >= 0, max_backoff >= 0 and multiplier >= 1"
            )
        if not 0 <= self.jitter <= 1:
            raise FlowDefinitionError(
                f"RetryPolicy.jitter must be within [0, 1], got {self.jitter}"
            )
        names = tuple(
            name if isinstance(name, str) else f"{name.__module__}.{name.__qualname__}"
            for name in self.retry_on
        )
        object.__setattr__(self, "retry_on", names)

    @classmethod
    def coerce(cls, value: Any) -> RetryPolicy | None:
        """Accept a policy, an int (attempts), a dict (the JSON form) or None."""
        if value is None or isinstance(value, RetryPolicy):
            return value
        if isinstance(value, bool):
            return cls(attempts=3) if value else None
        if isinstance(value, int):
            return cls(attempts=value)
        if isinstance(value, dict):
            data = dict(value)
            if "retry_on" in data:
                data["retry_on"] = tuple(data["retry_on"])
            return cls(**data)
        raise FlowDefinitionError(
            f"retry= takes a RetryPolicy, an int (attempts) or a dict, got {value!r}"
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in the flow definition."""
        return {
            "attempts": self.attempts,
            "initial_backoff": self.initial_backoff,
            "multiplier": self.multiplier,
            "max_backoff": self.max_backoff,
            "jitter": self.jitter,
            "retry_on": list(self.retry_on),
        }

    def retries(self, error: BaseException, attempt: int) -> bool:
        """Whether ``error`` on attempt ``attempt`` (1-based) gets another attempt."""
        if attempt >= self.attempts:
            return False
        for klass in type(error).__mro__:
            if klass.__name__ in self.retry_on:
                return True
            if f"{klass.__module__}.{klass.__qualname__}" in self.retry_on:
                return True
        return False

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        base = min(
            self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1)
        )
        if self.jitter:
            spread = (rng or random).uniform(-self.jitter, self.jitter)
            base = max(0.0, base * (1 + spread))
        return base

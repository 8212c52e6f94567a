"""RetryPolicy: how often a chunk is tried again, and how long to wait in between.

The policy is part of the flow definition (JSON, so blueprints keep it). The
wait before each new attempt is computed once, with jitter, and recorded in the
log as the time the attempt starts, so a crash during a backoff does not restart
the wait.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import FlowDefinitionError

__all__ = [
    "RETRY_KEYS",
    "PolicyProblem",
    "RetryPolicy",
    "class_name",
    "retry_problem",
    "timeout_problem",
]

# The fields of a retry dict (RetryPolicy's, in its JSON form).
RETRY_KEYS = (
    "attempts",
    "initial_backoff",
    "multiplier",
    "max_backoff",
    "jitter",
    "retry_on",
)
_NUMBERS = {
    "initial_backoff": ("a number >= 0", 0.0),
    "multiplier": ("a number >= 1", 1.0),
    "max_backoff": ("a number >= 0", 0.0),
    "jitter": ("a number within [0, 1]", 0.0),
}


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """What is wrong with a retry/timeout spelling.

    The one check behind both the DSL (``to(fn, retry=..., timeout=...)``) and
    blueprints; each phrases it in its own wording.
    """

    field: str  # "retry", "retry.attempts", "timeout"...
    expected: str
    found: Any

    def message(self, where: str) -> str:
        """The DSL's error text; ``where`` names the call (``retry=``, ``RetryPolicy``)."""
        shown = repr(self.found)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return (
            f"{where}: {self.field} must be {self.expected}, found "
            f"{type(self.found).__name__} {shown}. A retry dict takes the keys "
            f"{', '.join(RETRY_KEYS)} (all optional); retry= also takes a RetryPolicy "
            "or an int (attempts); timeout= takes seconds > 0."
        )


def retry_problem(value: Any) -> PolicyProblem | None:
    """Why ``value`` is not a ``retry=`` spelling ``RetryPolicy.coerce`` accepts."""
    if value is None or isinstance(value, RetryPolicy | bool):
        return None
    if isinstance(value, int):
        return _fields_problem({"attempts": value})
    if not isinstance(value, dict):
        return PolicyProblem(
            "retry", "a RetryPolicy, an int (attempts), a dict or null", value
        )
    unknown = sorted(str(key) for key in value if key not in RETRY_KEYS)
    if unknown:
        return PolicyProblem("retry", "a dict without unknown keys", unknown)
    return _fields_problem(value)


def timeout_problem(value: Any) -> PolicyProblem | None:
    """Why ``value`` is not a timeout (seconds > 0, or None)."""
    if value is None or (_is_number(value) and value > 0):
        return None
    return PolicyProblem("timeout", "a positive number of seconds or null", value)


def _fields_problem(fields: dict[str, Any]) -> PolicyProblem | None:
    attempts = fields.get("attempts", 1)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        return PolicyProblem("retry.attempts", "an int >= 1", attempts)
    for key, (expected, low) in _NUMBERS.items():
        value = fields.get(key, low)
        if not _is_number(value) or value < low or (key == "jitter" and value > 1):
            return PolicyProblem(f"retry.{key}", expected, value)
    names = fields.get("retry_on", ())
    if not isinstance(names, list | tuple) or not all(
        (isinstance(n, str) and n)
        or (isinstance(n, type) and issubclass(n, BaseException))
        for n in names
    ):
        return PolicyProblem(
            "retry.retry_on", "a list of exception class names (or classes)", names
        )
    return None


def class_name(klass: type[BaseException]) -> str:
    """The dotted name ``retry_on=`` records for an exception class.

    The library's errors are named under their public home ``orchestrator.errors``
    (where they always were), not the family submodule that defines them, so a
    recorded policy and its fingerprint stay the same.
    """
    module = klass.__module__
    if module.startswith("orchestrator.errors."):
        module = "orchestrator.errors"
    return f"{module}.{klass.__qualname__}"


def _is_number(value: Any) -> bool:
    # NaN and infinities would pass the range checks and break the JSON form.
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
    )


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
        problem = _fields_problem({key: getattr(self, key) for key in RETRY_KEYS})
        if problem is not None:
            raise FlowDefinitionError(problem.message("RetryPolicy"))
        names = tuple(
            name if isinstance(name, str) else class_name(name)
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
        problem = retry_problem(value)
        if problem is not None:
            raise FlowDefinitionError(problem.message("retry="))
        data = dict(value)
        if "retry_on" in data:
            data["retry_on"] = tuple(data["retry_on"])
        return cls(**data)

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
            if class_name(klass) in self.retry_on:
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

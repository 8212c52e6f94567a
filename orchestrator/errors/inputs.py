"""Errors about what the caller hands in at run time: resources and JSON values."""

from __future__ import annotations

from orchestrator.errors.base import OrchestratorError

__all__ = [
    "MissingResourceError",
    "PayloadError",
]


class MissingResourceError(OrchestratorError, KeyError):
    """A runtime resource the execution needs was not injected."""

    def __init__(
        self, execution_id: str, missing: list[str], available: list[str]
    ) -> None:
        self.execution_id = execution_id
        self.missing = missing
        self.available = available
        names = ", ".join(repr(m) for m in missing)
        super().__init__(
            f"Execution {execution_id!r} missing required runtime resource {names}. "
            f"Available resources: {sorted(available)!r}. Inject it with "
            "create_execution(runtime_resources={...}) or flow.update_runtime_resources()."
        )


class PayloadError(OrchestratorError, TypeError):
    """A value is not JSON (NaN, a set, bytes, an arbitrary object, a non-str key)."""

    def __init__(
        self,
        where: str,
        path: str,
        found: str,
        hint: str,
        *,
        problem: str = "not a JSON value",
    ) -> None:
        self.where = where
        self.path = path
        self.found = found
        super().__init__(
            f"{where}: value at {path} is {found}, which is {problem}; {hint}. "
            "Nothing was written."
        )

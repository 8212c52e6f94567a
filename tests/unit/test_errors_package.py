"""orchestrator.errors is a package of families; its public face did not move.

Every class is importable from ``orchestrator.errors`` (and listed in its
``__all__``), and a ``retry_on=`` policy still records the library's errors as
``orchestrator.errors.<Name>``: that string is part of a stored flow definition
and its fingerprint.
"""

from __future__ import annotations

import importlib
import pkgutil

import orchestrator.errors
from orchestrator.errors import ChunkTimeoutError, LeaseLostError
from orchestrator.flow.retry import RetryPolicy, class_name


def test_the_package_exports_every_family_member() -> None:
    members: set[str] = set()
    for info in pkgutil.iter_modules(orchestrator.errors.__path__):
        module = importlib.import_module(f"orchestrator.errors.{info.name}")
        members.update(module.__all__)
    assert members == set(orchestrator.errors.__all__)
    for name in members:
        assert getattr(orchestrator.errors, name).__name__ == name


def test_retry_on_records_errors_under_their_public_home() -> None:
    policy = RetryPolicy(retry_on=(ChunkTimeoutError, LeaseLostError, KeyError))
    assert policy.retry_on == (
        "orchestrator.errors.ChunkTimeoutError",
        "orchestrator.errors.LeaseLostError",
        "builtins.KeyError",
    )
    assert class_name(ChunkTimeoutError) == "orchestrator.errors.ChunkTimeoutError"
    assert policy.retries(ChunkTimeoutError("e", "c", 1.0, 1), 1)

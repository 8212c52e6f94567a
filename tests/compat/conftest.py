"""Fixtures for the seed-snippet tests.

The snippets build flows with a bare ``TriggerFlow(name=...)``; an autouse fixture
points ``TRIGGERLOG_DB`` at a per-test SQLite file so they run verbatim and never
touch the current directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat import fakes


@pytest.fixture(autouse=True)
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(tmp_path / "x.db")
    monkeypatch.setenv("TRIGGERLOG_DB", path)
    return path


@pytest.fixture(autouse=True)
def _reset_agents() -> None:
    fakes.AGENTS.clear()

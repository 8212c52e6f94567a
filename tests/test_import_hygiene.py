"""`import orchestrator` (and the CLI) loads no UI toolkit; checked in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import sys
{imports}
loaded = sorted(
    name for name in sys.modules
    if name.partition(".")[0] in ("textual", "rich", "tui")
)
print(",".join(loaded))
"""


def _loaded_after(imports: str) -> list[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return [name for name in result.stdout.strip().split(",") if name]


@pytest.mark.parametrize(
    "imports",
    [
        "import orchestrator",
        "import orchestrator; import orchestrator.cli",
        "import orchestrator.cli_demo, orchestrator.cli_history",
    ],
)
def test_the_engine_and_the_cli_load_no_ui_toolkit(imports: str) -> None:
    assert _loaded_after(imports) == []


def test_the_console_data_facade_loads_no_textual() -> None:
    loaded = _loaded_after("import tui.data")
    assert not [m for m in loaded if m.partition(".")[0] in ("textual", "rich")]


def test_the_probe_does_see_textual() -> None:
    """Guard against a probe that can never fail."""
    assert "textual" in _loaded_after("import tui.app")

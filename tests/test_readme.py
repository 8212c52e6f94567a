"""The README's example runs as written and prints what its comment says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_readme_example_prints_its_documented_output(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S)
    assert code is not None, "the README has no python example"
    expected = re.search(r"^\s*# (\{.*\})\s*$", code.group(1), re.M)
    assert expected is not None, "the example documents no printed output"
    script = tmp_path / "example.py"
    script.write_text(code.group(1))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,  # its flows.db lands here
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert result.stdout.strip() == expected.group(1)


def test_the_readme_says_how_crashed_executions_are_resumed() -> None:
    readme = (REPO / "README.md").read_text()
    section = re.search(r"^## Crashes and recovery\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section is not None, "the README has no 'Crashes and recovery' section"
    assert "recover()" in section.group(1)
    assert "async_recover()" in section.group(1)


def test_the_docs_reference_nothing_outside_the_repository() -> None:
    # A reader of a clone has only the repository: absolute paths to the
    # machine it was written on are dead links.
    outside = re.compile(r"(?<![\w.])/(?:work|home|tmp|Users|mnt)/[\w./-]+")
    found = [
        f"{path.relative_to(REPO)}: {match.group(0)}"
        for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
        for match in outside.finditer(path.read_text())
    ]
    assert found == []

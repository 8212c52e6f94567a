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

"""docs/testing.md's examples, copied as written into a fresh project and run there.

The page is what users copy into their own suites, so its examples run the way a
user's would: a scratch project with its own pytest configuration (no
``anyio_mode``, no conftest), where only the installed ``triggerlog`` pytest
plugin (entry point ``pytest11``) and anyio's own make async tests run. Each
python block of the page becomes one test module, preceded only by an import of
the flows the page names (stand-ins for the user's own). Regression for
issue 11: the async examples failed without ``anyio_mode = "auto"``.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "testing.md"

# The flows the page's examples name: the user's own flows in real life.
FLOWS = """
from orchestrator import TriggerFlow, TriggerFlowRuntimeData


async def ingest(data: TriggerFlowRuntimeData):
    data.set_state("doc", data.value["doc"])
    return data.value


async def review(data: TriggerFlowRuntimeData):
    data.append_state("reviews", data.value)


pipeline_flow = TriggerFlow(name="docs-pipeline", store=":memory:")
pipeline_flow.to(ingest)
pipeline_flow.when("reviewed").to(review)


async def note(data: TriggerFlowRuntimeData):
    data.append_state(data.event, data.value)


async def escalate(data: TriggerFlowRuntimeData):
    return await data.async_pause_for(type="reason", payload=data.value)


async def mode(data: TriggerFlowRuntimeData):
    data.set_state("mode", data.value)


review_flow = TriggerFlow(name="docs-review", store=":memory:")
review_flow.when(["approve", "reject", "comment"], mode="simple_or").to(note)
review_flow.when("reject").to(escalate).to(note, name="note_reason")
review_flow.when({"flow_data": "mode"}).to(mode)


async def ask(data: TriggerFlowRuntimeData):
    return await data.async_pause_for(type="approval")


async def record(data: TriggerFlowRuntimeData):
    data.set_state("approved_by", data.value)


approval_flow = TriggerFlow(name="docs-approval", store=":memory:")
approval_flow.to(ask).to(record)
"""

# "Once, from a real run": the page's comment, done for the scratch project.
RECORD = """
import asyncio, sys
from pathlib import Path
import orjson
from page_flows import approval_flow
from orchestrator.testing import export_history, throwaway_store

async def main():
    with throwaway_store(approval_flow, kind="sqlite") as store:
        execution = approval_flow.create_execution(auto_close=False)
        await execution.async_start(None)
        [interrupt_id] = execution.get_pending_interrupts()
        await execution.async_continue_with(interrupt_id, "ana")
        await execution.async_close()
        Path(sys.argv[1]).write_bytes(orjson.dumps(export_history(store, execution.id)))

asyncio.run(main())
"""

# The scratch project's own configuration: strict, and nothing async-related.
CONFIG = """
[project]
name = "scratch"
version = "0"

[tool.pytest.ini_options]
addopts = ["-p", "no:cacheprovider", "--strict-markers", "--strict-config"]
filterwarnings = ["error"]
"""


def _page_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


def _declared_plugin() -> str:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared: str = project["entry-points"]["pytest11"]["triggerlog"]
    return declared


def test_the_distribution_registers_the_pytest_plugin() -> None:
    # What `pip install triggerlog` registers; CI installs it this way.
    module = _declared_plugin()
    assert module == "orchestrator.pytest_plugin"
    plugin = __import__(module, fromlist=["pytest_configure"])
    assert hasattr(plugin, "pytest_configure")


def _installed_plugin() -> bool:
    return any(
        ep.name == "triggerlog"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )


def _entry_point_dir(tmp_path: Path) -> Path:
    """The entry point as the pyproject declares it, for a venv installed before it.

    A distribution made of only its metadata: pytest finds plugins through
    ``importlib.metadata``, exactly as for the installed one.
    """
    site = tmp_path / "site"
    dist = site / "triggerlog_plugin_under_test-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: triggerlog-plugin-under-test\nVersion: 0\n"
    )
    (dist / "entry_points.txt").write_text(
        f"[pytest11]\ntriggerlog = {_declared_plugin()}\n"
    )
    return site


@pytest.mark.timeout(180)
def test_the_pages_examples_run_in_a_fresh_project(tmp_path: Path) -> None:
    blocks = _page_blocks()
    assert len(blocks) >= 4, "the page lost its examples"
    project = tmp_path / "project"
    tests = project / "tests"
    (tests / "histories").mkdir(parents=True)
    (project / "pyproject.toml").write_text(CONFIG)
    (tests / "page_flows.py").write_text(FLOWS)
    for index, block in enumerate(blocks):
        module = f"from page_flows import *  # noqa: F403\n{block}"
        (tests / f"test_page_{index}.py").write_text(module)
    expected = sum(len(re.findall(r"^(?:async )?def test_", b, re.M)) for b in blocks)

    path = [str(REPO)]
    if not _installed_plugin():
        path.append(str(_entry_point_dir(tmp_path)))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "HYPOTHESIS_"))
    }
    env["PYTHONPATH"] = os.pathsep.join(path)
    subprocess.run(
        [sys.executable, "-c", RECORD, str(tests / "histories" / "approval.json")],
        cwd=tests,
        env=env,
        check=True,
        timeout=60,
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert re.search(rf"\b{expected} passed\b", summary), output
    assert "skipped" not in summary, output
    assert "warning" not in summary, output

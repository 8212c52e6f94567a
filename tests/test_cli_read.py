"""The read verbs of ``triggerlog`` end to end, in subprocesses on a real file (issue 14).

``list`` filters, ``show``, ``history``, ``state``, ``diff`` and ``tail``: their
``--json`` documents parsed and checked, exit codes, a typo'd id, an ambiguous
prefix, ``--db`` on either side of the command, ``--version``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from orchestrator import TriggerFlow, TriggerFlowRuntimeData

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    env.pop("TRIGGERLOG_DB", None)
    return env


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )


def cli_json(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return orjson.loads(result.stdout)


def fail_line(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, result
    assert result.stdout == ""
    assert result.stderr.startswith("triggerlog: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def _child_flow(db: str) -> TriggerFlow:
    child = TriggerFlow(name="cli-child", store=db)
    child.to(("child_step", lambda data: data.set_state("got", data.value)))
    return child


def _populate(db: str) -> None:
    approve = TriggerFlow(name="cli-approve", store=db)

    async def draft(data: TriggerFlowRuntimeData) -> None:
        data.set_state("draft", data.value)
        data.set_state("step", 1)

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("step", 2)
        return await data.async_pause_for(
            type="approval",
            payload={"doc": "d-7", "pages": [1, 2]},
            interrupt_id="ok-1",
        )

    approve.to(draft).to(ask)

    failing = TriggerFlow(name="cli-fail", store=db)

    def boom(data: TriggerFlowRuntimeData) -> None:
        raise RuntimeError("the parser broke on page 3")

    failing.to(boom)

    parent = TriggerFlow(name="cli-parent", store=db)
    parent.to(_child_flow(db)).to(("after", lambda data: data.set_state("done", True)))

    async def run() -> None:
        execution = approve.create_execution(execution_id="approve-1", auto_close=False)
        await execution.async_start("doc")
        failed = failing.create_execution(execution_id="fail-1")
        with contextlib.suppress(RuntimeError):
            await failed.async_start()
        for name in ("parent-1", "dup-a", "dup-b"):
            await parent.create_execution(execution_id=name).async_start(name)

    asyncio.run(run())
    for flow in (approve, failing, parent):
        flow.store.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cli-read") / "read.db")
    _populate(path)
    return path


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- global options ---------------------------------------------------------------------


def test_version_and_db_on_either_side(db: str) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("triggerlog ")
    before = cli_json("--db", db, "list")
    after = cli_json("list", "--db", db)
    assert before == after
    assert cli_json("--db", "elsewhere.db", "list", "--db", db) == after


def test_usage_errors_exit_2(db: str) -> None:
    result = cli("state", "approve-1", "--db", db, "--layer", "bogus")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert cli("history", "--db", db).returncode == 2
    for args in (
        ["list", "--limit", "-1"],
        ["list", "--offset", "x"],
        ["history", "approve-1", "--limit", "-3"],
        ["tail", "--interval", "0"],
    ):
        result = cli(*args, "--db", db)
        assert result.returncode == 2, args
        assert "invalid" in result.stderr
        assert "Traceback" not in result.stderr
    fail_line(cli("history", "approve-1", "--from", "0", "--db", db))


# -- list -------------------------------------------------------------------------------


def test_list_hides_children_unless_asked(db: str) -> None:
    rows = cli_json("list", "--db", db)["executions"]
    assert {r["kind"] for r in rows} == {"execution"}
    assert {r["execution_id"] for r in rows} == {
        "approve-1",
        "fail-1",
        "parent-1",
        "dup-a",
        "dup-b",
    }
    assert set(rows[0]) == {
        "execution_id",
        "flow_name",
        "status",
        "kind",
        "parent_id",
        "created_at",
        "updated_at",
        "last_seq",
        "owner",
    }
    every = cli_json("list", "--db", db, "--children")["executions"]
    children = [r for r in every if r["kind"] == "child"]
    assert len(children) == 3
    assert {r["parent_id"] for r in children} == {"parent-1", "dup-a", "dup-b"}
    text = cli("list", "--db", db, "--children").stdout.splitlines()
    assert text[0].split()[:4] == ["id", "flow", "status", "parent"]
    (only,) = cli_json("list", "--db", db, "--parent", "parent")["executions"]
    assert only["parent_id"] == "parent-1"
    assert len(cli_json("list", "--db", db, "--kind", "child")["executions"]) == 3


def test_list_filters_and_pages(db: str) -> None:
    (waiting,) = cli_json("list", "--db", db, "--status", "waiting")["executions"]
    assert waiting["execution_id"] == "approve-1"
    assert [
        r["execution_id"]
        for r in cli_json("list", "--db", db, "--flow", "cli-fail")["executions"]
    ] == ["fail-1"]
    whole = cli_json("list", "--db", db)["executions"]
    page = cli_json("list", "--db", db, "--limit", "2", "--offset", "1")
    assert page["executions"] == whole[1:3]
    assert (page["limit"], page["offset"]) == (2, 1)
    assert cli_json("list", "--db", db, "--since", "2999-01-01")["executions"] == []
    assert (
        cli_json("list", "--db", db, "--until", "2999-01-01T00:00:00")["executions"]
        == whole
    )
    assert cli_json("list", "--db", db, "--since", "0")["executions"] == whole
    fail_line(cli("list", "--db", db, "--since", "yesterday-ish"))


# -- show -------------------------------------------------------------------------------


def test_show_a_waiting_execution_prints_its_interrupts(db: str) -> None:
    text = cli("show", "approve", "--db", db)
    assert text.returncode == 0
    out = text.stdout
    assert "waiting interrupts (1):" in out
    assert "ok-1  type approval  chunk ask" in out
    assert '"doc": "d-7"' in out
    document = cli_json("show", "approve-1", "--db", db)
    assert document["status"] == "waiting"
    assert document["lifecycle"] == "open"
    record = document["interrupts"]["ok-1"]
    assert record["payload"] == {"doc": "d-7", "pages": [1, 2]}
    assert record["status"] == "waiting"
    assert document["state"] == {"draft": "doc", "step": 2}
    assert document["events"][0]["type"] == "execution.created"
    assert document["last_seq"] == len(document["events"])
    assert {"owner", "lease_until", "children", "parent_id"} <= set(document)


def test_show_a_failure_prints_its_traceback(db: str) -> None:
    out = cli("show", "fail-1", "--db", db).stdout
    assert "RuntimeError: the parser broke on page 3 in boom" in out
    assert "Traceback (most recent call last)" in out
    (error,) = cli_json("show", "fail-1", "--db", db)["errors"]
    assert error["type"] == "RuntimeError"
    assert "the parser broke" in error["traceback"]


def test_show_names_parent_and_children(db: str) -> None:
    document = cli_json("show", "parent-1", "--db", db)
    (child,) = document["children"]
    assert child["status"] == "completed"
    assert child["flow_name"] == "cli-child"
    out = cli("show", "parent-1", "--db", db).stdout
    assert "children (1):" in out
    shown = cli_json("show", child["execution_id"], "--db", db)
    assert shown["parent_id"] == "parent-1"
    assert shown["kind"] == "child"


# -- history, state, diff -----------------------------------------------------------------


def test_history_pages_filters_and_payloads(db: str) -> None:
    document = cli_json("history", "approve-1", "--db", db)
    events = document["events"]
    assert document["execution_id"] == "approve-1"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert set(events[0]) == {
        "execution_id",
        "seq",
        "position",
        "created_at",
        "type",
        "run_id",
        "chunk",
        "summary",
        "data",
    }
    page = cli_json("history", "approve-1", "--db", db, "--from", "3", "--to", "5")
    assert page["events"] == events[2:5]
    writes = cli_json("history", "approve-1", "--db", db, "--type", "state.set")
    assert [(e["chunk"], e["data"]["key"]) for e in writes["events"]] == [
        ("draft", "draft"),
        ("draft", "step"),
        ("ask", "step"),
    ]
    full = cli("history", "approve-1", "--db", db, "--type", "interrupt", "--full")
    assert full.returncode == 0
    assert "interrupt.raised" in full.stdout
    assert '"interrupt_id": "ok-1"' in full.stdout or '"id": "ok-1"' in full.stdout
    merged = cli_json("history", "parent-1", "--db", db, "--children")["events"]
    assert len({e["execution_id"] for e in merged}) == 2


def test_state_at_a_seq_and_by_layer(db: str) -> None:
    events = cli_json("history", "approve-1", "--db", db, "--type", "state.set")[
        "events"
    ]
    first = events[0]["seq"]
    at = cli_json("state", "approve-1", "--db", db, "--at", str(first))
    assert at["seq"] == first
    assert at["state"] == {"draft": "doc"}
    assert at["interrupts"] == {}
    assert at["status"] == "running"
    assert [r["chunk"] for r in at["runs"]] == ["draft"]
    layer = cli_json("state", "approve-1", "--db", db, "--layer", "state")
    assert layer == {
        "execution_id": "approve-1",
        "seq": layer["seq"],
        "state": {"draft": "doc", "step": 2},
    }
    assert "flow_state" in cli_json(
        "state", "approve-1", "--db", db, "--layer", "flow_state"
    )
    text = cli("state", "approve-1", "--db", db, "--at", str(first)).stdout
    assert text.startswith(f"execution approve-1 at seq {first} ")
    fail_line(cli("state", "approve-1", "--db", db, "--at", "9999"))


def test_diff_two_seqs_and_two_executions(db: str) -> None:
    events = cli_json("history", "approve-1", "--db", db, "--type", "state.set")[
        "events"
    ]
    a, b = events[0]["seq"], events[-1]["seq"]
    document = cli_json("diff", "approve-1", str(a), str(b), "--db", db)
    assert document["a"] == f"approve-1@{a}"
    assert document["empty"] is False
    assert document["changes"] == [
        {
            "layer": "state",
            "path": "$.step",
            "keys": ["step"],
            "kind": "added",
            "new": 2,
        }
    ]
    assert document["interrupts"] == []
    text = cli("diff", "approve-1", str(a), str(b), "--db", db).stdout
    assert "+ state $.step: 2" in text
    two = cli_json("diff", "dup-a", "dup-b", "--db", db)
    assert two["status"] is None
    assert two["changes"] == []  # the same state: {"done": true}
    pairs = sorted(str((c["old"], c["new"])) for c in two["children"])
    assert pairs == ["('completed', None)", "(None, 'completed')"]
    same = cli("diff", "dup-a", "dup-a@1", "--db", db)
    assert same.returncode == 0
    assert "~ status: completed -> created" in same.stdout
    none = cli_json("diff", "dup-a", "dup-a", "--db", db)
    assert none["empty"] is True
    fail_line(cli("diff", "dup-a", "x@y", "--db", db))
    fail_line(cli("diff", "dup-a", "1", "2", "3", "--db", db))


# -- ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["show", "history", "state"])
def test_a_typo_and_an_ambiguous_prefix_are_one_line(db: str, verb: str) -> None:
    err = fail_line(cli(verb, "aprove-1", "--db", db))
    assert "no execution 'aprove-1'" in err
    assert "triggerlog list" in err
    err = fail_line(cli(verb, "dup-", "--db", db))
    assert "is the start of 2 execution ids" in err
    assert "dup-a" in err
    assert "dup-b" in err


def test_read_verbs_never_write(db: str) -> None:
    before = _digest(db)
    for args in (
        ["list"],
        ["show", "approve-1"],
        ["history", "approve-1"],
        ["state", "approve-1", "--at", "2"],
        ["diff", "dup-a", "dup-b"],
    ):
        assert cli(*args, "--db", db).returncode == 0
    assert _digest(db) == before


# -- tail -------------------------------------------------------------------------------


def test_tail_follows_commits_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    db = str(tmp_path / "tail.db")
    flow = TriggerFlow(name="cli-tail", store=db)
    flow.to(("note", lambda data: data.set_state("n", data.value)))
    flow.create_execution(execution_id="before").start(0)  # the file exists
    other = TriggerFlow(name="cli-other", store=db)
    other.to(("noise", lambda data: data.set_state("x", 1)))
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator.cli",
            "tail",
            "--db",
            db,
            "--flow",
            "cli-tail",
            "--json",
            "--interval",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    ) as process:
        err = _follow(process, flow, other)
    flow.store.close()
    other.store.close()
    assert process.returncode == 0, err


def _follow(
    process: subprocess.Popen[str], flow: TriggerFlow, other: TriggerFlow
) -> str:
    """Commit executions until tail prints one closing; then Ctrl-C it."""
    try:
        assert process.stdout is not None
        stdout = process.stdout
        collected: list[str] = []
        reader = threading.Thread(
            target=lambda: collected.extend(iter(stdout.readline, "")), daemon=True
        )
        reader.start()
        seen = ""
        deadline = time.monotonic() + 60
        n = 0
        while "execution.closed" not in seen and time.monotonic() < deadline:
            n += 1
            other.create_execution().start(n)
            flow.create_execution(execution_id=f"run-{n}").start(n)
            time.sleep(0.3)
            seen = "".join(collected)
        lines = [orjson.loads(line) for line in seen.splitlines()]
        assert lines, process.stderr
        assert {line["execution_id"] for line in lines} <= {
            f"run-{i}" for i in range(1, n + 1)
        }
        assert "before" not in {line["execution_id"] for line in lines}
        assert set(lines[0]) == {
            "execution_id",
            "seq",
            "position",
            "created_at",
            "type",
            "summary",
        }
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    return process.stderr.read() if process.stderr else ""


def test_tail_never_pins_the_wal(tmp_path: Path) -> None:
    """Between polls tail holds no read transaction: a TRUNCATE checkpoint, which
    waits for every reader's snapshot, goes through while it runs."""
    db = str(tmp_path / "wal.db")
    flow = TriggerFlow(name="cli-wal", store=db)
    flow.to(("note", lambda data: data.set_state("n", data.value)))
    flow.create_execution().start(0)
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator.cli",
            "tail",
            "--db",
            db,
            "--interval",
            "0.5",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    ) as process:
        try:
            time.sleep(2.0)  # started and polling
            assert process.poll() is None
            results = []
            for n in range(10):
                flow.create_execution().start(n)
                conn = sqlite3.connect(db, timeout=0.2)
                try:
                    busy, _, _ = conn.execute(
                        "PRAGMA wal_checkpoint(TRUNCATE)"
                    ).fetchone()
                finally:
                    conn.close()
                results.append(busy)
                time.sleep(0.13)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    flow.store.close()
    assert process.returncode == 0
    # A poll takes well under a millisecond of each 0.5 s: nearly every
    # checkpoint finds no reader snapshot in its way.
    assert results.count(0) >= 8, results

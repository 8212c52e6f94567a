"""The ``triggerlog`` command: demo, list, show, console, added commands, errors."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

import orchestrator.cli
from orchestrator.cli import COMMANDS_GROUP, INSTALL_CONSOLE_HINT, main
from orchestrator.cli_demo import DEMO_FLOW_NAME
from orchestrator.store import SQLiteEventStore

REPO = Path(__file__).resolve().parents[1]


def _env_with_repo() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    env.pop("TRIGGERLOG_DB", None)
    return env


def _execution_ids(path: str) -> list[str]:
    store = SQLiteEventStore(path, read_only=True)
    try:
        return [i.stream_id for i in store.list_streams() if i.kind == "execution"]
    finally:
        store.close()


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def demo_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A database holding one demo execution."""
    path = str(tmp_path / "demo.db")
    assert main(["demo", "--db", path]) == 0
    capsys.readouterr()
    return path


# -- demo ------------------------------------------------------------------------------


def test_demo_prints_history_final_state_and_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "demo.db")
    assert main(["demo", "--db", path]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert 40 <= len(lines) <= 80, len(lines)
    assert f"flow {DEMO_FLOW_NAME!r} on {path}" in lines[0]
    # the event history: seq, type, short payload, from created to closed
    (execution_id,) = _execution_ids(path)
    assert f"execution {execution_id}  status completed" in out
    assert any(line.startswith("  1  execution.created") for line in lines)
    assert "chunk.started      classify" in out
    assert "state.appended     totals += 120.5" in out
    assert "execution.closed   status=completed" in out
    # the final state, and the rebuild check
    assert "final state:" in out
    assert '  report: {"count_documents":3,"sum_totals":200.0}' in lines
    assert '  labels: {"doc-1":"invoice","doc-2":"letter","doc-3":"invoice"}' in lines
    assert "rebuilt state equal to live: yes; whole view equal: yes" in out
    assert "runtime resource 'classifier': 3 calls" in out
    # time travel on its own execution: the state at an earlier event, and a diff
    assert "time travel: state after event " in out
    assert "what the rest of the run changed in state" in out
    assert "    + state $.report: " in out or "... and " in out
    assert f"triggerlog diff {execution_id} " in out


def test_demo_logs_only_the_resource_key(demo_db: str) -> None:
    store = SQLiteEventStore(demo_db, read_only=True)
    try:
        (execution_id,) = _execution_ids(demo_db)
        events = store.read_stream(execution_id)
    finally:
        store.close()
    payloads = b"".join(e.data for e in events)
    assert b'"resource_keys":["classifier"]' in payloads
    assert b"KeywordClassifier" not in payloads


def test_demo_uses_triggerlog_db_then_cwd(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIGGERLOG_DB", str(tmp_path / "from-env.db"))
    assert main(["demo"]) == 0
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "triggerlog.db").exists()
    monkeypatch.delenv("TRIGGERLOG_DB")
    assert main(["demo"]) == 0
    assert (tmp_path / "triggerlog.db").exists()
    capsys.readouterr()


def test_demo_runs_as_a_program(tmp_path: Path) -> None:
    """A real process, as a user runs it: `python -m orchestrator.cli demo`."""
    path = tmp_path / "demo.db"
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "demo", "--db", str(path)],
        capture_output=True,
        text=True,
        env=_env_with_repo(),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "final state:" in result.stdout
    assert "rebuilt" in result.stdout
    assert "rebuilt state equal to live: yes" in result.stdout
    assert path.exists()


# -- list ------------------------------------------------------------------------------


def test_list_shows_the_executions_of_the_index(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", demo_db]) == 0
    capsys.readouterr()
    assert main(["list", "--db", demo_db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "flow", "status", "updated", "(UTC)", "events"]
    ids = _execution_ids(demo_db)
    assert [line.split()[0] for line in lines[1:]] == ids  # newest first
    for line in lines[1:]:
        cells = line.split()
        assert cells[1:3] == [DEMO_FLOW_NAME, "completed"]
        assert cells[-1] == "46"


def test_list_filters_on_flow_and_status(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--db", demo_db, "--status", "completed"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["list", "--db", demo_db, "--status", "failed"]) == 0
    assert capsys.readouterr().out == f"no executions in {demo_db} with status=failed\n"
    assert main(["list", "--db", demo_db, "--flow", "other"]) == 0
    assert "no executions" in capsys.readouterr().out
    assert main(["list", "--db", demo_db, "--flow", DEMO_FLOW_NAME]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_list_rejects_an_unknown_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "--status", "done"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'done'" in capsys.readouterr().err


# -- show ------------------------------------------------------------------------------


def test_show_prints_every_event_and_the_folded_state(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (execution_id,) = _execution_ids(demo_db)
    assert main(["show", execution_id, "--db", demo_db]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"execution {execution_id}"
    assert "status    completed  lifecycle closed (auto_close)" in out
    seqs = [int(line.split()[0]) for line in lines if line[:3].strip().isdigit()]
    assert seqs == list(range(1, 47))
    assert "state:" in lines
    state = lines[lines.index("state:") + 1 :]
    assert state[0] == "  {"
    assert '      "sum_totals": 200.0,' in state


def test_show_accepts_a_unique_prefix(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (execution_id,) = _execution_ids(demo_db)
    assert main(["show", execution_id[:6], "--db", demo_db]) == 0
    assert capsys.readouterr().out.startswith(f"execution {execution_id}\n")


def test_list_and_show_never_write(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(demo_db)
    (execution_id,) = _execution_ids(demo_db)
    assert main(["list", "--db", demo_db]) == 0
    assert main(["show", execution_id, "--db", demo_db]) == 0
    capsys.readouterr()
    assert _digest(demo_db) == before


def test_show_unknown_id_is_one_line_and_exit_1(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "no-such-execution", "--db", demo_db]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        "triggerlog: error: no execution 'no-such-execution'"
    )
    assert "triggerlog list" in captured.err
    assert "Traceback" not in captured.err


def test_ambiguous_prefix_is_an_error(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", demo_db]) == 0
    capsys.readouterr()
    assert main(["show", "", "--db", demo_db]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is the start of 2 execution ids" in err


# -- library errors --------------------------------------------------------------------


def test_missing_database_is_reported_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.db"
    assert main(["list", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"no triggerlog database at {path}" in err
    assert not path.exists()


def test_the_missing_database_hint_works_when_its_directory_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review of issue 11, finding 10c: the hint `triggerlog demo --db nodir/x.db`
    failed, because the directory is missing too. Following the hint must work."""
    monkeypatch.chdir(tmp_path)
    assert main(["list", "--db", "nodir/x.db"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "directory 'nodir' does not exist" in err
    hint = err.split("`")[1]
    assert hint == "mkdir -p nodir && triggerlog demo --db nodir/x.db"
    assert not (tmp_path / "nodir").exists()
    mkdir, demo = hint.split(" && ")
    (tmp_path / mkdir.split()[-1]).mkdir()
    assert main(demo.split()[1:]) == 0
    assert main(["list", "--db", "nodir/x.db"]) == 0


def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not sqlite at all, " * 100)
    assert main(["show", "x", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("triggerlog: error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``triggerlog ARGS`` as a real process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        capture_output=True,
        text=True,
        env=_env_with_repo(),
        cwd=cwd,
        timeout=120,
        check=False,
    )


def _bad_databases(root: Path) -> dict[str, Path]:
    """A text file, a directory, another application's database, a mistyped path."""
    text = root / "notes.txt"
    text.write_text("meeting notes, not a database\n" * 40)
    folder = root / "folder"
    folder.mkdir()
    foreign = root / "app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users(name) VALUES ('ada')")
    conn.commit()
    conn.close()
    return {
        "text": text,
        "directory": folder,
        "foreign": foreign,
        "typo": root / "typo" / "flows.db",
    }


EXPECTED = {
    "text": ["notes.txt is not a triggerlog database", "not an SQLite file"],
    "directory": ["is a directory, not a database file"],
    "foreign": ["app.db is not a triggerlog database", "(tables: users)"],
    "typo": ["does not exist"],
}
NEVER = ["Traceback", "damaged", "disk full", "rolled back", "schema version"]


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("command", ["list", "show", "export", "import", "demo"])
def test_a_path_that_is_no_triggerlog_database_is_one_line(
    tmp_path: Path, kind: str, command: str
) -> None:
    """Each storage refusal, from every command, read-only or not: one line,
    exit 1, the right words, and the path left as it was."""
    db = _bad_databases(tmp_path)[kind]
    before = _digest(str(db)) if db.is_file() else None
    history = tmp_path / "history.json"
    args = {
        "list": ["list"],
        "show": ["show", "abc"],
        "export": ["export", "abc"],
        "import": ["import", str(history)],
        "demo": ["demo"],
    }[command]
    if command == "import":
        # a valid document, so that the database is what gets refused
        history.write_bytes(_a_history(tmp_path))
    result = _run_cli(*args, "--db", str(db), cwd=tmp_path)
    assert result.returncode == 1, result
    assert result.stdout == "" or command == "demo"
    err = result.stderr
    assert err.startswith("triggerlog: error: "), err
    assert err.count("\n") == 1, err
    expected = EXPECTED[kind]
    if kind == "typo" and command in ("list", "show", "export"):
        expected = ["no triggerlog database at"]  # read-only: never created
    for words in expected:
        assert words in err, err
    for words in NEVER:
        assert words not in err, err
    if before is not None:
        assert _digest(str(db)) == before
    assert not (tmp_path / "typo").exists()
    if kind == "foreign":
        conn = sqlite3.connect(db)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        conn.close()
        assert names == {"users"}


def _a_history(tmp_path: Path) -> bytes:
    source = str(tmp_path / "source.db")
    assert main(["demo", "--db", source]) == 0
    [execution_id] = _execution_ids(source)
    out = tmp_path / "exported.json"
    assert main(["export", execution_id, "--db", source, "-o", str(out)]) == 0
    return out.read_bytes()


@pytest.mark.parametrize("target", ["missing-dir/x.json", ".", "notes.txt/x.json"])
def test_export_to_an_unwritable_path_is_one_line(
    demo_db: str, tmp_path: Path, target: str
) -> None:
    (tmp_path / "notes.txt").write_text("x")
    [execution_id] = _execution_ids(demo_db)
    result = _run_cli(
        "export", execution_id, "--db", demo_db, "-o", target, cwd=tmp_path
    )
    assert result.returncode == 1, result
    err = result.stderr
    assert err.startswith("triggerlog: error: cannot write the export to "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert result.stdout == ""
    assert not (tmp_path / "missing-dir").exists()


def test_a_memory_store_cannot_be_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--db", ":memory:"]) == 1
    assert "is not an SQLite file" in capsys.readouterr().err


# -- console ---------------------------------------------------------------------------


# -- export / import ----------------------------------------------------------------


def test_export_then_import_reproduces_the_execution_elsewhere(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [execution_id] = _execution_ids(demo_db)
    before = _digest(demo_db)
    out_file = str(tmp_path / "history.json")
    assert main(["export", execution_id[:10], "--db", demo_db, "-o", out_file]) == 0
    assert f"exported {execution_id}" in capsys.readouterr().out
    assert _digest(demo_db) == before  # export never writes
    other = str(tmp_path / "other.db")
    assert main(["import", out_file, "--db", other]) == 0
    assert capsys.readouterr().out == f"imported {execution_id} into {other}\n"
    assert main(["show", execution_id, "--db", demo_db]) == 0
    original = capsys.readouterr().out
    assert main(["show", execution_id, "--db", other]) == 0
    assert capsys.readouterr().out == original
    # A second import of the same history is refused whole.
    head = SQLiteEventStore(other, read_only=True)
    position = head.head_position()
    head.close()
    assert main(["import", out_file, "--db", other]) == 1
    err = capsys.readouterr().err
    assert "already exists" in err
    assert "nothing was imported" in err
    reopened = SQLiteEventStore(other, read_only=True)
    assert reopened.head_position() == position
    reopened.close()


def test_export_to_stdout_is_the_json_document(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import orjson

    [execution_id] = _execution_ids(demo_db)
    assert main(["export", execution_id, "--db", demo_db]) == 0
    document = orjson.loads(capsys.readouterr().out)
    assert document["format"] == "triggerlog.history/1"
    assert document["execution_id"] == execution_id


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not json", "is not JSON"), (b'{"format": "x"}', "not a triggerlog.history/1")],
)
def test_import_of_a_bad_file_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    db = str(tmp_path / "target.db")
    assert main(["import", str(bad), "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err
    assert not Path(db).exists()  # refused before the database was opened


def test_console_without_textual_says_how_to_install(
    demo_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # As if textual were not installed: forget every loaded console module and
    # make `import textual` fail (monkeypatch puts them all back afterwards).
    for name in [m for m in sys.modules if m.partition(".")[0] in ("tui", "textual")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "textual", None)
    assert main(["console", "--db", demo_db]) == 2
    err = capsys.readouterr().err
    assert INSTALL_CONSOLE_HINT in err
    assert "pip install 'triggerlog[console]'" in err


def test_console_runs_the_app_on_a_read_only_store(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.app import ConsoleApp

    seen: list[tuple[bool, str]] = []

    def fake_run(self: ConsoleApp) -> None:
        seen.append((self.data._store.read_only, self.source))

    monkeypatch.setattr(ConsoleApp, "run", fake_run)
    assert main(["console", "--db", demo_db]) == 0
    assert seen == [(True, demo_db)]


def test_console_on_a_missing_database_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["console", "--db", str(tmp_path / "none.db")]) == 1
    assert "no triggerlog database" in capsys.readouterr().err


# -- commands added through entry points ------------------------------------------------


def test_the_console_adds_its_command_through_an_entry_point() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["project"]["entry-points"][COMMANDS_GROUP]
    assert declared == {"console": "tui.command:console"}
    installed = {e.name: e.value for e in entry_points(group=COMMANDS_GROUP)}
    assert installed.get("console") == declared["console"], (
        "the installed triggerlog metadata predates this entry point; reinstall "
        "with pip install -e '.[dev]'"
    )


def _with_entry_points(
    monkeypatch: pytest.MonkeyPatch, *extra: tuple[str, str]
) -> None:
    """The console's entry point plus ``extra`` (name, "module:attribute")."""
    found = [
        EntryPoint("console", "tui.command:console", COMMANDS_GROUP),
        *(EntryPoint(name, value, COMMANDS_GROUP) for name, value in extra),
    ]
    monkeypatch.setattr(
        orchestrator.cli,
        "entry_points",
        lambda group: [e for e in found if e.group == group],
    )


def test_an_added_command_that_cannot_load_fails_alone(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_entry_points(monkeypatch, ("broken", "no_such_module_here:command"))
    assert main(["list", "--db", demo_db]) == 0
    assert DEMO_FLOW_NAME in capsys.readouterr().out
    assert main(["broken", "--db", demo_db]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the broken command (no_such_module_here:command) cannot be loaded" in err


def test_an_added_command_cannot_take_a_built_in_name(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_entry_points(monkeypatch, ("list", "no_such_module_here:command"))
    assert main(["list", "--db", demo_db]) == 0
    assert DEMO_FLOW_NAME in capsys.readouterr().out


# -- examples --------------------------------------------------------------------------


def test_quickstart_example_runs(tmp_path: Path) -> None:
    env = _env_with_repo()
    env["TRIGGERLOG_DB"] = str(tmp_path / "quick.db")
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert ": completed" in result.stdout
    assert "snapshot: {'topic': 'a workflow'" in result.stdout
    assert "rebuilt from the log: True" in result.stdout
    assert len(_execution_ids(str(tmp_path / "quick.db"))) == 1


# -- the read model shared with the console ----------------------------------------


def test_event_descriptions() -> None:
    from orchestrator.events import FlowDataSet, StateAppended, StateSet
    from orchestrator.read_model import describe, short_event_name, short_value

    assert describe(StateSet(key="a.b", value={"x": [1]})) == 'a.b = {"x":[1]}'
    assert describe(StateAppended(key="log", value="done")) == 'log += "done"'
    # a family without wording (added later) shows its payload
    assert describe(FlowDataSet(key="k", value=1)) == (
        '{"key":"k","value":1,"execution_id":null}'
    )
    assert short_event_name("Chunk[fetch]-chunk-0123456789abcdef") == "Chunk[fetch]"
    assert short_event_name("ForEach-0123456789abcdef-Send") == "ForEach-Send"
    assert short_value("x" * 100, 10) == '"xxxxxxxx…'


def test_export_of_a_child_is_one_line_naming_the_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.replay.make_histories import HISTORIES

    db = str(tmp_path / "deep.db")
    assert main(["import", str(HISTORIES / "deep.json"), "--db", db]) == 0
    capsys.readouterr()
    out_file = tmp_path / "child.json"
    assert main(["export", "c2a9b0666b81e0bd7", "--db", db, "-o", str(out_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("triggerlog: error: ")
    assert captured.err.count("\n") == 1
    assert "export 'golden-deep' instead" in captured.err
    assert not out_file.exists()


def test_a_database_with_a_flow_name_outside_todays_rule_stays_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review of issue 11, finding 9: only defining a flow checks the name rule."""
    from orchestrator import TriggerFlow

    db = str(tmp_path / "old.db")
    flow = TriggerFlow(name="placeholder", store=db)
    flow.definition.name = "old name: v1"  # as an older build could have written it

    def step(data: object) -> int:
        return 1

    flow.to(step)
    execution = flow.create_execution()
    execution.start(0)
    flow.store.close()
    assert main(["list", "--db", db]) == 0
    assert "old name: v1" in capsys.readouterr().out
    assert main(["show", execution.id, "--db", db]) == 0
    assert (
        main(["export", execution.id, "--db", db, "-o", str(tmp_path / "h.json")]) == 0
    )

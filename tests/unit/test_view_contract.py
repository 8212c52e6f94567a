"""view_problem: the JSON form of a view, checked before from_json trusts it."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import CorruptEventError
from orchestrator.events.codec import encode
from orchestrator.events.execution import ExecutionCreated, SnapshotTaken
from orchestrator.projection.execution import ExecutionView
from orchestrator.projection.projector import fold
from orchestrator.projection.view_contract import signal_problem, view_problem
from orchestrator.store.base import StoredEvent


def _view() -> dict[str, Any]:
    return ExecutionView("e1", flow_name="f", fingerprint="sha256:0").to_json()


def test_a_fresh_view_passes() -> None:
    assert view_problem(_view()) is None


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("state", [], "view.state: expected an object, found list []"),
        ("signals", "s", "view.signals: expected an object"),
        ("signals", {"x": {"id": 1}}, "view.signals['x'].id: expected a string"),
        ("runs", {"r": {"run_id": "r"}}, "view.runs['r'].op_id: missing"),
        ("last_seq", -1, "view.last_seq: expected an integer >= 0"),
        ("last_seq", True, "view.last_seq: expected an integer >= 0"),
        ("created_at", "now", "view.created_at: expected a number or null"),
        ("kind", "flow", "view.kind: expected one of execution, child"),
        ("format", 2, "view.format: expected 1"),
        ("frames", {"c": {"child_id": "c"}}, "view.frames['c'].operator_id: missing"),
    ],
)
def test_each_wrong_field_is_named(key: str, value: Any, expected: str) -> None:
    view = _view()
    view[key] = value
    problem = view_problem(view)
    assert problem is not None
    assert problem.startswith(expected)


def test_not_an_object_and_a_missing_field() -> None:
    assert view_problem([]) == "view: expected an object, found list []"
    view = _view()
    del view["joins"]
    assert view_problem(view) == "view.joins: missing"


def test_signal_records() -> None:
    good = {
        "id": "s",
        "event": "E",
        "type": "event",
        "value": None,
        "source": "x",
        "cascade": "s",
        "layers": [],
        "targets": ["op"],
    }
    assert signal_problem(good, "emits[0]") is None
    assert signal_problem({**good, "targets": [1]}, "emits[0]") == (
        "emits[0].targets[0]: expected a string, found int 1"
    )


def test_a_damaged_snapshot_in_the_log_is_a_corrupt_event_not_a_type_error() -> None:
    created = ExecutionCreated(
        flow_name="f",
        fingerprint="sha256:0",
        kind="execution",
        resource_keys=[],
        auto_close=False,
        concurrency=None,
        skip_exceptions=False,
        parent=None,
    )
    bad = _view()
    bad["signals"] = "tampered"
    events = [
        StoredEvent("e1", 1, 1, *encode(created), 0.0),
        StoredEvent("e1", 2, 2, *encode(SnapshotTaken(view=bad)), 0.0),
    ]
    with pytest.raises(CorruptEventError, match=r"view\.signals") as caught:
        fold("e1", events)
    assert (caught.value.stream_id, caught.value.seq) == ("e1", 2)

"""Diff of JSON values and of execution views (issue 14): properties and shapes."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator import FakeClock, InMemoryEventStore, TriggerFlow
from orchestrator.read_model import (
    JsonChange,
    apply_changes,
    diff_json,
    diff_states,
    format_path,
    state_at,
)
from orchestrator.testing import json_values

DOCS = st.dictionaries(
    st.sampled_from(["a", "b", "c d", "n"]), json_values(8), max_size=4
)


def _bytes(value: Any) -> bytes:
    # 1, 1.0 and True are different JSON: compare encodings, not Python equality.
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@given(json_values(10))
def test_a_value_against_itself_has_no_changes(value: Any) -> None:
    assert diff_json(value, value) == []


@settings(max_examples=300)
@given(DOCS, DOCS)
def test_applying_the_diff_of_a_and_b_to_a_gives_b(a: Any, b: Any) -> None:
    before = _bytes(a)
    changes = diff_json(a, b)
    assert _bytes(apply_changes(a, changes)) == _bytes(b)
    assert _bytes(a) == before  # a is not modified
    assert (changes == []) == (_bytes(a) == _bytes(b))


@given(json_values(10), json_values(10))
def test_any_two_values_round_trip(a: Any, b: Any) -> None:
    assert _bytes(apply_changes(a, diff_json(a, b))) == _bytes(b)


def test_changes_name_paths_kinds_and_values() -> None:
    a = {"x": 1, "list": [1, 2, 3], "gone": True, "deep": {"k": "v"}}
    b = {"x": 1.0, "list": [1, 5], "deep": {"k": "v", "new key": None}}
    changes = diff_json(a, b)
    assert [c.format() for c in changes] == [
        "~ state $.x: 1 -> 1.0",
        "~ state $.list[1]: 2 -> 5",
        "- state $.list[2]: 3",
        "- state $.gone: true",
        '+ state $.deep["new key"]: null',
    ]
    assert changes[2].to_json() == {
        "layer": "state",
        "path": "$.list[2]",
        "keys": ["list", 2],
        "kind": "removed",
        "old": 3,
    }
    assert JsonChange("flow_state", ("a",), "added", new=1).to_json() == {
        "layer": "flow_state",
        "path": "$.a",
        "keys": ["a"],
        "kind": "added",
        "new": 1,
    }
    assert format_path(()) == "$"


def test_diff_of_two_executions_and_of_two_seqs() -> None:
    store = InMemoryEventStore()
    flow = TriggerFlow(name="twice", store=store, clock=FakeClock())

    def work(data: Any) -> None:
        data.set_state("input", data.value)
        data.set_state("double", data.value * 2)

    flow.to(work)
    flow.create_execution(execution_id="one").start(1)
    flow.create_execution(execution_id="two").start(2)
    difference = diff_states(state_at(store, "one"), state_at(store, "two"))
    assert difference.a == "one@6" or difference.a.startswith("one@")
    assert [c.path_text for c in difference.changes] == ["$.input", "$.double"]
    assert difference.status is None
    document = difference.to_json()
    assert orjson.loads(orjson.dumps(document)) == document
    assert document["empty"] is False
    start = diff_states(state_at(store, "one", 1), state_at(store, "one"))
    assert start.status == ("created", "completed")
    assert start.lifecycle == ("open", "closed")
    assert "~ status: created -> completed" in start.format()
    same = diff_states(state_at(store, "two"), state_at(store, "two"))
    assert same.empty
    assert same.format().endswith("no differences")

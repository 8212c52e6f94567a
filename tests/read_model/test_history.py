"""read_events: pages, type filters, chunk names, children merged in log order (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import (
    ExecutionNotFoundError,
    FakeClock,
    InMemoryEventStore,
    TriggerFlow,
)
from orchestrator.read_model import SeqOutOfRangeError, read_events, state_at
from orchestrator.read_model.timeline import EventTypeFilterError


def _store() -> tuple[InMemoryEventStore, str]:
    store = InMemoryEventStore()
    clock = FakeClock()
    child = TriggerFlow(name="hist-child", store=store, clock=clock)
    child.to(("child_step", lambda data: data.set_state("seen", data.value)))
    flow = TriggerFlow(name="hist", store=store, clock=clock)

    def many(data: Any) -> Any:
        for i in range(30):
            data.set_state(f"k{i % 3}", i)
        return data.value

    flow.to(many).to(child).to(("last", lambda data: data.set_state("end", True)))
    execution = flow.create_execution(execution_id="root")
    execution._engine.journal.snapshot_every = 7
    execution.start("in")
    return store, "root"


def test_pages_put_together_are_the_whole_history() -> None:
    store, root = _store()
    whole = read_events(store, root)
    assert [e.seq for e in whole] == list(range(1, len(whole) + 1))
    pages = []
    start = 1
    while page := read_events(store, root, from_seq=start, limit=9):
        pages.extend(page)
        start = page[-1].seq + 1
    assert pages == whole
    assert read_events(store, root, from_seq=5, to_seq=7) == whole[4:7]


def test_chunk_names_and_run_ids_are_known_on_a_deep_page() -> None:
    store, root = _store()
    writes = read_events(store, root, types=["state.set"])
    assert {e.chunk for e in writes} == {"many", "last"}
    assert all(e.run_id for e in writes)
    deep = read_events(store, root, from_seq=writes[20].seq, types=["state"])
    assert deep[0] == writes[20]
    assert deep[0].summary == "k2 = 20"
    assert deep[0].data["value"] == 20
    chunks = read_events(store, root, types=["chunk"])
    assert {e.type.partition(".")[0] for e in chunks} == {"chunk"}
    created = read_events(store, root, limit=1)[0]
    assert (created.type, created.run_id, created.chunk) == (
        "execution.created",
        None,
        None,
    )


def test_children_are_merged_in_log_order() -> None:
    store, root = _store()
    merged = read_events(store, root, children=True)
    positions = [e.position for e in merged]
    assert positions == sorted(positions)
    owners = {e.execution_id for e in merged}
    assert root in owners
    assert len(owners) == 2
    assert read_events(store, root, children=True, limit=3) == merged[:3]
    (child_id,) = owners - {root}
    assert state_at(store, root).children == {child_id: "completed"}
    assert state_at(store, child_id).parent_id == root


def test_unknown_ids_and_seqs_are_errors() -> None:
    store, root = _store()
    with pytest.raises(ExecutionNotFoundError):
        read_events(store, "nope")
    with pytest.raises(ExecutionNotFoundError):
        state_at(store, "flow:hist")
    with pytest.raises(SeqOutOfRangeError):
        read_events(store, root, from_seq=0)
    last = store.get_stream(root)
    assert last is not None
    with pytest.raises(SeqOutOfRangeError, match="no seq"):
        state_at(store, root, last.last_seq + 1)
    with pytest.raises(SeqOutOfRangeError):
        state_at(store, root, 0)
    assert read_events(store, root, from_seq=last.last_seq + 1) == []


def test_a_type_filter_that_names_nothing_is_an_error_not_an_empty_page() -> None:
    store, execution_id = _store()
    with pytest.raises(EventTypeFilterError, match=r"'chunk\.complete'"):
        read_events(store, execution_id, types=["chunk.complete"])
    assert read_events(store, execution_id, types=["chunk"])
    assert read_events(store, execution_id, types=["chunk.completed"])

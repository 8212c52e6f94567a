"""T4: a full disk is a typed error, the batch is rolled back, the store recovers.

(a) ``max_page_count`` (no privileges): SQLite reports SQLITE_FULL.
(b) ``RLIMIT_FSIZE`` in a child with SIGXFSZ ignored: the write fails with EFBIG,
    which SQLite reports as an I/O error (StorageIOError).
Rule 12 is what makes the message survive: SQLite may already have rolled the
transaction back, and a blind ROLLBACK would replace "database or disk is full"
by "cannot rollback - no transaction is active".
"""

from __future__ import annotations

import asyncio

import orjson
import pytest

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.errors import StorageFullError, StorageIOError, StoreError
from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore
from orchestrator.testing import fold_execution
from tests.reliability.helpers import integrity, run_python

BIG = 200 * 1024  # below the 256 KB warning threshold, far above 30 pages


def small(i: int) -> NewEvent:
    return NewEvent("t.small", b'{"i":%d}' % i)


def big() -> NewEvent:
    return NewEvent("t.big", b"x" * BIG)


@pytest.fixture
def full_store(db_path, clock):
    store = SQLiteEventStore(db_path, clock=clock, max_page_count=30)
    for i in range(5):
        store.append_blocking([AppendRequest(f"s{i % 2}", [small(i)])])
    yield store
    store.close()


def test_storage_full_carries_the_sqlite_message(full_store, db_path) -> None:
    before = full_store.read_all()
    heads = {s.stream_id: s for s in full_store.list_streams()}
    with pytest.raises(StorageFullError) as caught:
        full_store.append_blocking([AppendRequest("s0", [small(9), big()])])
    message = str(caught.value)
    assert "database or disk is full" in message
    assert "cannot rollback" not in message
    assert isinstance(caught.value.__cause__, Exception)
    # nothing of the unit was written, earlier events are unchanged
    assert full_store.read_all() == before
    assert {s.stream_id: s for s in full_store.list_streams()} == heads
    assert integrity(db_path) == "ok"
    # the store is still usable: small appends fit, at the right seq
    [result] = full_store.append_blocking(
        [AppendRequest("s0", [small(10)], expected_seq=3)]
    )
    assert result.last_seq == 4


def test_a_multi_stream_unit_that_does_not_fit_is_all_or_nothing(full_store) -> None:
    before = full_store.read_all()
    with pytest.raises(StorageFullError):
        full_store.append_blocking(
            [AppendRequest("new", [small(1)]), AppendRequest("s1", [big()])]
        )
    assert full_store.read_all() == before
    assert full_store.get_stream("new") is None


async def test_a_full_unit_does_not_fail_its_batch_neighbours(full_store) -> None:
    futures = [
        full_store.submit([AppendRequest("a", [small(1)])]),
        full_store.submit([AppendRequest("b", [big()])]),
        full_store.submit([AppendRequest("c", [small(2)], expected_seq=0)]),
    ]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert isinstance(outcomes[1], StorageFullError)
    assert isinstance(outcomes[0], list)
    assert isinstance(outcomes[2], list)
    assert full_store.get_stream("b") is None
    assert [len(full_store.read_stream(s)) for s in "ac"] == [1, 1]


def test_more_room_after_a_reopen(full_store, db_path, clock) -> None:
    with pytest.raises(StorageFullError):
        full_store.append_blocking([AppendRequest("s1", [big()])])
    full_store.close()
    roomy = SQLiteEventStore(db_path, clock=clock, max_page_count=1000)
    try:
        [result] = roomy.append_blocking([AppendRequest("s1", [big()], expected_seq=2)])
        assert result.last_seq == 3
        assert len(roomy.read_stream("s1")[-1].data) == BIG
        assert len(roomy.read_all()) == 6
    finally:
        roomy.close()
    assert integrity(db_path) == "ok"


async def test_a_flow_on_a_full_disk_raises_storage_full_error(db_path, clock) -> None:
    """durability.md promises StorageFullError: the runtime's "the log refused a
    write" error keeps the class (and the store's error as its cause)."""
    store = SQLiteEventStore(db_path, clock=clock, max_page_count=30)
    flow = TriggerFlow(name="full", store=store)

    async def fill(data: TriggerFlowRuntimeData) -> None:
        data.set_state("blob", "x" * BIG)

    flow.when("go").to(fill)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    with pytest.raises(StorageFullError) as caught:
        await execution.async_emit("go")
    error = caught.value
    assert f"execution {execution.id!r}" in str(error)
    assert "database or disk is full" in str(error)
    assert isinstance(error.__cause__, StorageFullError)
    with pytest.raises(StorageFullError):
        await execution.async_close()
    store.close()
    # With room again, the execution is rebuilt from what the log holds.
    roomy = SQLiteEventStore(db_path, clock=clock)
    try:
        again = TriggerFlow(name="full", store=roomy)
        again.when("go").to(fill)
        rebuilt = again.get_execution(execution.id)
        assert rebuilt.get_state("blob") is None
        await rebuilt.async_close()
    finally:
        roomy.close()


FSIZE_CHILD = r"""
import resource, signal, sys
import orjson
from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore

path = sys.argv[1]
store = SQLiteEventStore(path)  # the schema is written before the limit applies
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))
seq = 0
try:
    for i in range(1000):
        events = [NewEvent("t.chunk", orjson.dumps({"i": i, "part": p, "pad": "y" * 9000})) for p in range(3)]
        store.append_blocking([AppendRequest("s", events, expected_seq=seq)])
        seq += 3
        print("ack", i, flush=True)
except Exception as error:
    print("error", type(error).__name__, str(error).replace("\n", " "), flush=True)
try:
    store.append_blocking([AppendRequest("s", [NewEvent("t.tiny", b"{}")], expected_seq=seq)])
    print("after ok", flush=True)
except Exception as error:
    print("after", type(error).__name__, flush=True)
store.close()
"""


def test_file_size_limit_is_a_typed_io_error(db_path) -> None:
    proc = run_python(FSIZE_CHILD, db_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    acked = [int(line.split()[1]) for line in lines if line.startswith("ack ")]
    [error] = [line for line in lines if line.startswith("error ")]
    assert acked, "the limit hit before the first append: the test proves nothing"
    kind = error.split()[1]
    assert kind in (StorageIOError.__name__, StorageFullError.__name__), error
    assert "disk I/O error" in error or "database or disk is full" in error
    # Without the limit, the file is intact and every acked append is whole.
    assert integrity(db_path) == "ok"
    store = SQLiteEventStore(db_path)
    try:
        events = store.read_stream("s")
        assert len(events) % 3 == 0
        steps = [orjson.loads(e.data)["i"] for e in events]
        assert steps[::3] == list(range(len(events) // 3))
        assert set(acked) <= set(steps)
        store.append_blocking([AppendRequest("s", [NewEvent("t.tiny", b"{}")])])
    finally:
        store.close()
    assert isinstance(StorageIOError("x"), StoreError)


async def test_a_poisoned_execution_is_rebuilt_by_get_execution(db_path, clock) -> None:
    """The store-failure message says "Rebuild it from the log with
    flow.get_execution(id) once the store is healthy": the poisoned engine left
    the flow's live set, so that call rebuilds a fresh handle from the log (not
    the broken one), and it continues."""
    store = SQLiteEventStore(db_path, clock=clock, max_page_count=30)
    flow = TriggerFlow(name="full", store=store)

    async def fill(data: TriggerFlowRuntimeData) -> None:
        data.set_state("blob", data.value)

    flow.when("go").to(fill)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    with pytest.raises(StorageFullError) as caught:
        await execution.async_emit("go", "x" * BIG)
    assert "flow.get_execution(id)" in str(caught.value)
    with pytest.raises(StorageFullError):
        await execution.async_emit("go", "again")  # the broken handle stays refused
    # The store is healthy again for what fits: small appends.
    rebuilt = flow.get_execution(execution.id)
    assert rebuilt is not execution
    assert rebuilt.view.to_json() == fold_execution(store, execution.id).to_json()
    assert rebuilt.get_state("blob") is None
    await rebuilt.async_emit("go", "small")
    assert rebuilt.get_state("blob") == "small"
    assert await rebuilt.async_close() == {"blob": "small"}
    assert fold_execution(store, execution.id).status == "completed"
    store.close()

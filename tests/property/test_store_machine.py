"""Model-based test: SQLite and the in-memory store must always agree.

A RuleBasedStateMachine (Hypothesis ``DatabaseComparison`` pattern, plus Chroma's
restart rule) drives both backends with the same random operations: appends with
right and wrong expected seqs, multi-stream atomic units, bursts of concurrent
submits (one group commit), reads, listings, paging, leases, clock moves, and
``reopen`` (close the SQLite store and open the file again). Every outcome, error
included, must be identical, and so must the whole log after every step.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from orchestrator.clock import FakeClock
from orchestrator.errors import ConcurrencyError, OrchestratorError
from orchestrator.store import (
    AppendRequest,
    InMemoryEventStore,
    NewEvent,
    SQLiteEventStore,
    StreamMeta,
)

STREAMS = ["a", "b", "c", "flow:f", "e'x"]
OWNERS = [None, "w1", "w2"]

stream_ids = st.sampled_from(STREAMS)
metas = st.one_of(
    st.none(),
    st.builds(
        StreamMeta,
        kind=st.sampled_from([None, "execution", "flow"]),
        flow_name=st.sampled_from([None, "f", "g"]),
        parent_id=st.sampled_from([None, "a", "b"]),
        status=st.sampled_from([None, "running", "waiting", "completed"]),
    ),
)
# "head" = the right expected seq, an int = probably wrong, None = no check
expectations = st.one_of(st.none(), st.just("head"), st.integers(0, 8))
request_specs = st.tuples(
    stream_ids,
    st.integers(0, 3),
    expectations,
    metas,
    st.sampled_from(OWNERS),
    st.booleans(),
    st.sampled_from([None, None, 0.0, 1.0, 10.0]),
)


def outcome(call: Any) -> tuple[Any, ...]:
    """A call's result, or its error reduced to what must match across backends."""
    try:
        return ("ok", call())
    except OrchestratorError as error:
        attrs = {
            k: getattr(error, k)
            for k in ("stream_id", "expected", "actual", "owner", "holder")
            if hasattr(error, k)
        }
        return ("error", type(error).__name__, str(error), attrs)


class StoreComparison(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="triggerlog-machine-"))
        self.path = self.dir / "log.db"
        self.clock = FakeClock()
        self.sqlite = SQLiteEventStore(self.path, clock=self.clock)
        # A second store object on the same file: another process's writer, whose
        # commits must invalidate what the first one cached (data_version).
        self.other = SQLiteEventStore(self.path, clock=self.clock)
        self.memory = InMemoryEventStore(clock=self.clock)
        self.counter = 0
        self.reopens = 0

    def teardown(self) -> None:
        self.sqlite.close()
        self.other.close()
        self.memory.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------

    def _head(self, sid: str) -> int:
        info = self.memory.get_stream(sid)
        return info.last_seq if info is not None else 0

    def _request(self, spec: tuple[Any, ...], heads: dict[str, int]) -> AppendRequest:
        sid, count, expected, meta, owner, snapshot, lease_ttl = spec
        if expected == "head":
            expected = heads.get(sid, self._head(sid))
        events = []
        for _ in range(count):
            self.counter += 1
            created = None if self.counter % 3 else float(self.counter)
            events.append(
                NewEvent(f"t.e{self.counter % 4}", b'{"n":%d}' % self.counter, created)
            )
        heads[sid] = heads.get(sid, self._head(sid)) + count
        index = count - 1 if snapshot and count else None
        return AppendRequest(sid, events, expected, meta, owner, index, lease_ttl)

    def both(self, call: Any) -> Any:
        left, right = (
            outcome(lambda: call(self.sqlite)),
            outcome(lambda: call(self.memory)),
        )
        assert left == right
        return left

    # -- rules ----------------------------------------------------------------------

    @rule(spec=request_specs)
    def append(self, spec: tuple[Any, ...]) -> None:
        request = self._request(spec, {})
        self.both(lambda store: store.append_blocking([request]))

    @rule(spec=request_specs)
    def append_through_another_writer(self, spec: tuple[Any, ...]) -> None:
        request = self._request(spec, {})
        left = outcome(lambda: self.other.append_blocking([request]))
        assert left == outcome(lambda: self.memory.append_blocking([request]))

    @rule(
        sid=stream_ids,
        owner=st.sampled_from(["w1", "w2"]),
        ttl=st.sampled_from([0.25, 1.0]),
    )
    def claim_through_another_writer(self, sid: str, owner: str, ttl: float) -> None:
        left = outcome(lambda: self.other.claim(sid, owner, ttl))
        assert left == outcome(lambda: self.memory.claim(sid, owner, ttl))

    @rule(specs=st.lists(request_specs, min_size=2, max_size=4))
    def append_unit(self, specs: list[tuple[Any, ...]]) -> None:
        heads: dict[str, int] = {}
        requests = [self._request(spec, heads) for spec in specs]
        self.both(lambda store: store.append_blocking(requests))

    @rule(
        units=st.lists(
            st.lists(request_specs, min_size=1, max_size=2), min_size=2, max_size=5
        )
    )
    def submit_burst(self, units: list[list[tuple[Any, ...]]]) -> None:
        """Several units in flight at once: SQLite commits them as one batch."""
        batches = [[self._request(spec, {}) for spec in unit] for unit in units]

        async def burst(store: Any) -> list[Any]:
            futures = [store.submit(batch) for batch in batches]
            done = await asyncio.gather(*futures, return_exceptions=True)
            return [
                (type(d).__name__, str(d)) if isinstance(d, ConcurrencyError) else d
                for d in done
            ]

        self.both(lambda store: asyncio.run(burst(store)))

    @rule(
        sid=stream_ids,
        count=st.integers(1, 2),
        expected=expectations,
        owner=st.sampled_from(OWNERS),
    )
    def append_async(
        self, sid: str, count: int, expected: Any, owner: str | None
    ) -> None:
        request = self._request((sid, count, expected, None, owner, False, None), {})

        async def append(store: Any) -> Any:
            return await store.append(
                sid, request.events, expected_seq=request.expected_seq, owner=owner
            )

        self.both(lambda store: asyncio.run(append(store)))

    @rule(
        sid=stream_ids,
        start=st.integers(-1, 8),
        end=st.one_of(st.none(), st.integers(-1, 10)),
    )
    def read_stream(self, sid: str, start: int, end: int | None) -> None:
        self.both(lambda store: store.read_stream(sid, max(start, 1), end))

    @rule(after=st.integers(0, 40), limit=st.integers(0, 7))
    def read_all(self, after: int, limit: int) -> None:
        self.both(lambda store: store.read_all(after, limit))

    @rule(
        kind=st.sampled_from([None, "execution", "flow", "stream"]),
        flow=st.sampled_from([None, "f", "g"]),
        status=st.one_of(
            st.none(),
            st.sampled_from(["open", "running", "waiting", "completed"]),
            st.lists(st.sampled_from(["open", "running", "completed"]), max_size=2),
        ),
        parent=st.sampled_from([None, "a", "b"]),
        limit=st.one_of(st.none(), st.integers(0, 4)),
    )
    def list_streams(self, kind, flow, status, parent, limit) -> None:
        self.both(
            lambda store: store.list_streams(
                kind=kind, flow_name=flow, status=status, parent_id=parent, limit=limit
            )
        )

    @rule(
        sid=stream_ids,
        owner=st.sampled_from(["w1", "w2"]),
        ttl=st.sampled_from([0.25, 1.0, 10.0]),
    )
    def claim(self, sid: str, owner: str, ttl: float) -> None:
        self.both(lambda store: store.claim(sid, owner, ttl))

    @rule(
        sid=stream_ids,
        owner=st.sampled_from(["w1", "w2"]),
        dead=st.sampled_from(["w1", "w2"]),
    )
    def steal(self, sid: str, owner: str, dead: str) -> None:
        self.both(lambda store: store.claim(sid, owner, 5.0, steal_from=dead))

    @rule(sid=stream_ids, owner=st.sampled_from(["w1", "w2"]))
    def release(self, sid: str, owner: str) -> None:
        self.both(lambda store: store.release(sid, owner))

    @rule(seconds=st.sampled_from([0.25, 1.0, 10.0]))
    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule()
    def reopen(self) -> None:
        self.sqlite.close()
        self.sqlite = SQLiteEventStore(self.path, clock=self.clock)
        self.reopens += 1

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def logs_agree(self) -> None:
        assert self.sqlite.head_position() == self.memory.head_position()
        assert self.sqlite.read_all(0, 10_000) == self.memory.read_all(0, 10_000)
        assert self.sqlite.list_streams() == self.memory.list_streams()
        for sid in STREAMS:
            assert self.sqlite.read_stream(sid) == self.memory.read_stream(sid)


TestStoreMachine = StoreComparison.TestCase

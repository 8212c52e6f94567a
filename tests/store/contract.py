"""EventStoreContract: the behaviour every backend must have, written once.

A backend's test module subclasses :class:`EventStoreContract` and overrides only
the ``store`` fixture (built with the ``clock`` fixture, a FakeClock). Time is
moved with ``clock.advance``; nothing here sleeps.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from orchestrator.errors import (
    ConcurrencyError,
    LeaseLostError,
    PayloadTooLargeError,
    StoreError,
)
from orchestrator.store import (
    AppendRequest,
    AppendResult,
    EventStore,
    NewEvent,
    PayloadSizeWarning,
    StoredEvent,
    StreamMeta,
)
from orchestrator.store.base import DEFAULT_MAX_EVENT_BYTES, DEFAULT_WARN_EVENT_BYTES

if TYPE_CHECKING:
    from orchestrator.clock import FakeClock


def ev(i: int, kind: str = "test.event") -> NewEvent:
    return NewEvent(kind, b'{"i":%d}' % i)


def req(
    stream_id: str,
    *numbers: int,
    expected_seq: int | None = None,
    meta: StreamMeta | None = None,
    owner: str | None = None,
    snapshot_index: int | None = None,
) -> AppendRequest:
    return AppendRequest(
        stream_id, [ev(i) for i in numbers], expected_seq, meta, owner, snapshot_index
    )


def payloads(events: list[StoredEvent]) -> list[bytes]:
    return [e.data for e in events]


class EventStoreContract:
    """Subclasses provide ``store``; every test below must pass on every backend."""

    @pytest.fixture
    def store(self, clock: FakeClock) -> EventStore:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- appending and reading back ------------------------------------------------

    def test_is_an_event_store(self, store: EventStore) -> None:
        assert isinstance(store, EventStore)
        assert store.read_only is False
        assert store.url

    def test_seqs_are_gap_free_from_one(self, store: EventStore, clock) -> None:
        [first] = store.append_blocking([req("s", 1, 2, 3)])
        clock.advance(1)
        [second] = store.append_blocking([req("s", 4, 5)])
        assert (first.first_seq, first.last_seq) == (1, 3)
        assert (second.first_seq, second.last_seq) == (4, 5)
        events = store.read_stream("s")
        assert [e.seq for e in events] == [1, 2, 3, 4, 5]
        assert payloads(events) == [ev(i).data for i in (1, 2, 3, 4, 5)]
        assert {e.type for e in events} == {"test.event"}
        assert all(e.stream_id == "s" for e in events)
        assert [e.created_at for e in events] == [clock.now() - 1] * 3 + [
            clock.now()
        ] * 2
        assert second.last_position == events[-1].position

    def test_explicit_created_at_is_kept(self, store: EventStore, clock) -> None:
        store.append_blocking([AppendRequest("s", [NewEvent("t.x", b"1", 12.5)])])
        assert store.read_stream("s")[0].created_at == 12.5

    def test_streams_are_independent(self, store: EventStore) -> None:
        store.append_blocking([req("a", 1)])
        store.append_blocking([req("b", 2, 3)])
        store.append_blocking([req("a", 4)])
        assert payloads(store.read_stream("a")) == [ev(1).data, ev(4).data]
        assert [e.seq for e in store.read_stream("b")] == [1, 2]
        assert store.read_stream("missing") == []

    def test_positions_grow_across_streams(self, store: EventStore) -> None:
        for sid in ("a", "b", "a", "c", "b"):
            store.append_blocking([req(sid, 0, 1)])
        log = store.read_all()
        positions = [e.position for e in log]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions) == 10
        assert store.head_position() == positions[-1]

    def test_empty_store(self, store: EventStore) -> None:
        assert store.head_position() == 0
        assert store.read_all() == []
        assert store.list_streams() == []
        assert store.get_stream("nope") is None

    async def test_async_append_returns_when_durable(self, store: EventStore) -> None:
        result = await store.append("s", [ev(1), ev(2)])
        assert isinstance(result, AppendResult)
        assert result == AppendResult("s", 1, 2, result.last_position)
        assert [e.seq for e in store.read_stream("s")] == [1, 2]

    async def test_submit_resolves_to_results(self, store: EventStore) -> None:
        fut = store.submit([req("a", 1), req("b", 2)])
        results = await fut
        assert [(r.stream_id, r.first_seq, r.last_seq) for r in results] == [
            ("a", 1, 1),
            ("b", 1, 1),
        ]
        assert results[0].last_position < results[1].last_position

    # -- expected seq ----------------------------------------------------------------

    def test_expected_seq_zero_creates(self, store: EventStore) -> None:
        [result] = store.append_blocking([req("s", 1, expected_seq=0)])
        assert result.last_seq == 1
        store.append_blocking([req("s", 2, expected_seq=1)])
        assert len(store.read_stream("s")) == 2

    @pytest.mark.parametrize(("head", "expected"), [(0, 1), (2, 0), (2, 1), (2, 5)])
    def test_wrong_expected_seq_is_refused(
        self, store: EventStore, head: int, expected: int
    ) -> None:
        if head:
            store.append_blocking([req("s", *range(head))])
        before = store.read_all()
        with pytest.raises(ConcurrencyError) as caught:
            store.append_blocking([req("s", 9, expected_seq=expected)])
        error = caught.value
        assert (error.stream_id, error.expected, error.actual) == ("s", expected, head)
        assert not isinstance(error, LeaseLostError)
        assert f"expected head seq {expected} but found {head}" in str(error)
        assert store.read_all() == before
        info = store.get_stream("s")
        assert (info.last_seq if info else 0) == head

    async def test_wrong_expected_seq_fails_the_await(self, store: EventStore) -> None:
        await store.append("s", [ev(1)])
        with pytest.raises(ConcurrencyError) as caught:
            await store.append("s", [ev(2)], expected_seq=0)
        assert caught.value.actual == 1
        assert len(store.read_stream("s")) == 1

    def test_expected_seq_none_appends_at_head(self, store: EventStore) -> None:
        store.append_blocking([req("s", 1, 2)])
        [result] = store.append_blocking([req("s", 3, expected_seq=None)])
        assert (result.first_seq, result.last_seq) == (3, 3)

    # -- atomic units ----------------------------------------------------------------

    def test_multi_stream_unit_is_written_together(self, store: EventStore) -> None:
        results = store.append_blocking([req("a", 1, 2), req("b", 3), req("c", 4)])
        assert [r.stream_id for r in results] == ["a", "b", "c"]
        positions = [e.position for e in store.read_all()]
        assert positions == list(range(positions[0], positions[0] + 4))
        assert results[-1].last_position == positions[-1]

    @pytest.mark.parametrize("bad", [0, 1, 2])
    def test_multi_stream_unit_is_all_or_nothing(
        self, store: EventStore, bad: int
    ) -> None:
        store.append_blocking([req("a", 0), req("b", 0), req("c", 0)])
        before = store.read_all()
        requests = [req(s, 1, 2, expected_seq=1) for s in ("a", "b", "c")]
        requests[bad] = req(requests[bad].stream_id, 1, expected_seq=7)
        with pytest.raises(ConcurrencyError) as caught:
            store.append_blocking(requests)
        assert caught.value.stream_id == "abc"[bad]
        assert store.read_all() == before
        assert [store.get_stream(s).last_seq for s in "abc"] == [1, 1, 1]  # type: ignore[union-attr]
        # the refused unit left nothing behind: the same unit now succeeds
        requests[bad] = req(requests[bad].stream_id, 1, expected_seq=1)
        store.append_blocking(requests)
        heads = [store.get_stream(s).last_seq for s in "abc"]  # type: ignore[union-attr]
        assert heads == [2 if i == bad else 3 for i in range(3)]

    def test_same_stream_twice_in_a_unit(self, store: EventStore) -> None:
        results = store.append_blocking(
            [req("s", 1, expected_seq=0), req("s", 2, 3, expected_seq=1)]
        )
        assert [(r.first_seq, r.last_seq) for r in results] == [(1, 1), (2, 3)]
        with pytest.raises(ConcurrencyError):
            store.append_blocking(
                [req("s", 4, expected_seq=3), req("s", 5, expected_seq=3)]
            )
        assert len(store.read_stream("s")) == 3

    async def test_a_refused_unit_does_not_fail_its_neighbours(
        self, store: EventStore
    ) -> None:
        await store.append("s0", [ev(0)])
        # Submitted in one burst, so a group-committing backend batches them.
        futures = [
            store.submit([req(f"s{i}", i, expected_seq=None)]) for i in range(1, 4)
        ]
        futures.append(store.submit([req("s0", 9, expected_seq=5)]))
        futures += [store.submit([req(f"s{i}", i, expected_seq=0)]) for i in (5, 6)]
        futures.append(store.submit([req("s0", 1, expected_seq=1), req("s7", 7)]))
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert isinstance(outcomes[3], ConcurrencyError)
        assert outcomes[3].actual == 1
        for index in (0, 1, 2, 4, 5, 6):
            assert isinstance(outcomes[index], list), outcomes[index]
        assert [e.seq for e in store.read_stream("s0")] == [1, 2]
        assert {s.stream_id for s in store.list_streams()} == {
            f"s{i}" for i in (0, 1, 2, 3, 5, 6, 7)
        }

    async def test_flush_waits_for_everything_submitted(
        self, store: EventStore
    ) -> None:
        futures = [store.submit([req(f"s{i % 3}", i)]) for i in range(30)]
        await store.flush()
        assert all(f.done() for f in futures)
        assert sum(len(store.read_stream(f"s{k}")) for k in range(3)) == 30

    async def test_flush_blocking_on_the_loop_thread_waits_for_durability(
        self, store: EventStore
    ) -> None:
        # Called from the loop's own thread, as execution.save() does: it must
        # neither deadlock nor return before earlier submissions are committed.
        futures = [store.submit([req(f"s{i % 3}", i)]) for i in range(30)]
        store.flush_blocking()
        assert sum(len(store.read_stream(f"s{k}")) for k in range(3)) == 30
        await asyncio.gather(*futures)

    # -- reading ranges and the global log ---------------------------------------------

    @pytest.mark.parametrize(
        ("from_seq", "to_seq", "seqs"),
        [
            (1, None, [1, 2, 3, 4, 5]),
            (2, None, [2, 3, 4, 5]),
            (2, 4, [2, 3, 4]),
            (5, 5, [5]),
            (6, None, []),
            (4, 2, []),
            (1, 99, [1, 2, 3, 4, 5]),
        ],
    )
    def test_read_stream_range(
        self, store: EventStore, from_seq: int, to_seq: int | None, seqs: list[int]
    ) -> None:
        store.append_blocking([req("s", 1, 2, 3, 4, 5)])
        events = store.read_stream("s", from_seq, to_seq)
        assert [e.seq for e in events] == seqs
        assert payloads(events) == [ev(i).data for i in seqs]

    def test_read_all_pages_through_the_log(self, store: EventStore) -> None:
        for i in range(7):
            store.append_blocking([req(f"s{i % 3}", i, i + 100)])
        everything = store.read_all(0, 1000)
        assert len(everything) == 14
        paged: list[StoredEvent] = []
        after = 0
        while page := store.read_all(after, 3):
            assert len(page) <= 3
            assert all(e.position > after for e in page)
            paged += page
            after = page[-1].position
        assert paged == everything
        assert store.read_all(everything[-1].position) == []
        middle = everything[5].position
        assert store.read_all(middle, 2) == everything[6:8]

    def test_read_all_matches_read_stream(self, store: EventStore) -> None:
        store.append_blocking([req("a", 1, 2), req("b", 3)])
        store.append_blocking([req("b", 4)])
        log = store.read_all()
        for sid in ("a", "b"):
            assert [e for e in log if e.stream_id == sid] == store.read_stream(sid)

    # -- the streams index ------------------------------------------------------------

    def test_get_stream_reports_the_index_row(self, store: EventStore, clock) -> None:
        start = clock.now()
        meta = StreamMeta(
            kind="execution", flow_name="f", parent_id="p", status="running"
        )
        store.append_blocking([req("s", 1, meta=meta)])
        clock.advance(5)
        store.append_blocking([req("s", 2, 3)])
        info = store.get_stream("s")
        assert info is not None
        assert (info.stream_id, info.kind, info.flow_name, info.parent_id) == (
            "s",
            "execution",
            "f",
            "p",
        )
        assert (info.status, info.last_seq, info.snapshot_seq) == ("running", 3, 0)
        assert (info.created_at, info.updated_at) == (start, start + 5)
        assert (info.owner, info.lease_until) == (None, None)

    def test_defaults_without_meta(self, store: EventStore) -> None:
        store.append_blocking([req("s", 1)])
        info = store.get_stream("s")
        assert info is not None
        assert (info.kind, info.status, info.flow_name, info.parent_id) == (
            "stream",
            "open",
            None,
            None,
        )

    def test_meta_is_taken_at_creation_and_status_updates(
        self, store: EventStore
    ) -> None:
        store.append_blocking([req("s", 1, meta=StreamMeta(kind="execution"))])
        store.append_blocking(
            [
                req(
                    "s",
                    2,
                    meta=StreamMeta(kind="other", flow_name="g", status="waiting"),
                )
            ]
        )
        info = store.get_stream("s")
        assert info is not None
        assert (info.kind, info.flow_name, info.status) == (
            "execution",
            None,
            "waiting",
        )
        store.append_blocking([req("s", 3, meta=StreamMeta(status=None))])
        assert store.get_stream("s").status == "waiting"  # type: ignore[union-attr]
        store.append_blocking([req("s", 4, meta=StreamMeta(status="completed"))])
        assert store.get_stream("s").status == "completed"  # type: ignore[union-attr]
        assert [s.stream_id for s in store.list_streams(status="completed")] == ["s"]
        assert store.list_streams(status="waiting") == []

    def test_a_status_change_may_carry_no_events(self, store: EventStore) -> None:
        store.append_blocking([req("s", 1)])
        [result] = store.append_blocking(
            [AppendRequest("s", [], meta=StreamMeta(status="closed"))]
        )
        assert (result.first_seq, result.last_seq) == (2, 1)
        info = store.get_stream("s")
        assert (info.status, info.last_seq) == ("closed", 1)  # type: ignore[union-attr]

    def _populate(self, store: EventStore, clock) -> None:
        rows = [
            ("e1", "execution", "f", None, "running"),
            ("e2", "execution", "f", None, "completed"),
            ("e3", "execution", "g", None, "waiting"),
            ("c1", "execution", "f", "e1", "running"),
            ("c2", "execution", "g", "e1", "failed"),
            ("flow:f", "flow", "f", None, "open"),
        ]
        for sid, kind, flow, parent, status in rows:
            meta = StreamMeta(
                kind=kind, flow_name=flow, parent_id=parent, status=status
            )
            store.append_blocking([req(sid, 1, meta=meta)])
            clock.advance(1)

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({}, ["flow:f", "c2", "c1", "e3", "e2", "e1"]),
            ({"kind": "execution"}, ["c2", "c1", "e3", "e2", "e1"]),
            ({"kind": "flow"}, ["flow:f"]),
            ({"flow_name": "g"}, ["c2", "e3"]),
            ({"status": "running"}, ["c1", "e1"]),
            ({"status": ["waiting", "failed"]}, ["c2", "e3"]),
            ({"status": ("completed",)}, ["e2"]),
            ({"status": []}, []),
            ({"parent_id": "e1"}, ["c2", "c1"]),
            (
                {"kind": "execution", "flow_name": "f", "status": "running"},
                ["c1", "e1"],
            ),
            ({"limit": 2}, ["flow:f", "c2"]),
            ({"kind": "execution", "limit": 1}, ["c2"]),
            ({"limit": 0}, []),
            ({"kind": "nothing"}, []),
        ],
    )
    def test_list_streams_filters(
        self, store: EventStore, clock, filters: dict[str, Any], expected: list[str]
    ) -> None:
        self._populate(store, clock)
        assert [s.stream_id for s in store.list_streams(**filters)] == expected

    def test_list_streams_newest_update_first(self, store: EventStore, clock) -> None:
        for sid in ("b", "a", "c"):
            store.append_blocking([req(sid, 1)])  # same updated_at: ties by id
        assert [s.stream_id for s in store.list_streams()] == ["a", "b", "c"]
        clock.advance(1)
        store.append_blocking([req("b", 2)])
        assert [s.stream_id for s in store.list_streams()] == ["b", "a", "c"]
        assert store.list_streams()[0].last_seq == 2

    # -- snapshots ---------------------------------------------------------------------

    def test_snapshot_index_sets_snapshot_seq(self, store: EventStore) -> None:
        store.append_blocking([req("s", 1, 2)])
        store.append_blocking([req("s", 3, 4, 5, snapshot_index=1)])
        assert store.get_stream("s").snapshot_seq == 4  # type: ignore[union-attr]
        store.append_blocking([req("s", 6)])
        assert store.get_stream("s").snapshot_seq == 4  # type: ignore[union-attr]
        store.append_blocking([req("s", 7, snapshot_index=0)])
        info = store.get_stream("s")
        assert (info.snapshot_seq, info.last_seq) == (7, 7)  # type: ignore[union-attr]
        assert store.list_streams()[0].snapshot_seq == 7

    @pytest.mark.parametrize("index", [-1, 2, 5])
    def test_snapshot_index_outside_the_request_is_refused(
        self, store: EventStore, index: int
    ) -> None:
        with pytest.raises(StoreError, match="snapshot_index"):
            store.append_blocking([req("s", 1, 2, snapshot_index=index)])
        assert store.read_all() == []

    # -- leases and fencing ------------------------------------------------------------

    def test_claim_needs_an_existing_stream(self, store: EventStore) -> None:
        assert store.claim("nope", "w1", 10) is False
        store.release("nope", "w1")
        assert store.get_stream("nope") is None

    def test_claim_release_and_expiry(self, store: EventStore, clock) -> None:
        store.append_blocking([req("s", 1)])
        assert store.claim("s", "w1", 30) is True
        info = store.get_stream("s")
        assert (info.owner, info.lease_until) == ("w1", clock.now() + 30)  # type: ignore[union-attr]
        assert store.claim("s", "w2", 30) is False
        clock.advance(29.5)
        assert store.claim("s", "w2", 30) is False
        assert store.claim("s", "w1", 30) is True  # renew from now
        clock.advance(29.5)
        assert store.claim("s", "w2", 30) is False
        clock.advance(0.5)  # lease_until <= now: expired
        assert store.claim("s", "w2", 30) is True
        assert store.get_stream("s").owner == "w2"  # type: ignore[union-attr]
        store.release("s", "w1")  # not the holder: no-op
        assert store.get_stream("s").owner == "w2"  # type: ignore[union-attr]
        store.release("s", "w2")
        info = store.get_stream("s")
        assert (info.owner, info.lease_until) == (None, None)  # type: ignore[union-attr]
        assert store.claim("s", "w3", 1) is True

    def test_leases_do_not_change_the_stream(self, store: EventStore, clock) -> None:
        store.append_blocking([req("s", 1)])
        before = store.read_stream("s")
        clock.advance(3)
        store.claim("s", "w1", 10)
        store.release("s", "w1")
        assert store.read_stream("s") == before
        assert store.get_stream("s").last_seq == 1  # type: ignore[union-attr]

    def test_fencing_refuses_appends_of_a_non_holder(
        self, store: EventStore, clock
    ) -> None:
        store.append_blocking([req("s", 1)])
        assert store.claim("s", "w1", 30)
        before = store.read_all()
        with pytest.raises(LeaseLostError) as caught:
            store.append_blocking([req("s", 2, owner="w2")])
        error = caught.value
        assert isinstance(error, ConcurrencyError)
        assert (error.stream_id, error.owner, error.holder) == ("s", "w2", "w1")
        assert "w1" in str(error)
        assert "w2" in str(error)
        assert store.read_all() == before
        # a unit with one fenced request is refused whole
        with pytest.raises(LeaseLostError):
            store.append_blocking([req("t", 1), req("s", 2, owner="w2")])
        assert store.get_stream("t") is None
        store.append_blocking([req("s", 2, owner="w1")])
        store.append_blocking([req("s", 3)])  # no owner given: not fenced
        clock.advance(30)
        store.append_blocking([req("s", 4, owner="w2")])  # the lease expired
        assert [e.seq for e in store.read_stream("s")] == [1, 2, 3, 4]

    def test_an_append_can_take_renew_and_release_the_lease(
        self, store: EventStore, clock
    ) -> None:
        [first] = store.append_blocking(
            [AppendRequest("s", [ev(1)], 0, owner="w1", lease_ttl=30)]
        )
        info = store.get_stream("s")
        assert (info.owner, info.lease_until) == ("w1", clock.now() + 30)  # type: ignore[union-attr]
        assert store.claim("s", "w2", 10) is False
        clock.advance(20)
        store.append_blocking([AppendRequest("s", [ev(2)], owner="w1", lease_ttl=30)])
        assert store.get_stream("s").lease_until == clock.now() + 30  # type: ignore[union-attr]
        with pytest.raises(LeaseLostError):
            store.append_blocking(
                [AppendRequest("s", [ev(3)], owner="w2", lease_ttl=5)]
            )
        store.append_blocking(
            [AppendRequest("s", [ev(3)], lease_ttl=5)]
        )  # no owner: no lease
        assert store.get_stream("s").owner == "w1"  # type: ignore[union-attr]
        store.append_blocking([AppendRequest("s", [], owner="w1", lease_ttl=0)])
        info = store.get_stream("s")
        assert (info.owner, info.lease_until, info.last_seq) == (None, None, 3)  # type: ignore[union-attr]
        assert store.claim("s", "w2", 10) is True
        assert first.last_seq == 1

    def test_a_lease_on_an_expired_holder_moves_with_the_append(
        self, store: EventStore, clock
    ) -> None:
        store.append_blocking([AppendRequest("s", [ev(1)], owner="w1", lease_ttl=5)])
        clock.advance(5)
        store.append_blocking(
            [req("t", 1), AppendRequest("s", [ev(2)], owner="w2", lease_ttl=5)]
        )
        info = store.get_stream("s")
        assert (info.owner, info.lease_until) == ("w2", clock.now() + 5)  # type: ignore[union-attr]
        assert store.get_stream("t").owner is None  # type: ignore[union-attr]

    def test_claim_can_steal_from_a_dead_owner(self, store: EventStore, clock) -> None:
        store.append_blocking([req("s", 1)])
        assert store.claim("s", "dead", 60)
        assert store.claim("s", "w2", 10, steal_from="someone-else") is False
        assert store.claim("s", "w2", 10, steal_from="dead") is True
        info = store.get_stream("s")
        assert (info.owner, info.lease_until) == ("w2", clock.now() + 10)  # type: ignore[union-attr]
        assert store.claim("s", "w3", 10, steal_from="dead") is False

    @pytest.mark.parametrize("ttl", ["5", True, float("nan")])
    def test_malformed_lease_ttl_is_refused(self, store: EventStore, ttl) -> None:
        with pytest.raises(StoreError, match="lease_ttl"):
            store.append_blocking(
                [AppendRequest("s", [ev(1)], owner="w1", lease_ttl=ttl)]
            )
        assert store.read_all() == []

    async def test_fencing_through_the_async_api(self, store: EventStore) -> None:
        await store.append("s", [ev(1)])
        assert store.claim("s", "w1", 30)
        with pytest.raises(LeaseLostError):
            await store.append("s", [ev(2)], owner="w2")
        await store.append("s", [ev(2)], owner="w1")
        assert len(store.read_stream("s")) == 2

    # -- validation before anything is queued ---------------------------------------------

    @pytest.mark.parametrize(
        "requests",
        [
            [],
            [AppendRequest("", [ev(1)])],
            [AppendRequest("s", [NewEvent("t.x", "not bytes")])],  # type: ignore[arg-type]
            [AppendRequest("s", [NewEvent("", b"1")])],
            [AppendRequest("s", [ev(1)], expected_seq=-1)],
            [AppendRequest("s", [ev(1)], expected_seq="1")],  # type: ignore[arg-type]
            [AppendRequest("s", [ev(1)], meta={"kind": "x"})],  # type: ignore[arg-type]
            [AppendRequest("s", [("t.x", b"1")])],  # type: ignore[list-item]
            [AppendRequest("s", [NewEvent("t.x", b"1", "now")])],  # type: ignore[arg-type]
            [AppendRequest("s\udc80", [ev(1)])],
            [req("ok", 1), AppendRequest("s", [NewEvent("t.\ud800", b"1")])],
        ],
    )
    def test_malformed_units_are_refused(self, store: EventStore, requests) -> None:
        with pytest.raises(StoreError):
            store.append_blocking(requests)
        assert store.read_all() == []
        store.append_blocking([req("after", 1)])  # the store still works
        assert len(store.read_all()) == 1

    def test_payload_too_large_is_refused(self, store: EventStore) -> None:
        big = NewEvent("t.big", b"x" * (DEFAULT_MAX_EVENT_BYTES + 1))
        with pytest.raises(PayloadTooLargeError) as caught:
            store.append_blocking([req("ok", 1), AppendRequest("s", [ev(1), big])])
        error = caught.value
        assert (error.stream_id, error.event_type) == ("s", "t.big")
        assert (error.size, error.limit) == (
            DEFAULT_MAX_EVENT_BYTES + 1,
            DEFAULT_MAX_EVENT_BYTES,
        )
        assert store.read_all() == []
        exact = NewEvent("t.big", b"x" * DEFAULT_MAX_EVENT_BYTES)
        with pytest.warns(PayloadSizeWarning):
            store.append_blocking([AppendRequest("s", [exact])])
        assert len(store.read_stream("s")[0].data) == DEFAULT_MAX_EVENT_BYTES

    async def test_payload_checks_happen_in_submit(self, store: EventStore) -> None:
        big = NewEvent("t.big", b"x" * (DEFAULT_MAX_EVENT_BYTES + 1))
        with pytest.raises(PayloadTooLargeError):
            store.submit([AppendRequest("s", [big])])
        warn = NewEvent("t.warn", b"x" * (DEFAULT_WARN_EVENT_BYTES + 1))
        with pytest.warns(PayloadSizeWarning, match="t.warn"):
            fut = store.submit([AppendRequest("s", [warn])])
        await fut
        quiet = NewEvent("t.quiet", b"x" * DEFAULT_WARN_EVENT_BYTES)
        await store.append(
            "s", [quiet]
        )  # at the threshold: no warning (filterwarnings=error)
        assert [e.type for e in store.read_stream("s")] == ["t.warn", "t.quiet"]

    def test_closed_store_refuses_appends(self, store: EventStore) -> None:
        store.append_blocking([req("s", 1)])
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.append_blocking([req("s", 2)])
        store.close()  # idempotent

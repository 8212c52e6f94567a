"""Testing helpers for users' own flows: replay-equivalence as a test.

The guarantee users rely on is that an execution rebuilt from its log is the
execution that ran. These helpers make that a one-line assertion in a test
suite, and give hypothesis strategies that drive flows with random programs::

    from orchestrator.testing import assert_replay_equivalent, throwaway_store

    async def test_my_flow_replays():
        with throwaway_store(my_flow):
            execution = my_flow.create_execution(auto_close=False)
            await execution.async_start({"doc": "x"})
            await assert_replay_equivalent(execution)

Hypothesis is only imported by :func:`event_programs` and :func:`json_values`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.clock import FakeClock
from orchestrator.errors import ConcurrencyError, LifecycleError, StoreError
from orchestrator.events.codec import loads
from orchestrator.history import (
    export_history,
    import_history,
    prepare_history,
    write_history,
)
from orchestrator.projection.projector import fold
from orchestrator.runtime.interrupts import pending_interrupts
from orchestrator.runtime.loop import call_in_loop
from orchestrator.store.memory import InMemoryEventStore
from orchestrator.store.open import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator

    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.execution import TriggerFlowExecution
    from orchestrator.store.base import EventStore
    from orchestrator.trigger_flow import TriggerFlow

__all__ = [
    "assert_replay_equivalent",
    "event_programs",
    "export_history",
    "FakeClock",
    "fold_execution",
    "history_cuts",
    "import_history",
    "json_values",
    "ProgramStep",
    "CutReplay",
    "replay_cuts",
    "replay_history",
    "ReplayMismatchError",
    "run_program",
    "throwaway_store",
]


class ReplayMismatchError(AssertionError):
    """The fold of an execution's log differs from the live execution."""


def fold_execution(store: EventStore, execution_id: str) -> ExecutionView:
    """Fold an execution's whole stream from seq 1 (ignoring snapshots)."""
    return fold(execution_id, store.read_stream(execution_id))


def _comparable(view: ExecutionView) -> dict[str, Any]:
    data = view.to_json()
    data["interrupts"] = pending_interrupts(view)
    return data


def _diff(live: dict[str, Any], folded: dict[str, Any]) -> str:
    keys = sorted(set(live) | set(folded))
    lines = [
        f"  {k}: live={live.get(k)!r} log={folded.get(k)!r}"
        for k in keys
        if live.get(k) != folded.get(k)
    ]
    return "\n".join(lines[:20])


async def assert_replay_equivalent(
    execution: TriggerFlowExecution, *, fresh_process: bool = False
) -> ExecutionView:
    """Assert that folding the execution's log gives exactly the live execution.

    Compares everything the view holds: status, lifecycle, state, pending runs and
    interrupts, join progress, resource keys. With ``fresh_process`` the log is
    also folded in a new Python process (SQLite stores only), which catches
    state that lives in memory instead of in the log.
    """
    await execution.async_save()  # waits until everything is durable
    engine = execution._engine
    live = _comparable(engine.view)
    folded_view = fold_execution(engine.store, execution.id)
    folded = _comparable(folded_view)
    if live != folded:
        raise ReplayMismatchError(
            f"execution {execution.id}: the fold of its log differs from the live "
            f"execution:\n{_diff(live, folded)}"
        )
    if fresh_process:
        path = getattr(engine.store, "path", None)
        if path is None:
            raise ValueError("fresh_process=True needs an SQLite store (a file)")
        other = _fold_in_subprocess(str(path), execution.id)
        if other != folded:
            raise ReplayMismatchError(
                f"execution {execution.id}: a fresh process folds a different view:\n"
                f"{_diff(folded, other)}"
            )
    return folded_view


_FOLD_SCRIPT = """
import sys
import orjson
from orchestrator.store.sqlite import SQLiteEventStore
from orchestrator.testing import fold_execution, _comparable
store = SQLiteEventStore(sys.argv[1], read_only=True)
view = fold_execution(store, sys.argv[2])
sys.stdout.buffer.write(orjson.dumps(_comparable(view)))
"""


def _fold_in_subprocess(path: str, execution_id: str) -> dict[str, Any]:
    # The child must import the same orchestrator as this process.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run(
        [sys.executable, "-c", _FOLD_SCRIPT, path, execution_id],
        capture_output=True,
        check=True,
        timeout=60,
        env=env,
    )
    folded: dict[str, Any] = loads(result.stdout)
    return folded


@contextlib.contextmanager
def throwaway_store(flow: TriggerFlow, kind: str = "memory") -> Iterator[EventStore]:
    """Run ``flow`` on a fresh store for the duration of the block.

    ``kind="memory"`` (default) or ``"sqlite"`` (a temporary file, removed after).
    """
    previous = flow._store
    with tempfile.TemporaryDirectory(prefix="triggerlog-test-") as tmp:
        store: EventStore
        if kind == "memory":
            store = InMemoryEventStore(clock=flow.clock)
        elif kind == "sqlite":
            store = open_store(os.path.join(tmp, "test.db"), clock=flow.clock)
        else:
            raise ValueError(f"kind must be 'memory' or 'sqlite', got {kind!r}")
        flow._store = store
        flow.flow_data.reset()
        # Executions live in this process belong to the store they run on: the
        # block starts with none, and leaves none behind (a replay in the next
        # block must not be handed this block's handle for the same id).
        previous_engines = flow._engines
        flow._engines = weakref.WeakValueDictionary()
        busy: list[str] = []
        try:
            yield store
        finally:
            busy = _stop_leftovers(flow.live_engines())
            store.close()
            flow._store = previous
            flow._engines = previous_engines
            flow.flow_data.reset()
        if busy:  # only reached when the block itself raised nothing
            raise LifecycleError(
                f"execution(s) {', '.join(map(repr, busy))} still running when the "
                "throwaway_store block ended; their store is closed now, so they were "
                "stopped and what they would have done (a NondeterminismError "
                "included) was not seen. Wait for each before leaving the block: "
                "await execution.async_wait_idle() (or close it)."
            )


def _stop_leftovers(engines: list[Any]) -> list[str]:
    """Stop the block's executions before their store closes; the busy ones' ids.

    Waiting is not possible here (this runs on their loop, synchronously), and
    left running they would write to the closed store from loop callbacks. So
    what they recorded is flushed, and the busy ones are fenced: their tasks are
    cancelled and whoever awaits them, or calls them later, gets a StoreError
    naming the block.
    """
    busy = []
    for engine in engines:
        loop = engine.loop
        if loop is None or loop.is_closed():
            continue
        running = bool(engine.tasks or engine.view.runs) and engine.stopped is None
        fence = StoreError(
            f"execution {engine.id!r} was still running when its throwaway_store "
            "block ended, and was stopped with it (its store is closed): await "
            "execution.async_wait_idle() inside the block"
        )
        with contextlib.suppress(Exception):
            call_in_loop(loop, _fence, engine, fence if running else None)
        if running:
            busy.append(engine.id)
    return busy


def _fence(engine: Any, error: StoreError | None) -> None:
    engine.flush()
    if error is not None:
        engine.journal.poison(error)


@dataclass(frozen=True, slots=True)
class ProgramStep:
    """One step of an event program.

    ``action`` is ``"emit"`` (event ``name``, ``value``), ``"set_flow_data"``
    (key ``name``, ``value``), ``"resolve"`` (answer the oldest waiting
    interrupt, of type ``name`` if given, with ``value``; skipped when none
    waits) or ``"close"``.
    """

    action: str
    name: str = ""
    value: Any = None


def json_values(max_leaves: int = 6) -> Any:
    """Hypothesis strategy of JSON values (finite floats, str keys)."""
    from hypothesis import strategies as st

    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53), max_value=2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=12)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=6), children, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def event_programs(
    events: list[str],
    *,
    flow_data_keys: list[str] | None = None,
    resolve_interrupts: bool = False,
    max_steps: int = 12,
) -> Any:
    """Hypothesis strategy of programs: emits of ``events``, flow_data writes, a close.

    With ``resolve_interrupts``, programs also answer waiting interrupts
    (``"resolve"`` steps with random JSON values), for flows that pause.
    """
    from hypothesis import strategies as st

    step = st.builds(
        ProgramStep, st.just("emit"), st.sampled_from(events), json_values()
    )
    if resolve_interrupts:
        step = step | st.builds(
            ProgramStep, st.just("resolve"), st.just(""), json_values()
        )
    if flow_data_keys:
        step = step | st.builds(
            ProgramStep,
            st.just("set_flow_data"),
            st.sampled_from(flow_data_keys),
            json_values(),
        )
    return st.lists(step, max_size=max_steps).map(
        lambda steps: [*steps, ProgramStep("close")]
    )


async def run_program(
    flow: TriggerFlow,
    program: list[ProgramStep],
    *,
    start_input: Any = None,
    runtime_resources: dict[str, Any] | None = None,
    check_every_step: bool = True,
    pending_interrupts: str = "cancel",
) -> TriggerFlowExecution:
    """Run ``program`` against a new execution, asserting replay-equivalence as it goes.

    A ``"close"`` step closes with ``pending_interrupts`` (``"cancel"`` by
    default: a program may end while its flow waits on a pause).
    """
    execution = flow.create_execution(
        auto_close=False, runtime_resources=runtime_resources
    )
    await execution.async_start(start_input)
    await assert_replay_equivalent(execution)
    for step in program:
        if step.action == "emit":
            await execution.async_emit(step.name, step.value)
        elif step.action == "set_flow_data":
            await flow.async_set_flow_data(step.name, step.value, no_warning=True)
            await execution.async_wait_idle()
        elif step.action == "resolve":
            await _resolve_one(execution, step)
        elif step.action == "close":
            await execution.async_close(pending_interrupts=pending_interrupts)
        else:
            raise ValueError(f"unknown program step {step.action!r}")
        if check_every_step:
            await assert_replay_equivalent(execution)
    return execution


async def _resolve_one(execution: TriggerFlowExecution, step: ProgramStep) -> None:
    """Answer the oldest waiting interrupt (of type ``step.name`` if given)."""
    # A pause is raised by a run the previous step may have left going.
    await execution.async_wait_idle()
    for interrupt_id, record in execution.get_pending_interrupts().items():
        if not step.name or record.get("type") == step.name:
            await execution.async_continue_with(interrupt_id, step.value)
            return


def history_cuts(history: dict[str, Any]) -> list[int]:
    """Positions to cut ``history`` at so that replays re-execute all of it.

    Just before each ``chunk.completed`` (that run re-executes with every
    operation it recorded, so today's code must perform the same ones), and at
    every append-unit boundary the history lists in ``commits`` (each instant a
    crash could have cut the log). Only positions at which the execution's own
    stream exists are returned.
    """
    execution_id = history["execution_id"]
    first = min(
        event["position"]
        for stream in history["streams"]
        if stream["stream_id"] == execution_id
        for event in stream["events"]
    )
    cuts = set(history.get("commits") or [])
    cuts.update(
        event["position"] - 1
        for stream in history["streams"]
        for event in stream["events"]
        if event["type"] == "chunk.completed"
    )
    return sorted(p for p in cuts if p >= first)


async def replay_history(
    flow: TriggerFlow,
    history: dict[str, Any],
    *,
    up_to_position: int | None = None,
    runtime_resources: dict[str, Any] | None = None,
    allow_definition_change: bool = False,
) -> TriggerFlowExecution:
    """Replay a recorded history against the current code of ``flow``.

    Imports ``history`` (cut at ``up_to_position``: the log a crash at that
    instant would have left) into ``flow``'s store, which should be a throwaway
    one, and recovers the execution as a restarted process would: chunk runs in
    flight run again on today's code, their recorded operations matched by key.
    Returns the execution; its work continues in the background
    (``await execution.async_close()`` waits for it). A change in what a chunk
    records raises :class:`~orchestrator.NondeterminismError` naming the
    recorded seq; a changed definition raises
    :class:`~orchestrator.DefinitionMismatchError` unless allowed.
    """
    store = flow.store
    prepared = prepare_history(history, up_to_position=up_to_position)
    execution_id = prepared.execution_id
    ids = {request.stream_id for request in prepared.requests}
    for engine in flow.live_engines():
        if engine.id in ids and engine.store is not store:
            # Left live by a replay on another store (the previous cut): it is
            # not this replay's execution, and recover would hand it back.
            flow.forget_engine(engine)
    try:
        write_history(store, prepared)
    except ConcurrencyError as error:
        error.message += (
            " To replay a history more than once (each of history_cuts), give every"
            " replay its own store: `with throwaway_store(flow): ...` per replay."
        )
        error.args = (error.message,)
        raise
    recovered = await flow.async_recover(
        runtime_resources=runtime_resources,
        allow_definition_change=allow_definition_change,
    )
    for execution in recovered:
        if execution.id == execution_id:
            return execution
    return flow.get_execution(
        execution_id,
        runtime_resources=runtime_resources,
        allow_definition_change=allow_definition_change,
    )


@dataclass(frozen=True, slots=True)
class CutReplay:
    """How the replay of a history cut at ``position`` ended (once idle)."""

    position: int
    status: str
    state: dict[str, Any]
    errors: list[dict[str, Any]]


async def replay_cuts(
    flow: TriggerFlow,
    history: dict[str, Any],
    *,
    kind: str = "memory",
    runtime_resources: dict[str, Any] | None = None,
    allow_definition_change: bool = False,
    check: bool = True,
) -> list[CutReplay]:
    """Replay ``history`` cut at every position of :func:`history_cuts`.

    Each replay runs in its own :func:`throwaway_store` and is waited on until
    idle, so every cut re-executes its own in-flight runs on today's code.
    With ``check`` (default) an ``AssertionError`` names every cut whose
    replay failed (a ``NondeterminismError``, a chunk that now raises), with
    the errors recorded; otherwise the results are returned as they are.
    """
    results: list[CutReplay] = []
    for position in history_cuts(history):
        with throwaway_store(flow, kind=kind):
            execution = await replay_history(
                flow,
                history,
                up_to_position=position,
                runtime_resources=runtime_resources,
                allow_definition_change=allow_definition_change,
            )
            await execution.async_wait_idle()
            view = execution._engine.view
            results.append(
                CutReplay(position, view.status, execution.get_state(), view.errors)
            )
    failed = [r for r in results if r.status == "failed"]
    if check and failed:
        lines = [
            f"  cut at position {r.position}: "
            + "; ".join(f"{e.get('type')}: {e.get('message')}" for e in r.errors)
            for r in failed
        ]
        raise AssertionError(
            f"the history of {history.get('execution_id')!r} does not replay on "
            f"today's code at {len(failed)} of {len(results)} cuts:\n"
            + "\n".join(lines)
        )
    return results

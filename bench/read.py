"""The read side (issue 14): state at an event, history pages, the first page of ``list``.

* ``state_at`` at 10 seqs spread over a 100,000-event execution (written by the
  runtime, so with its periodic snapshots; each chunk run also writes flow data
  once, so the flow stream grows to about 1,000 events), against folding the
  prefix from seq 1 (what "state at event N" cost before); ``view_at`` is the
  execution stream's part, the rest is folding the flow stream (no snapshots)
  up to that point;
* a ``read_events`` page of 100 events at the same 10 seqs;
* ``triggerlog list --json`` (its handler, in process) for the first page of 100
  at 100,000 executions, and with ``--children``.

Targets: state at <= 20 ms at any seq; list first page <= 100 ms.

``python -m bench read [--events N] [--executions N] [--runs N]``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from orchestrator import SQLiteEventStore, TriggerFlow, TriggerFlowRuntimeData
from orchestrator.cli import main as cli_main
from orchestrator.events.codec import encode
from orchestrator.events.execution import ExecutionCreated
from orchestrator.projection import fold
from orchestrator.read_model import read_events, state_at, view_at
from orchestrator.store.base import AppendRequest, NewEvent, StreamMeta


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _best(runs: int, call: object) -> float:
    assert callable(call)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def _long_execution(db: str, events: int, per_emit: int = 100) -> str:
    flow = TriggerFlow(name="bench-long", store=db)

    async def write_many(data: TriggerFlowRuntimeData) -> None:
        base = data.value * per_emit
        for i in range(per_emit - 8):
            data.set_state(f"k{i % 50}", base + i)
        await data.async_set_flow_data("round", data.value, no_warning=True)

    flow.when("go").to(write_many)

    async def run() -> str:
        execution = flow.create_execution(auto_close=False)
        await execution.async_start(None)
        n = 0
        while (flow.store.get_stream(execution.id) or execution).last_seq < events:  # type: ignore[union-attr]
            await execution.async_emit("go", n)
            n += 1
        await execution.async_close()
        return execution.id

    try:
        return asyncio.run(run())
    finally:
        flow.store.close()


def _many_executions(db: str, count: int) -> None:
    store = SQLiteEventStore(db)
    try:
        type_name, data = encode(
            ExecutionCreated(flow_name="bench-many", fingerprint="f" * 64)
        )
        batch: list[AppendRequest] = []
        for i in range(count):
            kind = "child" if i % 10 == 9 else "execution"
            batch.append(
                AppendRequest(
                    f"e{i:07d}",
                    [NewEvent(type_name, data)],
                    0,
                    StreamMeta(
                        kind=kind,
                        flow_name="bench-many",
                        parent_id=f"e{i - 1:07d}" if kind == "child" else None,
                        status=("completed", "failed", "waiting")[i % 3],
                    ),
                )
            )
            if len(batch) == 1000:
                store.append_blocking(batch)
                batch = []
        if batch:
            store.append_blocking(batch)
    finally:
        store.close()


def _cli(*args: str) -> None:
    with redirect_stdout(io.StringIO()):
        assert cli_main(list(args)) == 0


def main(argv: list[str] | None = None) -> int:
    """Run the read benchmarks; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench read")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--batch",
        type=int,
        default=100,
        help="state writes per chunk run: one append batch; the runtime snapshots at "
        "the end of the first batch 1,000 events after the last snapshot, so the "
        "spacing of snapshots is about 1,000 + this",
    )
    args = parser.parse_args(argv)
    print("== read: state at, history pages, list (issue 14) ==")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        long_db = str(Path(tmp) / "long.db")
        start = time.perf_counter()
        execution_id = _long_execution(long_db, args.events, args.batch)
        store = SQLiteEventStore(long_db, read_only=True)
        last = (store.get_stream(execution_id) or sys.exit(1)).last_seq
        snapshots = sum(
            e.type == "execution.snapshot" for e in store.read_stream(execution_id)
        )
        print(
            f"one execution of {last:,} events ({snapshots} snapshots, chunk runs of "
            f"{args.batch} writes) written in {time.perf_counter() - start:.0f} s"
        )
        points = [max(1, last * k // 10 - 7 * k) for k in range(1, 11)]
        print(
            "| seq | state_at (best of runs) | of which view_at | fold from seq 1 "
            "| history page of 100 |"
        )
        print("|---:|---:|---:|---:|---:|")
        worst = 0.0
        for seq in points:
            at = _best(args.runs, lambda s=seq: state_at(store, execution_id, s))
            view = _best(args.runs, lambda s=seq: view_at(store, execution_id, s))
            page = _best(
                args.runs,
                lambda s=seq: read_events(store, execution_id, from_seq=s, limit=100),
            )
            whole = _best(
                1,
                lambda s=seq: fold(execution_id, store.read_stream(execution_id, 1, s)),
            )
            worst = max(worst, at)
            print(f"| {seq:,} | {_ms(at)} | {_ms(view)} | {_ms(whole)} | {_ms(page)} |")
        # The farthest a seq gets from a snapshot: just before one. Every such seq
        # (best of 3 each).
        types = [e.type for e in store.read_stream(execution_id)]
        before = [i for i, t in enumerate(types) if t == "execution.snapshot" and i]
        sweep = sorted(
            _best(3, lambda s=seq: state_at(store, execution_id, s)) for seq in before
        )
        if sweep:
            print(
                f"state_at just before each of the {len(sweep)} snapshots: median "
                f"{_ms(sweep[len(sweep) // 2])}, p90 {_ms(sweep[len(sweep) * 9 // 10])}, "
                f"max {_ms(sweep[-1])}"
            )
        store.close()
        met = worst <= 0.020
        ok &= met
        print(
            f"state_at worst: {_ms(worst)} (target <= 20 ms: {'PASS' if met else 'FAIL'})"
        )

        many_db = str(Path(tmp) / "many.db")
        start = time.perf_counter()
        _many_executions(many_db, args.executions)
        print(
            f"{args.executions:,} executions indexed in {time.perf_counter() - start:.0f} s "
            "(one in ten a child)"
        )
        results = {}
        for label, extra in (
            ("list --json (first 100)", ()),
            ("list --json --children", ("--children",)),
            ("list --json --status failed", ("--status", "failed")),
            ("list --json --offset 5000", ("--offset", "5000")),
        ):
            results[label] = statistics.median(
                _best(1, lambda e=extra: _cli("list", "--db", many_db, "--json", *e))
                for _ in range(args.runs)
            )
        for label, seconds in results.items():
            print(f"{label}: {_ms(seconds)} (median of {args.runs})")
        first = results["list --json (first 100)"]
        met = first <= 0.100
        ok &= met
        print(
            f"list first page: {_ms(first)} (target <= 100 ms: {'PASS' if met else 'FAIL'})"
        )
    return 0 if ok else 1

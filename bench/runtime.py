"""Runtime benchmark: durable chunks/s of triggerlog on a fresh SQLite file.

``python -m bench runtime`` runs the workloads of :mod:`bench.workloads` on
``orchestrator.TriggerFlow`` twice: on a fresh SQLite file per workload under
``bench/.work/`` (``durability="full"``, the default) and on the in-memory store
(engine cost without the log). The clock stops when ``async_close`` returned,
which waits for durability. Figures go to stdout and ``bench/results/runtime.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from bench.workloads import DEFAULTS, Params, measure, pair_ratio, rate

__all__ = [
    "LABELS",
    "TARGET_A",
    "has_results",
    "machine_info",
    "main",
    "results",
    "run",
]

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
TARGET_A = 5_000.0
LABELS = {
    "a": "(a) 1 execution x {chain}-chunk chain",
    "b": "(b) {execs} executions x {exec_chain} chunks, sequential",
    "c": "(c) {execs} executions x {exec_chain} chunks, concurrent",
    "a_long": "(a') 1 execution x {long_chain}-chunk chain",
}
_LAST: dict[str, Any] | None = None


def machine_info() -> dict[str, Any]:
    """nproc, Python, SQLite and the filesystem holding ``bench/.work``."""
    from orchestrator.store.sqlite_connection import filesystem_type

    WORK.mkdir(parents=True, exist_ok=True)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "filesystem": filesystem_type(str(WORK / "x.db")) or "unknown",
        "platform": platform.platform(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def commit_probe(commits: int = 200) -> dict[str, float]:
    """Plain sqlite3 WAL+FULL, one row per commit: the disk's fsync latency right now.

    Printed beside the figures: this machine is shared, and a busy disk shows
    here first (a quiet one commits in about 0.2 ms).
    """
    path = fresh_db("probe.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    laps: list[float] = []
    for i in range(commits):
        start = time.perf_counter()
        conn.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
        laps.append(time.perf_counter() - start)
    conn.close()
    fresh_db("probe.db")
    laps.sort()
    return {
        "median_ms": round(laps[len(laps) // 2] * 1000, 3),
        "p90_ms": round(laps[len(laps) * 9 // 10] * 1000, 3),
    }


def fresh_db(name: str) -> Path:
    """A path under ``bench/.work`` with no database (or WAL) left from a past run."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / name
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


async def _durable(params: Params) -> dict[str, dict[str, Any]]:
    from orchestrator import SQLiteEventStore, TriggerFlow

    stores: dict[str, SQLiteEventStore] = {}
    marks: dict[str, tuple[int, int]] = {}

    def flow_kwargs(label: str) -> dict[str, Any]:
        store = SQLiteEventStore(fresh_db(f"runtime-{label}.db"), durability="full")
        stores[label] = store
        return {"store": store}

    def on_repeat(label: str) -> None:
        store = stores[label]
        marks.setdefault(label, (store.head_position(), store.commits))

    out = await measure(TriggerFlow, params, flow_kwargs, on_repeat=on_repeat)
    for label, result in out.items():
        store = stores[label]
        events0, commits0 = marks[label]
        measured = result["chunks"] * len(result["seconds"])
        commits = max(store.commits - commits0, 1)
        result["events_per_chunk"] = (store.head_position() - events0) / measured
        result["chunks_per_commit"] = measured / commits
        result["synchronous"] = store.pragma("synchronous")  # 2 = FULL
        result["journal_mode"] = store.pragma("journal_mode")
        store.close()
        written = measured + result["warmup_chunks"]
        files = [Path(f"{store.path}{s}") for s in ("", "-wal")]
        size = sum(f.stat().st_size for f in files if f.exists())
        result["bytes_per_chunk"] = size / written
    return out


async def _in_memory(params: Params) -> dict[str, dict[str, Any]]:
    from orchestrator import TriggerFlow

    return await measure(TriggerFlow, params, {"store": ":memory:"})


def run(params: Params | None = None) -> dict[str, Any]:
    """Measure (durable, then in memory); the result is kept for :func:`results`."""
    global _LAST
    p = {**DEFAULTS, **(params or {})}
    report: dict[str, Any] = {"machine": machine_info(), "params": p}
    report["commit_probe_before"] = commit_probe()
    report["durable"] = asyncio.run(_durable(p))
    report["memory"] = asyncio.run(_in_memory(p))
    report["commit_probe_after"] = commit_probe()
    _LAST = report
    return report


def results(params: Params | None = None) -> dict[str, Any]:
    """This process's last :func:`run` (``bench all`` measures once), else a new one."""
    return _LAST if _LAST is not None else run(params)


def has_results() -> bool:
    """True once :func:`run` completed in this process."""
    return _LAST is not None


def label(key: str, params: Params) -> str:
    """The row title of a workload."""
    return LABELS[key].format(**params)


def fmt(value: float) -> str:
    """A rate with thousands separators."""
    return f"{value:,.0f}"


def targets(durable: dict[str, Any]) -> list[str]:
    """PASS/MISS lines of the targets that need no peer."""
    a = rate(durable["a"])
    ratio = pair_ratio(durable["c"], durable["b"])
    return [
        f"(a) >= {fmt(TARGET_A)} durable chunks/s: {'PASS' if a >= TARGET_A else 'MISS'}"
        f" ({fmt(a)}, {a / TARGET_A:.2f}x the target)",
        f"(c) >= (b): {'PASS' if ratio >= 1 else 'MISS'} (c/b = {ratio:.2f}, median of "
        "per-round ratios; b and c repeats alternate)",
    ]


def print_report(report: dict[str, Any]) -> None:
    """The table, the targets, and where the file went."""
    m, p = report["machine"], report["params"]
    print(
        f"== runtime: triggerlog, durability='full' (fresh SQLite file per workload), "
        f"median of {p['repeat']} after a warm-up =="
    )
    print(
        f"   {m['date']}; nproc {m['nproc']}, Python {m['python']}, SQLite "
        f"{m['sqlite']}, {m['filesystem']} ({WORK}); load avg {m['loadavg_1m']}"
    )
    before, after = report["commit_probe_before"], report["commit_probe_after"]
    print(
        f"   sqlite3 WAL+FULL 1-row commit (the disk right now): median "
        f"{before['median_ms']} ms / p90 {before['p90_ms']} ms before, "
        f"{after['median_ms']} / {after['p90_ms']} ms after"
    )
    print(
        f"{'workload':<52} {'chunks':>7} {'durable/s':>10} {'min-max':>15} "
        f"{'in-mem/s':>9} {'ev/chunk':>8} {'B/chunk':>7} {'chunks/commit':>13}"
    )
    for key, d in report["durable"].items():
        rates = [d["chunks"] / s for s in d["seconds"]]
        print(
            f"{label(key, p):<52} {d['chunks']:>7} {fmt(rate(d)):>10} "
            f"{fmt(min(rates)) + '-' + fmt(max(rates)):>15} "
            f"{fmt(rate(report['memory'][key])):>9} {d['events_per_chunk']:>8.2f} "
            f"{d['bytes_per_chunk']:>7.0f} "
            f"{d['chunks_per_commit']:>13.1f}"
        )
    for line in targets(report["durable"]):
        print("   target " + line)
    print("   target (a) >= 4x Agently in memory: see `python -m bench peers`")


def save(report: dict[str, Any], name: str) -> Path:
    """Write ``bench/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return path


def parse(argv: list[str] | None) -> Params:
    """``--repeat/--chain/--execs/--exec-chain/--long-chain`` overrides."""
    ap = argparse.ArgumentParser(prog="python -m bench runtime")
    for key, value in DEFAULTS.items():
        ap.add_argument(f"--{key.replace('_', '-')}", type=int, default=value)
    return vars(ap.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    """Run, print, save; exit status 0 (a MISS is a finding, not a failure)."""
    report = run(parse(argv))
    print_report(report)
    print(f"   -> {save(report, 'runtime')}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

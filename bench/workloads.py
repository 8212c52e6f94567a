"""The runtime workloads, written once against the TriggerFlow API.

The same functions drive triggerlog (``bench.runtime``, durable SQLite log) and
Agently's in-memory TriggerFlow: ``bench.peers`` runs this file as a script with
the interpreter of ``bench/.work/venv-agently``. It therefore imports nothing
but the standard library; the TriggerFlow class is passed in.

Workloads (every chunk is an async handler that writes one state key with
``data.set_state`` and returns ``data.input + 1``; ``--async-state 1`` awaits
``data.async_set_state`` instead, Agently's cheaper call):

- ``a``: one execution, a chain of ``chain`` chunks;
- ``b``: ``execs`` executions of an ``exec_chain``-chunk chain, one after another;
- ``c``: the same executions started concurrently with ``asyncio.gather``;
- ``a_long`` (optional): ``a`` with a ``long_chain``-chunk chain.

Each execution is ``create_execution(auto_close=False)`` + ``async_start`` +
``async_close``; the clock stops when the last ``async_close`` returned, so for
triggerlog the figure is durable chunks per second.

Script use: ``python bench/workloads.py [--chain 100] [--execs 1000] ...`` prints
one JSON object with Agently's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import platform
import statistics
import time
import warnings
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["pair_ratio", "Params", "measure"]

Params = dict[str, int]
DEFAULTS: Params = {
    "chain": 100,
    "execs": 1000,
    "exec_chain": 10,
    "repeat": 5,
    "long_chain": 1000,
    "async_state": 0,
}


def build_chain(
    flow_cls: Any,
    name: str,
    length: int,
    flow_kwargs: dict[str, Any],
    async_state: bool = False,
):
    """A linear chain of ``length`` uniquely named chunks (one graph node each)."""
    flow = flow_cls(name=name, **flow_kwargs)
    process = flow
    for i in range(length):

        def make(i: int = i) -> Callable[[Any], Any]:
            key = f"k{i}"

            async def step(data: Any) -> Any:
                if async_state:
                    await data.async_set_state(key, data.input)
                else:
                    data.set_state(key, data.input)
                return data.input + 1

            step.__name__ = step.__qualname__ = f"{name}_step_{i}"
            return step

        process = process.to(make(), name=f"{name}_step_{i}")
    return flow


async def run_one(flow: Any, exec_kwargs: dict[str, Any]) -> Any:
    """One execution: create, start with 0, close; returns the close snapshot."""
    execution = flow.create_execution(auto_close=False, **exec_kwargs)
    await execution.async_start(0)
    return await execution.async_close()


def _check(snapshot: Any, length: int) -> None:
    last = snapshot.get(f"k{length - 1}") if isinstance(snapshot, dict) else None
    if last != length - 1:
        raise AssertionError(f"chain of {length}: last state key is {last!r}")


async def _timed(body: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    await body()
    return time.perf_counter() - start


async def _workload(
    flow: Any, kw: dict[str, Any], runs: int, concurrent: bool, length: int
) -> float:
    async def sequential() -> None:
        for _ in range(runs):
            _check(await run_one(flow, kw), length)

    async def gathered() -> None:
        for snap in await asyncio.gather(*(run_one(flow, kw) for _ in range(runs))):
            _check(snap, length)

    return await _timed(gathered if concurrent else sequential)


async def measure(
    flow_cls: Any,
    params: Params,
    flow_kwargs: dict[str, Any] | Callable[[str], dict[str, Any]] | None = None,
    exec_kwargs: dict[str, Any] | None = None,
    on_repeat: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the workloads; per workload the chunk count and every repeat's wall time.

    ``flow_kwargs`` may be a function of the workload label (a fresh store each).
    A warm-up execution of each flow runs first (imports, definition records).
    ``on_repeat(workload)`` is called before each repeat (e.g. to count commits).
    """
    ekw = exec_kwargs or {}
    p = {**DEFAULTS, **params}
    plan: list[tuple[str, int, int, bool]] = [
        ("a", p["chain"], 1, False),
        ("b", p["exec_chain"], p["execs"], False),
        ("c", p["exec_chain"], p["execs"], True),
    ]
    if p["long_chain"]:
        plan.append(("a_long", p["long_chain"], 1, False))
    out: dict[str, dict[str, Any]] = {}
    flows: dict[str, Any] = {}
    for label, length, runs, _ in plan:
        fkw = flow_kwargs(label) if callable(flow_kwargs) else flow_kwargs or {}
        flows[label] = build_chain(
            flow_cls, f"bench_{label}", length, fkw, bool(p["async_state"])
        )
        out[label] = {
            "chunks": length * runs,
            "executions": runs,
            "seconds": [],
            "warmup_chunks": length * min(runs, 20),
        }
    shapes = {
        label: (length, runs, concurrent) for label, length, runs, concurrent in plan
    }

    async def once(label: str, warmup: bool = False) -> None:
        length, runs, concurrent = shapes[label]
        if warmup:
            await _workload(flows[label], ekw, min(runs, 20), concurrent, length)
            return
        if on_repeat is not None:
            on_repeat(label)
        out[label]["seconds"].append(
            await _workload(flows[label], ekw, runs, concurrent, length)
        )

    # (b) and (c) are compared with each other, so their repeats alternate
    # (b c, c b, b c ...): a load change on this shared machine then hits both.
    order = [label for label in shapes if label not in ("b", "c")]
    for label in shapes:
        await once(label, warmup=True)
    for label in order:
        for _ in range(p["repeat"]):
            await once(label)
    for index in range(p["repeat"]):
        for label in ("b", "c") if index % 2 == 0 else ("c", "b"):
            await once(label)
    return out


def pair_ratio(faster: dict[str, Any], slower: dict[str, Any]) -> float:
    """Median over rounds of rate(faster) / rate(slower) (repeats run interleaved)."""
    ratios = [
        (faster["chunks"] / f) / (slower["chunks"] / s)
        for f, s in zip(faster["seconds"], slower["seconds"], strict=True)
    ]
    return float(statistics.median(ratios))


def rate(result: dict[str, Any]) -> float:
    """Median chunks per second of one workload's repeats."""
    return float(result["chunks"] / statistics.median(result["seconds"]))


def _agently_main() -> None:
    ap = argparse.ArgumentParser(description="Agently TriggerFlow, in memory")
    for key, value in DEFAULTS.items():
        ap.add_argument(f"--{key.replace('_', '-')}", type=int, default=value)
    args = vars(ap.parse_args())
    warnings.simplefilter("ignore")
    agently = importlib.import_module("agently")
    results = asyncio.run(
        measure(agently.TriggerFlow, args, exec_kwargs={"record_store": False})
    )
    meta = {
        "system": "agently",
        "version": metadata.version("agently"),
        "python": platform.python_version(),
        "record_store": False,
        "params": args,
    }
    print(json.dumps({"meta": meta, "results": results}))


if __name__ == "__main__":
    _agently_main()

"""Peer comparison: triggerlog beside Agently, DBOS and LangGraph, same disk, one run.

``python -m bench peers`` measures triggerlog (:mod:`bench.runtime`, reused if
this process already ran it) and then, each in its own virtual environment under
``bench/.work/`` (created with ``python -m venv`` + pip on first use, reused later):

- Agently's in-memory TriggerFlow (``agently==4.1.4.10``) on the very same
  workloads (:mod:`bench.workloads` run as a script), and the reference script
  ``bench_triggerflow.py`` (trivial chunks, no state writes) for the 100- and
  1,000-chunk chains;
- DBOS and LangGraph on SQLite with peerbench's ``dbos_bench.py`` / ``lg_bench.py``
  (1 x 100 steps, 200 x 10 sequential, 200 x 10 concurrent), copied to
  ``bench/.work/peerbench/`` because they write ``data/`` beside themselves.

peerbench is found at ``$TRIGGERLOG_PEERBENCH``, default ``../shared/peerbench``
beside the repository. A peer that cannot be installed is reported and skipped.
``BENCH_PEER_RUNS`` (default 3) sets the repeats of every peer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import runtime
from bench.workloads import rate

__all__ = ["main", "run"]

ROOT = runtime.HERE.parent
PEERBENCH_COPY = runtime.WORK / "peerbench"
VENVS: dict[str, list[str]] = {
    "agently": ["agently==4.1.4.10"],
    "dbos": ["dbos"],
    "lg": ["langgraph", "langgraph-checkpoint-sqlite"],
}
DIST = {"agently": "agently", "dbos": "dbos", "lg": "langgraph"}
TARGET_RATIO = 4.0
TIMEOUT = 1800


def say(text: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"   [peers] {text}", file=sys.stderr, flush=True)


def peerbench() -> Path | None:
    """Copy the peerbench scripts to ``bench/.work/peerbench`` (source is read-only)."""
    src = Path(
        os.environ.get("TRIGGERLOG_PEERBENCH") or ROOT.parent / "shared/peerbench"
    )
    if not (src / "dbos_bench.py").is_file():
        say(f"peerbench not found at {src} (set TRIGGERLOG_PEERBENCH); DBOS/LG skipped")
        return None
    PEERBENCH_COPY.mkdir(parents=True, exist_ok=True)
    for script in src.glob("*.py"):
        shutil.copy2(script, PEERBENCH_COPY / script.name)
    return PEERBENCH_COPY


def ensure_venv(name: str) -> tuple[Path, str] | None:
    """``bench/.work/venv-<name>`` with its packages: (python, version), or None."""
    home = runtime.WORK / f"venv-{name}"
    python = home / "bin" / "python"
    marker = home / ".bench-installed"
    spec = " ".join(VENVS[name])
    if not (marker.is_file() and marker.read_text() == spec and python.exists()):
        say(f"installing {spec} into {home} (first use)")
        try:
            if not python.exists():
                subprocess.run(
                    [sys.executable, "-m", "venv", str(home)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *VENVS[name]],
                check=True,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        except (OSError, subprocess.SubprocessError) as error:
            tail = getattr(error, "stderr", "") or str(error)
            print(f"!! PEER {name.upper()} NOT INSTALLED ({spec}): skipped.")
            print("   " + "\n   ".join(str(tail).strip().splitlines()[-4:]))
            return None
        marker.write_text(spec)
    probe = f"import importlib.metadata as m; print(m.version({DIST[name]!r}))"
    version = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, check=False
    ).stdout.strip()
    return python, version or "?"


def call(
    python: Path, args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> str:
    """Run one peer script; its stdout, or '' (with the error shown) if it failed."""
    clean = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    say(f"{python.parent.parent.name}: {' '.join(args)} {env or ''}")
    try:
        done = subprocess.run(
            [str(python), *args],
            cwd=cwd,
            env={**clean, **(env or {})},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=True,
        )
    except subprocess.SubprocessError as error:
        tail = (getattr(error, "stderr", "") or str(error)).strip().splitlines()[-3:]
        print(f"!! {' '.join(args)} failed: {' | '.join(tail)}")
        return ""
    return done.stdout


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects a peer script printed, one per line."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def agently(params: dict[str, int], runs: int) -> dict[str, Any] | None:
    """Agently in memory: same workloads, plus bench_triggerflow.py for reference."""
    found = ensure_venv("agently")
    if found is None:
        return None
    python, version = found
    args = [
        f"--{k.replace('_', '-')}={v}" for k, v in {**params, "repeat": runs}.items()
    ]
    same = json_lines(call(python, [str(runtime.HERE / "workloads.py"), *args], ROOT))
    ref: dict[str, float] = {}
    script = PEERBENCH_COPY / "bench_triggerflow.py"
    if script.is_file():
        common = [f"--exec-chain={params['exec_chain']}", f"--repeat={runs}"]
        common.append("--sugar-runs=0")
        for chain, execs, keys in ((100, params["execs"], "abc"), (1000, 1, "a")):
            out = call(
                python,
                [str(script), f"--chain={chain}", f"--execs={execs}", *common],
                ROOT,
            )
            for m in re.finditer(r"^\((\w)\) .*chunks/s median=\s*([\d.]+)", out, re.M):
                if m[1] in keys:
                    ref[m[1] if chain == 100 else "a_long"] = float(m[2])
    # Agently's awaited async_set_state is cheaper than its sync bridge: (a) only
    extra = ["--execs=1", "--async-state=1"]
    fast = json_lines(
        call(python, [str(runtime.HERE / "workloads.py"), *args, *extra], ROOT)
    )
    rates = {k: rate(v) for k, v in same[0]["results"].items()} if same else {}
    rates_async = (
        {k: rate(v) for k, v in fast[0]["results"].items() if k in ("a", "a_long")}
        if fast
        else {}
    )
    return {
        "version": version,
        "same_workloads": rates,
        "async_set_state": rates_async,
        "bench_triggerflow": ref,
    }


def dbos(runs: int, where: Path) -> dict[str, Any] | None:
    """DBOS on SQLite: default (rollback journal) and the file pre-set to WAL."""
    found = ensure_venv("dbos")
    if found is None:
        return None
    python, version = found
    out: dict[str, Any] = {"version": version}
    for variant, env in (("default", {}), ("wal", {"DBOS_BENCH_WAL": "1"})):
        for mode in ("chain", "many", "manyc"):
            for row in json_lines(
                call(python, ["dbos_bench.py", mode, str(runs)], where, env)
            ):
                out[f"{variant}/{mode}"] = row["median_steps_per_s"]
    return out


def langgraph(runs: int, where: Path) -> dict[str, Any] | None:
    """LangGraph SqliteSaver/AsyncSqliteSaver, durability sync (and async, the default)."""
    found = ensure_venv("lg")
    if found is None:
        return None
    python, version = found
    out: dict[str, Any] = {"version": version}
    plan = [
        ("chain", "sync"),
        ("chain", "async"),
        ("achain", "sync"),
        ("many", "sync"),
        ("many", "async"),
        ("amanyc", "sync"),
        ("amanyc", "async"),
    ]
    for mode, durability in plan:
        for row in json_lines(
            call(python, ["lg_bench.py", mode, durability, str(runs)], where)
        ):
            out[f"{durability}/{mode}"] = row["median_steps_per_s"]
    return out


def run(runs: int | None = None) -> dict[str, Any]:
    """Ours (reused if measured in this process), then every peer that installs."""
    runs = runs or int(os.environ.get("BENCH_PEER_RUNS", "3"))
    ours = runtime.results()
    params = {k: v for k, v in ours["params"].items() if k != "repeat"}
    where = peerbench()
    report: dict[str, Any] = {
        "machine": ours["machine"],
        "params": ours["params"],
        "peer_runs": runs,
    }
    report["ours"] = {k: rate(v) for k, v in ours["durable"].items()}
    report["ours_memory"] = {k: rate(v) for k, v in ours["memory"].items()}
    report["agently"] = agently(params, runs)
    report["dbos"] = dbos(runs, where) if where else None
    report["langgraph"] = langgraph(runs, where) if where else None
    report["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    return report


def _cell(value: float | None, ours: float) -> str:
    return "—" if value is None else f"{runtime.fmt(value)} ({ours / value:.1f}x)"


def print_report(report: dict[str, Any]) -> None:
    """One table: chunks (steps)/s, and in brackets how many times faster we are."""
    p, ours = report["params"], report["ours"]
    cols = ["a", "b", "c", "a_long"]
    print(
        f"== peers: chunks or steps per second, median of {report['peer_runs']} "
        f"(ours: {p['repeat']}); (Nx) = triggerlog durable / peer =="
    )
    print(
        f"   load avg at the end: {report['loadavg_1m_end']} on {os.cpu_count()} cores"
    )
    print(f"{'system':<46}" + "".join(f"{k:>20}" for k in cols))

    def row(name: str, values: dict[str, float | None]) -> None:
        print(
            f"{name:<46}"
            + "".join(f"{_cell(values.get(k), ours.get(k, 0)):>20}" for k in cols)
        )

    print(
        f"{'triggerlog, SQLite, durability=full':<46}"
        + "".join(f"{runtime.fmt(ours[k]) if k in ours else '—':>20}" for k in cols)
    )
    row("triggerlog, :memory: store (not durable)", report["ours_memory"])
    ag = report["agently"]
    if ag:
        row(f"Agently {ag['version']} in memory, same workloads", ag["same_workloads"])
        row("  same, await data.async_set_state", ag["async_set_state"])
        row("  bench_triggerflow.py (no state writes)", ag["bench_triggerflow"])
    db = report["dbos"]
    if db:
        for variant in ("default", "wal"):
            row(
                f"DBOS {db['version']} SQLite {variant}, 200 wf (c: threads)",
                {
                    "a": db.get(f"{variant}/chain"),
                    "b": db.get(f"{variant}/many"),
                    "c": db.get(f"{variant}/manyc"),
                },
            )
    lg = report["langgraph"]
    if lg:
        for d in ("sync", "async"):
            row(
                f"LangGraph {lg['version']} SqliteSaver {d}, 200 wf",
                {
                    "a": lg.get(f"{d}/chain"),
                    "b": lg.get(f"{d}/many"),
                    "c": lg.get(f"{d}/amanyc"),
                },
            )
        row("LangGraph AsyncSqliteSaver sync, achain", {"a": lg.get("sync/achain")})
    print(f"   columns: {', '.join(runtime.label(k, p) for k in cols)}")
    print(
        "   peers' b/c run 200 workflows x 10 steps (their scripts); ours/Agently "
        f"{p['execs']}; rates are per chunk/step"
    )
    agent_a = (ag or {}).get("same_workloads", {}).get("a")
    if agent_a:
        ratio = ours["a"] / agent_a
        verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
        print(
            f"   target (a) >= {TARGET_RATIO:.0f}x Agently in memory, same workload: "
            f"{verdict} ({ratio:.2f}x)"
        )
    else:
        print(
            "   target (a) >= 4x Agently in memory: NOT MEASURED (Agently unavailable)"
        )


def main(argv: list[str] | None = None) -> int:
    """Run ours (unless already run in this process) and the peers; print and save."""
    if not runtime.has_results():
        runtime.main(argv)  # same flags as `bench runtime`
    report = run()
    print_report(report)
    print(f"   -> {runtime.save(report, 'peers')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Starting worker processes from the tests (one module, used by every test file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).resolve().parent / "worker.py"


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    env.pop("TRIGGERLOG_DB", None)
    return env


def run_worker(*args: str, timeout: float = 60) -> Any:
    """Run one worker to the end; return the JSON document it printed."""
    done = subprocess.run(
        [sys.executable, str(WORKER), *args],
        capture_output=True,
        cwd=str(REPO),
        env=worker_env(),
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def start_workers(commands: list[list[str]]) -> list[subprocess.Popen[bytes]]:
    """Start workers that stop at their barrier (each prints ``ready`` first)."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *cmd, "--barrier"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(REPO),
            env=worker_env(),
        )
        for cmd in commands
    ]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != b"ready":
            for other in procs:
                other.kill()
            err = proc.stderr.read() if proc.stderr else b""
            raise AssertionError(f"worker not ready: {line!r} {err!r}")
    return procs


def release(procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> list[Any]:
    """Release every worker at once; return their JSON documents."""
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err.decode(errors="replace")
        results.append(orjson.loads(out.strip().splitlines()[-1]))
    return results

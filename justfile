# triggerlog developer commands. `just check` is what a change must pass.

default:
    @just --list

# lint + typecheck + module sizes + tests
check: lint typecheck sizes test

# ruff (format and lint) and the import contracts
lint:
    ruff format --check .
    ruff check .
    lint-imports

fmt:
    ruff format .
    ruff check --fix .

typecheck:
    mypy

# the test suite (nightly/slow batteries excluded; see `just test-slow`)
test *args:
    pytest -m "not postgres and not slow" {{args}}

# the long batteries (2,000 kills, 20,000 flips, 1,000 WAL cuts) and every hypothesis
# test under the nightly profile (2,000 examples where a test sets no count)
test-slow *args:
    HYPOTHESIS_PROFILE=nightly pytest -m "slow or hypothesis" {{args}}

# benchmarks, printed and written to bench/results/latest.md
bench *args:
    python -m bench {{args}}

# no module over 600 lines in the library or the console
sizes limit="600":
    #!/usr/bin/env bash
    set -euo pipefail
    over=$(find orchestrator tui -name '*.py' -print0 | xargs -0 wc -l | awk -v m={{limit}} '$2 != "total" && $1 > m')
    if [ -n "$over" ]; then printf 'over {{limit}} lines:\n%s\n' "$over"; exit 1; fi
    find orchestrator tui -name '*.py' -print0 | xargs -0 wc -l | awk '$2 != "total" {print $1}' | sort -n | awk '{a[NR]=$1} END {print "modules:", NR, "median lines:", a[int((NR+1)/2)]}'

demo:
    triggerlog demo

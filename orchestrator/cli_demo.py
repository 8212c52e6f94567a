"""``triggerlog demo``: a real document pipeline, its log, and a rebuild from the log.

The flow touches every part of the model: a chain, a ``for_each`` over the
documents with an ``if_condition`` inside, a ``batch`` join, state writes
(``set_state``/``append_state``) and a runtime resource (a classifier object that
chunks use but the log never contains). After the run, a *fresh* flow object
rebuilds the execution from the log with ``flow.get_execution(id)`` and the demo
checks that the rebuilt view equals the live one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.read_model import diff_states, format_time, read_history, state_at
from orchestrator.store.open import open_store
from orchestrator.trigger_flow import TriggerFlow

if TYPE_CHECKING:
    from typing import TextIO

    from orchestrator.runtime.runtime_data import TriggerFlowRuntimeData
    from orchestrator.store.base import EventStore

__all__ = [
    "archive",
    "build_flow",
    "classify",
    "count_documents",
    "DEMO_FLOW_NAME",
    "DEMO_INPUT",
    "extract_total",
    "ingest",
    "is_invoice",
    "KeywordClassifier",
    "report",
    "run",
    "sum_totals",
]

DEMO_FLOW_NAME = "document-pipeline"

DEMO_INPUT: dict[str, Any] = {
    "batch": "inbox-2025-01-07",
    "documents": [
        {"id": "doc-1", "text": "INVOICE ACME Corp, total 120.50"},
        {"id": "doc-2", "text": "Dear team, thanks for the visit."},
        {"id": "doc-3", "text": "INVOICE Initech, total 79.50"},
    ],
}

SHAPE = (
    "ingest -> for_each(classify -> if invoice: extract_total else archive)"
    " -> batch(sum_totals, count_documents) -> report"
)


class KeywordClassifier:
    """A stand-in for a model client: a live object, injected, never in the log."""

    def __init__(self) -> None:
        self.calls = 0

    def classify(self, text: str) -> str:
        """``"invoice"`` or ``"letter"``."""
        self.calls += 1
        return "invoice" if "total" in text.lower() else "letter"


# -- chunks ------------------------------------------------------------------------


def ingest(data: TriggerFlowRuntimeData) -> Any:
    """Record the batch name; pass the documents on (for_each splits them)."""
    data.set_state("batch", data.value["batch"])
    return data.value["documents"]


def classify(data: TriggerFlowRuntimeData) -> Any:
    """Label one document with the injected classifier."""
    document = data.value
    label = data.require_resource("classifier").classify(document["text"])
    data.set_state(f"labels.{document['id']}", label)
    return {**document, "label": label}


def is_invoice(data: TriggerFlowRuntimeData) -> bool:
    """The if_condition: route invoices to extraction."""
    return bool(data.value["label"] == "invoice")


def extract_total(data: TriggerFlowRuntimeData) -> Any:
    """Parse the amount at the end of an invoice."""
    document = data.value
    total = float(document["text"].rsplit(" ", 1)[-1])
    data.append_state("totals", total)
    return {"id": document["id"], "total": total}


def archive(data: TriggerFlowRuntimeData) -> Any:
    """File away anything that is not an invoice."""
    data.append_state("archived", data.value["id"])
    return {"id": data.value["id"], "total": 0.0}


def sum_totals(data: TriggerFlowRuntimeData) -> Any:
    """Batch branch 1: the amount of the whole batch."""
    return round(sum(item["total"] for item in data.value), 2)


def count_documents(data: TriggerFlowRuntimeData) -> Any:
    """Batch branch 2: how many documents went through."""
    return len(data.value)


def report(data: TriggerFlowRuntimeData) -> Any:
    """Write the joined batch result ``{branch: result}`` to the state."""
    data.set_state("report", data.value)
    return data.value


def build_flow(store: str | EventStore) -> TriggerFlow:
    """The demo flow, durable in ``store`` (a path, a URL or an EventStore)."""
    flow = TriggerFlow(name=DEMO_FLOW_NAME, store=store)
    (
        flow.to(ingest)
        .for_each()
        .to(classify)
        .if_condition(is_invoice)
        .to(extract_total)
        .else_condition()
        .to(archive)
        .end_condition()
        .end_for_each()
        .batch(sum_totals, count_documents)
        .to(report)
    )
    return flow


def _sorted_json(value: Any, width: int) -> str:
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= width else text[: width - 1] + "…"


def _cut(line: str, width: int = 100) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def run(db: str, out: TextIO) -> int:
    """Run the demo on ``db`` and print what happened; 0 if the rebuild matched."""

    def say(line: str = "") -> None:
        out.write(line + "\n")

    classifier = KeywordClassifier()
    stores: list[EventStore] = []
    try:
        stores.append(open_store(db))
        flow = build_flow(stores[0])
        execution = flow.create_execution(runtime_resources={"classifier": classifier})
        execution.start(DEMO_INPUT)
        history = read_history(stores[0], execution.id)

        say(f"triggerlog demo: flow {DEMO_FLOW_NAME!r} on {db}")
        say(f"  {SHAPE}")
        say(
            f"execution {execution.id}  status {execution.get_status()}  "
            f"{len(history.rows)} events  "
            f"{format_time(history.rows[0].created_at if history.rows else None)} UTC"
        )
        say()
        say(f"{'seq':>3}  {'type':<17}  payload")
        for row in history.rows:
            say(_cut(f"{row.seq:>3}  {row.type:<17}  {row.summary}".rstrip()))
        say()
        say("final state:")
        # Sorted keys: the for_each items finish in any order, the output must not.
        for key, value in sorted(execution.get_state().items()):
            say(f"  {key}: {_sorted_json(value, 80)}")
        say(
            f"runtime resource 'classifier': {classifier.calls} calls on a live "
            "object; the log holds only its key"
        )

        # A fresh flow object (as another process would build it) rebuilds the
        # execution from the log alone.
        stores.append(open_store(db))
        fresh = build_flow(stores[1])
        rebuilt = fresh.get_execution(execution.id)
        same_state = rebuilt.get_state() == execution.get_state()
        same_view = rebuilt.view.to_json() == execution.view.to_json()
        say()
        say(
            f"rebuilt with flow.get_execution({execution.id[:8]}...) in a fresh flow "
            f"object from {rebuilt.view.last_seq} logged events:"
        )
        say(
            f"  status {rebuilt.get_status()}; rebuilt state equal to live: "
            f"{_yes(same_state)}; whole view equal: {_yes(same_view)}"
        )
        # Time travel: the exact view after any event, and what changed since.
        last = rebuilt.view.last_seq
        middle = max(1, last // 2)
        then = state_at(stores[1], execution.id, middle)
        diff = diff_states(then, state_at(stores[1], execution.id, last))
        changes = [c.format() for c in diff.changes if c.layer == "state"]
        say()
        say(f"time travel: state after event {middle} of {last}: {sorted(then.state)}")
        say(f"  what the rest of the run changed in state ({len(changes)} changes):")
        for line in changes[:4]:
            say(_cut(f"    {line}"))
        if len(changes) > 4:
            say(f"    ... and {len(changes) - 4} more")
        say()
        say(f"next: triggerlog list --db {db}")
        say(f"      triggerlog show {execution.id} --db {db}")
        say(f"      triggerlog state {execution.id} --at {middle} --db {db}")
        say(f"      triggerlog diff {execution.id} {middle} {last} --db {db}")
        say(f"      triggerlog export {execution.id} --db {db} -o history.json")
        say(f"      triggerlog console --db {db}")
        return 0 if same_state and same_view else 1
    finally:
        for store in stores:
            store.close()


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"

"""Quickstart: a three-chunk TriggerFlow whose every step lands in the event log.

    python examples/quickstart.py

writes to ``$TRIGGERLOG_DB`` (default ``./triggerlog.db``); then look at it with
``triggerlog list``, ``triggerlog show <id>`` or ``triggerlog console``.
"""

from __future__ import annotations

from orchestrator import TriggerFlow, TriggerFlowRuntimeData

flow = TriggerFlow(name="quickstart")


def fetch(data: TriggerFlowRuntimeData) -> str:
    """Chunk 1: remember the topic, fetch some text about it."""
    data.set_state("topic", data.value)
    return f"Event sourcing stores every change to {data.value} as an event."


def summarize(data: TriggerFlowRuntimeData) -> dict[str, object]:
    """Chunk 2: a (very) small summary."""
    words = data.value.split()
    return {"words": len(words), "first": " ".join(words[:3])}


def publish(data: TriggerFlowRuntimeData) -> str:
    """Chunk 3: write the result to the execution's state."""
    data.set_state("summary", data.value)
    data.append_state("log", "published")
    return "ok"


flow.to(fetch).to(summarize).to(publish)


if __name__ == "__main__":
    execution = flow.create_execution()
    snapshot = execution.start("a workflow")
    print(f"execution {execution.id}: {execution.get_status()}")
    print("snapshot:", snapshot)

    # Durable: the same execution, rebuilt from the log alone.
    rebuilt = flow.get_execution(execution.id)
    print("rebuilt from the log:", rebuilt.get_state() == snapshot)

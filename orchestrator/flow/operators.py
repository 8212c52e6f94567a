"""Operators: the serialisable nodes a flow definition compiles to.

Each operator listens to signals (``(trigger_type, event)`` keys) and, when it
runs, emits its continuation event. Event names are observable API (users can
``when()`` on them), so they keep TriggerFlow's shapes: ``START``,
``Chunk[<name>]-chunk-<16 hex>``, ``When-<id>``, ``Batch-<id>-Input-<chunk>``,
``ForEach-<id>-Send``/``-End``, ``Match-<id>-Case-<case>``, ``Collect-<name>``...
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INTERNAL_EVENT_PREFIXES",
    "START",
    "Operator",
    "OperatorKind",
    "SignalKey",
    "short_hash",
    "signal_id_text",
]

START = "START"

# (trigger_type, event): trigger_type is "event", "runtime_data" or "flow_data".
SignalKey = tuple[str, str]

INTERNAL_EVENT_PREFIXES = (
    "Chunk[",
    "When-",
    "Batch-",
    "ForEach-",
    "Match-",
    "SubFlow-",
)


class OperatorKind:
    """Operator kind names (as TriggerFlow's flow config spells them)."""

    CHUNK = "chunk"
    SIGNAL_GATE = "signal_gate"
    BATCH_FANOUT = "batch_fanout"
    BATCH_COLLECT = "batch_collect"
    FOR_EACH_SPLIT = "for_each_split"
    FOR_EACH_COLLECT = "for_each_collect"
    MATCH_ROUTE = "match_route"
    MATCH_COLLECT = "match_collect"
    COLLECT_BRANCH = "collect_branch"
    SUB_FLOW = "sub_flow"
    RESULT_SINK = "result_sink"


def short_hash(*parts: object) -> str:
    """16 hex characters of sha1 over ``parts`` (TriggerFlow's id shape)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def signal_id_text(key: SignalKey) -> str:
    """``"<trigger_type>:<event>"``, the config spelling of a signal."""
    return f"{key[0]}:{key[1]}"


@dataclass(slots=True)
class Operator:
    """One node of a flow: JSON-serialisable, handlers referenced by name."""

    id: str
    kind: str
    name: str
    listen: list[SignalKey]
    continuation: str | None = None
    emits: list[str] = field(default_factory=list)
    handler: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    group_kind: str | None = None

    def to_config(self) -> dict[str, Any]:
        """The operator as it appears in a blueprint."""
        emits = [self.continuation] if self.continuation else []
        emits += [e for e in self.emits if e not in emits]
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "listen_signals": [
                {"id": signal_id_text(k), "trigger_type": k[0], "trigger_event": k[1]}
                for k in self.listen
            ],
            "emit_signals": [
                {
                    "id": f"event:{e}",
                    "trigger_type": "event",
                    "trigger_event": e,
                    "role": "continuation"
                    if e == self.continuation
                    else "declared_emit",
                }
                for e in emits
            ],
            "options": self.options,
            "handler_ref": {"kind": "chunk", "name": self.handler}
            if self.handler
            else None,
            "group_id": self.group_id,
            "group_kind": self.group_kind,
        }

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> Operator:
        """Inverse of :meth:`to_config`."""
        listen = [
            (s["trigger_type"], s["trigger_event"]) for s in data["listen_signals"]
        ]
        continuation = next(
            (
                s["trigger_event"]
                for s in data["emit_signals"]
                if s.get("role") == "continuation"
            ),
            None,
        )
        emits = [
            s["trigger_event"]
            for s in data["emit_signals"]
            if s.get("role") != "continuation"
        ]
        handler_ref = data.get("handler_ref")
        return cls(
            id=data["id"],
            kind=data["kind"],
            name=data["name"],
            listen=listen,
            continuation=continuation,
            emits=emits,
            handler=handler_ref["name"] if handler_ref else None,
            options=dict(data.get("options") or {}),
            group_id=data.get("group_id"),
            group_kind=data.get("group_kind"),
        )

    def same_wiring(self, other: Operator) -> bool:
        """True when ``other`` is this operator defined again identically."""
        return self.to_config() == other.to_config()

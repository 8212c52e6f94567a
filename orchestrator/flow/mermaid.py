"""``to_mermaid()``: a flowchart of a flow's operators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.flow.operators import START, OperatorKind, short_hash

if TYPE_CHECKING:
    from orchestrator.flow.definition import FlowDefinition

__all__ = ["to_mermaid"]

_SHAPES = {
    OperatorKind.CHUNK: ('["', '"]'),
    OperatorKind.SIGNAL_GATE: ('{{"', '"}}'),
    OperatorKind.MATCH_ROUTE: ('{"', '"}'),
    OperatorKind.RESULT_SINK: ('(["', '"])'),
    OperatorKind.SUB_FLOW: ('[["', '"]]'),
}


def _label(text: str) -> str:
    return text.replace('"', "'")


def to_mermaid(definition: FlowDefinition, mode: str = "simplified") -> str:
    """Mermaid ``flowchart TD`` source; ``detailed`` labels edges with event names."""
    if mode not in ("simplified", "detailed"):
        raise ValueError(
            f"to_mermaid(mode=...) takes 'simplified' or 'detailed', got {mode!r}"
        )
    node_ids = {op_id: f"n{i}" for i, op_id in enumerate(definition.operators)}
    emitters: dict[str, list[str]] = {START: ["start"]}
    for op in definition.operators.values():
        for event in [op.continuation, *op.emits]:
            if event:
                emitters.setdefault(event, []).append(node_ids[op.id])
    lines = ["flowchart TD", '    start(("START"))']
    for op in definition.operators.values():
        left, right = _SHAPES.get(op.kind, ('["', '"]'))
        kind = "" if op.kind == OperatorKind.CHUNK else f"{op.kind}: "
        label = _label(f"{kind}{op.name}")
        lines.append(f"    {node_ids[op.id]}{left}{label}{right}")
    seen: set[tuple[str, str, str]] = set()
    for op in definition.operators.values():
        for trigger_type, event in op.listen:
            sources = emitters.get(event, []) if trigger_type == "event" else []
            if not sources:
                ext = f"ext_{short_hash(trigger_type, event)[:8]}"
                lines.append(f'    {ext}>"{_label(trigger_type + ": " + event)}"]')
                sources = [ext]
            for source in sources:
                edge = (source, node_ids[op.id], event)
                if edge in seen:
                    continue
                seen.add(edge)
                if mode == "detailed":
                    lines.append(
                        f'    {source} -- "{_label(event)}" --> {node_ids[op.id]}'
                    )
                else:
                    lines.append(f"    {source} --> {node_ids[op.id]}")
    return "\n".join(lines) + "\n"

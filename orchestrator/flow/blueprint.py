"""Blueprints: a flow's structure as a ``trigger_flow/v1`` dict, and back.

A blueprint holds operators with handlers referenced by registered name, never
function bodies, files or line numbers. Loading one needs every handler
registered first (``register_chunk_handler`` / ``register_condition_handler``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError
from orchestrator.events.codec import loads
from orchestrator.events.values import copy_json
from orchestrator.flow.definition import BLUEPRINT_VERSION
from orchestrator.flow.operators import Operator, OperatorKind

if TYPE_CHECKING:
    from orchestrator.flow.definition import FlowDefinition

__all__ = ["export_config", "import_config"]


def export_config(
    definition: FlowDefinition, validate_serializable: bool = True
) -> dict[str, Any]:
    """The blueprint dict of ``definition`` (JSON-serialisable)."""
    if validate_serializable:
        anonymous = [
            op.name
            for op in definition.operators.values()
            if op.options.get("anonymous")
        ]
        if anonymous:
            raise FlowDefinitionError(
                f"flow {definition.name!r} uses a non-serializable handler (a lambda or "
                f"other anonymous callable) in chunk(s) {anonymous}; a blueprint can only "
                "refer to handlers by name. Use named functions or pass name=..."
            )
    config: dict[str, Any] = copy_json(definition.to_config())
    return config


def _referenced(config: dict[str, Any]) -> tuple[list[str], list[str]]:
    chunks: list[str] = []
    conditions: list[str] = []
    for op in config.get("operators", []):
        ref = op.get("handler_ref")
        if op.get("kind") == OperatorKind.CHUNK and ref and ref.get("name"):
            chunks.append(ref["name"])
        cases = (op.get("options") or {}).get("cases", [])
        conditions.extend(c["condition"] for c in cases if c.get("condition"))
    return chunks, conditions


def import_config(
    definition: FlowDefinition, config: dict[str, Any] | str, replace: bool = True
) -> None:
    """Rebuild ``definition`` from a blueprint (the flow takes the blueprint's name)."""
    if isinstance(config, str):
        config = loads(config)
    if not isinstance(config, dict) or config.get("version") != BLUEPRINT_VERSION:
        found = (
            config.get("version") if isinstance(config, dict) else type(config).__name__
        )
        raise FlowDefinitionError(
            f"load_blueprint: expected a {BLUEPRINT_VERSION!r} dict, got version {found!r}"
        )
    if config.get("sub_flows"):
        raise FlowDefinitionError(
            "load_blueprint: this blueprint embeds sub-flows; rebuild sub-flows in code "
            "and wire them with to_sub_flow()"
        )
    chunks, conditions = _referenced(config)
    missing_chunks = sorted({n for n in chunks if n not in definition.chunk_handlers})
    missing_conditions = sorted(
        {n for n in conditions if n not in definition.condition_handlers}
    )
    if missing_chunks or missing_conditions:
        parts = []
        if missing_chunks:
            parts.append(f"chunk handler(s) {missing_chunks}")
        if missing_conditions:
            parts.append(f"condition handler(s) {missing_conditions}")
        raise FlowDefinitionError(
            f"Cannot load TriggerFlow config because {' and '.join(parts)} "
            "are not registered. Register them with register_chunk_handler(fn) / "
            "register_condition_handler(fn) (by the same name) before loading."
        )
    operators = [Operator.from_config(op) for op in config.get("operators", [])]
    if replace:
        definition.operators.clear()
        definition.listeners.clear()
    definition.name = str(config.get("name") or definition.name)
    definition.meta = dict(config.get("meta") or {})
    for op in operators:
        definition.add(op)

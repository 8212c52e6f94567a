"""Blueprints: a flow's structure as a ``trigger_flow/v1`` dict, and back.

A blueprint holds operators with handlers referenced by registered name, never
function bodies, files or line numbers. Loading one needs every handler
registered first (``register_chunk_handler`` / ``register_condition_handler``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError
from orchestrator.events.values import copy_json
from orchestrator.flow.blueprint_schema import Blueprint, parse_blueprint
from orchestrator.flow.definition import FlowDefinition
from orchestrator.flow.operators import OperatorKind

if TYPE_CHECKING:
    from orchestrator.flow.operators import Operator

__all__ = ["export_config", "import_config"]


def export_config(
    definition: FlowDefinition, validate_serializable: bool = True
) -> dict[str, Any]:
    """The blueprint dict of ``definition`` (JSON-serialisable)."""
    if validate_serializable:
        chunks = [
            op.name
            for op in definition.operators.values()
            if op.options.get("anonymous")
        ]
        conditions = sorted(
            {
                name
                for op in definition.operators.values()
                for name in _conditions(op)
                if name in definition.anonymous_conditions
            }
        )
        if chunks or conditions:
            where = [f"chunk(s) {chunks}"] if chunks else []
            where += [f"condition(s) {conditions}"] if conditions else []
            raise FlowDefinitionError(
                f"flow {definition.name!r} uses a non-serializable handler (a lambda or "
                f"other anonymous callable) in {' and '.join(where)}; a blueprint can "
                "only refer to handlers by name. Use named functions, pass name=... "
                "(chunks) or register_condition_handler(fn, name=...) (conditions), "
                "or call get_flow_config(validate_serializable=False)."
            )
    config: dict[str, Any] = copy_json(definition.to_config())
    return config


def _conditions(op: Operator) -> list[str]:
    if op.kind != OperatorKind.MATCH_ROUTE:
        return []
    return [c["condition"] for c in op.options.get("cases", []) if c.get("condition")]


def import_config(
    definition: FlowDefinition, config: dict[str, Any] | str, replace: bool = True
) -> None:
    """Rebuild ``definition`` from a blueprint, all or nothing.

    The whole document is checked, and the new structure built on the side,
    before ``definition`` changes: a bad blueprint raises and leaves the flow as
    it was. ``replace=True`` takes the blueprint's operators, name and meta;
    ``replace=False`` adds its operators to this flow, which keeps its own name
    and meta (renaming would move its executions and flow data).
    """
    blueprint = parse_blueprint(config)
    _check_registered(definition, blueprint)
    staged = FlowDefinition(
        (blueprint.name or definition.name) if replace else definition.name
    )
    staged.meta = blueprint.meta if replace else definition.meta
    staged.chunk_handlers = definition.chunk_handlers
    staged.condition_handlers = definition.condition_handlers
    if not replace:
        staged.operators = dict(definition.operators)
        staged.listeners = {k: list(v) for k, v in definition.listeners.items()}
    for op in blueprint.operators:
        staged.add(op)
    staged.validate()
    definition.adopt(staged)


def _check_registered(definition: FlowDefinition, blueprint: Blueprint) -> None:
    chunks = {op.handler for op in blueprint.operators if op.handler}
    conditions = {name for op in blueprint.operators for name in _conditions(op)}
    missing_chunks = sorted(n for n in chunks if n not in definition.chunk_handlers)
    missing_conditions = sorted(
        n for n in conditions if n not in definition.condition_handlers
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

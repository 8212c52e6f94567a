"""Sub-flow operators: ``to_sub_flow(child, capture=..., write_back=...)``.

capture (a snapshot taken once, when the parent chunk runs)::

    {"input": "value" | "value.x" | "state.k" | "flow_state.k",   # the child's input
     "state":     {"child.path": "<source>"},                     # child state
     "flow_data": {"child.path": "<source>"},                     # child's own flow_data
     "resources": {"child_key": "resources.parent_key"}}          # by identity

    sources: value[.path], state.path (alias runtime_data.path),
             flow_state.path (alias flow_data.path); resources.key only into resources

write_back (reads only the child's result, writes only into the parent)::

    {"value": "result" | "result.path" | "snapshot" | "snapshot.path",
     "state":     {"parent.path": "result.path"},
     "flow_data": {"parent.path": "result.path"}}

``result`` is the child's ``$final_result`` when it set one, else its close
snapshot; ``snapshot`` is always the close snapshot. Defaults: the child's input
is the parent's value, the parent's next value is the child's result. Everything
is checked here, at definition time.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError
from orchestrator.events.values import MAX_VALUE_DEPTH
from orchestrator.flow.operators import Operator, OperatorKind, short_hash

if TYPE_CHECKING:
    from orchestrator.flow.definition import FlowDefinition
    from orchestrator.flow.operators import SignalKey

__all__ = ["add_sub_flow", "parse_capture", "parse_write_back"]

_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCOPE_ALIASES = {
    "value": "value",
    "state": "state",
    "runtime_data": "state",
    "flow_state": "flow_data",
    "flow_data": "flow_data",
    "resources": "resources",
    "result": "result",
    "snapshot": "snapshot",
}
_CAPTURE_SOURCES = ("value", "state", "runtime_data", "flow_state", "flow_data")
_CAPTURE_KEYS = (
    "input",
    "state",
    "runtime_data",
    "flow_data",
    "flow_state",
    "resources",
)
_WRITE_BACK_KEYS = ("value", "state", "runtime_data", "flow_data", "flow_state")


def _path(text: str, where: str) -> str:
    if not text:
        return ""
    segments = text.split(".")
    if len(segments) - 1 > MAX_VALUE_DEPTH:
        # Every segment after the first nests the value one dict deeper, and a
        # value is capped at MAX_VALUE_DEPTH containers where it lands (as
        # set_state caps it), so no value could ever be written there.
        raise FlowDefinitionError(
            f"{where}: the path {text[:40]}... has {len(segments)} segments; a value "
            f"is stored at most {MAX_VALUE_DEPTH} lists/dicts deep, each segment "
            "after the first counting as one. Use a shorter path."
        )
    for segment in segments:
        if not _SEGMENT.match(segment):
            raise FlowDefinitionError(
                f"{where}: path segment {segment!r} of {text!r} is not an identifier "
                "([A-Za-z_][A-Za-z0-9_]*)"
            )
    return text


def _source(text: Any, where: str, allowed: tuple[str, ...]) -> list[str]:
    if not isinstance(text, str) or not text:
        raise FlowDefinitionError(
            f"{where}: a source must be a string like 'value.x', got {text!r}"
        )
    scope, dot, rest = text.partition(".")
    if dot and not rest:
        raise FlowDefinitionError(
            f"{where}: source {text!r} ends with '.'; give a path or drop the dot"
        )
    if scope not in allowed:
        raise FlowDefinitionError(
            f"{where}: source {text!r} has scope {scope!r}; allowed scopes here: "
            f"{', '.join(allowed)}"
        )
    if (
        scope in ("state", "runtime_data", "flow_state", "flow_data", "resources")
        and not rest
    ):
        raise FlowDefinitionError(
            f"{where}: {scope!r} needs a path, e.g. '{scope}.key'"
        )
    return [_SCOPE_ALIASES[scope], _path(rest, where)]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FlowDefinitionError(
            f"{where} must be a dict of target path -> source, got {value!r}"
        )
    return value


def _check_conflicts(entries: dict[str, Any], where: str) -> None:
    """No target may be inside another (``a`` and ``a.b`` would overwrite each other)."""
    paths = sorted(entries)
    for shorter, longer in itertools.pairwise(paths):
        if longer.startswith(shorter + "."):
            raise FlowDefinitionError(
                f"{where}: targets {shorter!r} and {longer!r} conflict (one is inside "
                "the other, so one write would silently replace the other)"
            )


def parse_capture(capture: dict[str, Any] | None) -> dict[str, Any]:
    """Validate and normalise ``capture`` (sources become ``[scope, path]``)."""
    capture = {} if capture is None else capture
    if not isinstance(capture, dict):
        raise FlowDefinitionError(f"capture must be a dict, got {capture!r}")
    unknown = sorted(set(capture) - set(_CAPTURE_KEYS))
    if unknown:
        raise FlowDefinitionError(
            f"capture: unknown key(s) {unknown}; allowed: input, state (alias runtime_data), "
            "flow_data (alias flow_state), resources"
        )
    parsed: dict[str, Any] = {
        "input": _source(
            capture.get("input", "value"), "capture['input']", _CAPTURE_SOURCES
        )
    }
    for key, target in (
        ("state", "state"),
        ("runtime_data", "state"),
        ("flow_data", "flow_data"),
        ("flow_state", "flow_data"),
    ):
        if key not in capture:
            continue
        entries = parsed.setdefault(target, {})
        for child_path, source in _mapping(capture[key], f"capture[{key!r}]").items():
            where = f"capture[{key!r}][{child_path!r}]"
            path = _path(child_path, where)
            if not path or path in entries:
                raise FlowDefinitionError(f"{where}: empty or duplicate target path")
            entries[path] = _source(source, where, _CAPTURE_SOURCES)
    for target in ("state", "flow_data"):
        _check_conflicts(parsed.get(target, {}), f"capture[{target!r}]")
    if "resources" in capture:
        resources: dict[str, str] = {}
        for child_key, source in _mapping(
            capture["resources"], "capture['resources']"
        ).items():
            where = f"capture['resources'][{child_key!r}]"
            _, path = _source(source, where, ("resources",))
            if not isinstance(child_key, str) or not child_key:  # type: ignore[redundant-expr]
                raise FlowDefinitionError(
                    f"{where}: the child resource key must be a str"
                )
            resources[child_key] = path
        parsed["resources"] = resources
    return parsed


def parse_write_back(write_back: dict[str, Any] | None) -> dict[str, Any]:
    """Validate and normalise ``write_back`` (sources become ``[scope, path]``)."""
    write_back = {"value": "result"} if write_back is None else write_back
    if not isinstance(write_back, dict):
        raise FlowDefinitionError(f"write_back must be a dict, got {write_back!r}")
    if "resources" in write_back:
        raise FlowDefinitionError(
            "write_back['resources']: resources can never be written back; a child "
            "only ever sees captured resources. Allowed targets: value, state, flow_data"
        )
    unknown = sorted(set(write_back) - set(_WRITE_BACK_KEYS))
    if unknown:
        raise FlowDefinitionError(
            f"write_back: unknown target(s) {unknown}; allowed: value, state (alias "
            "runtime_data), flow_data (alias flow_state)"
        )
    parsed: dict[str, Any] = {}
    if "value" in write_back:
        parsed["value"] = _source(
            write_back["value"], "write_back['value']", ("result", "snapshot")
        )
    for key, target in (
        ("state", "state"),
        ("runtime_data", "state"),
        ("flow_data", "flow_data"),
        ("flow_state", "flow_data"),
    ):
        if key not in write_back:
            continue
        entries = parsed.setdefault(target, {})
        for parent_path, source in _mapping(
            write_back[key], f"write_back[{key!r}]"
        ).items():
            where = f"write_back[{key!r}][{parent_path!r}]"
            path = _path(parent_path, where)
            if not path or path in entries:
                raise FlowDefinitionError(f"{where}: empty or duplicate target path")
            entries[path] = _source(source, where, ("result", "snapshot"))
    for target in ("state", "flow_data"):
        _check_conflicts(parsed.get(target, {}), f"write_back[{target!r}]")
    return parsed


def add_sub_flow(
    definition: FlowDefinition,
    flow: Any,
    listen: SignalKey,
    *,
    capture: dict[str, Any] | None = None,
    write_back: dict[str, Any] | None = None,
    name: str | None = None,
    side_branch: bool = False,
    concurrency: Any = None,
) -> Operator:
    """Add the operator that runs ``flow`` as an isolated child execution."""
    if flow is None or not hasattr(flow, "definition"):
        raise FlowDefinitionError(f"to_sub_flow() takes a TriggerFlow, got {flow!r}")
    if flow.definition is definition:
        raise FlowDefinitionError(
            f"flow {definition.name!r} cannot run itself as a sub-flow"
        )
    if concurrency is not None and (
        not isinstance(concurrency, int) or concurrency < 1
    ):
        raise FlowDefinitionError(
            f"to_sub_flow(): concurrency must be a positive int, got {concurrency!r}"
        )
    options = {
        "child": flow.name,
        "capture": parse_capture(capture),
        "write_back": parse_write_back(write_back),
        "concurrency": concurrency,
        "side_branch": bool(side_branch),
    }
    label = name or f"sub_flow:{flow.name}"
    op_id = f"sub-flow-{short_hash(flow.name, *listen, label)}"
    op = definition.add(
        Operator(
            id=op_id,
            kind=OperatorKind.SUB_FLOW,
            name=label,
            listen=[listen],
            continuation=f"SubFlow-{op_id}-Result",
            options=options,
        )
    )
    definition.sub_flows[op.id] = flow
    return op

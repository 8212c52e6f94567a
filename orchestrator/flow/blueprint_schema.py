"""Checking a ``trigger_flow/v1`` document before any of it is applied.

Every field of the document is checked here — types, known operator kinds, the
options each kind's runner reads — so that a malformed blueprint fails with one
:class:`~orchestrator.errors.FlowDefinitionError` naming the field (or a
:class:`~orchestrator.errors.PayloadError` for a value that is not JSON), and
never with a ``KeyError`` half-way through changing the flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from orchestrator.errors import FlowDefinitionError
from orchestrator.events.codec import loads
from orchestrator.events.values import to_json_value
from orchestrator.flow.definition import BLUEPRINT_VERSION as _VERSION
from orchestrator.flow.operators import Operator, OperatorKind, SignalKey
from orchestrator.flow.retry import retry_problem, timeout_problem
from orchestrator.ids import flow_name_problem

__all__ = ["Blueprint", "parse_blueprint"]

_TRIGGER_TYPES = ("event", "runtime_data", "flow_data")
_KINDS = frozenset(
    value
    for key, value in vars(OperatorKind).items()
    if key.isupper() and isinstance(value, str)
)
_MODES = {
    OperatorKind.SIGNAL_GATE: ("and", "or", "simple_or"),
    OperatorKind.MATCH_ROUTE: ("hit_first", "hit_all"),
    OperatorKind.MATCH_COLLECT: ("hit_first", "hit_all"),
    OperatorKind.COLLECT_BRANCH: ("filled_and_update", "filled_then_empty"),
}
_NEEDS_CONTINUATION = _KINDS - {
    OperatorKind.BATCH_FANOUT,
    OperatorKind.FOR_EACH_SPLIT,
    OperatorKind.RESULT_SINK,
}


@dataclass(frozen=True, slots=True)
class Blueprint:
    """A checked blueprint: what ``load_flow_config`` applies."""

    name: str | None
    meta: dict[str, Any]
    operators: list[Operator]


def parse_blueprint(config: Any) -> Blueprint:
    """Check ``config`` (a dict or its JSON text) completely; raise before anything changes."""
    if isinstance(config, str | bytes):
        try:
            config = loads(config)
        except ValueError as error:  # orjson.JSONDecodeError is a ValueError
            raise FlowDefinitionError(
                f"load_blueprint: the text is not JSON ({error}); pass the dict that "
                "get_flow_config() returned, or its json.dumps() text"
            ) from None
    if not isinstance(config, dict) or config.get("version") != _VERSION:
        found = (
            f"version {config.get('version')!r}"
            if isinstance(config, dict)
            else f"a value of type {type(config).__name__}"
        )
        raise FlowDefinitionError(
            f"load_blueprint: expected a {_VERSION!r} dict, got {found}"
        )
    name = config.get("name")
    if name is not None and flow_name_problem(name) is not None:
        _fail("name", f"a flow name or null ({flow_name_problem(name)})", name)
    meta = config.get("meta")
    if meta is not None and not isinstance(meta, dict):
        _fail("meta", "an object", meta)
    meta = to_json_value(meta or {}, "load_blueprint meta")
    if config.get("sub_flows"):
        raise FlowDefinitionError(
            "load_blueprint: this blueprint embeds sub-flows; rebuild sub-flows in code "
            "and wire them with to_sub_flow()"
        )
    # A missing or null list is refused: loading it would silently empty the flow.
    raw_ops = config.get("operators")
    if not isinstance(raw_ops, list):
        _fail("operators", "a list (of the flow's operators; [] for none)", raw_ops)
    operators = [_operator(f"operators[{i}]", raw) for i, raw in enumerate(raw_ops)]
    seen: set[str] = set()
    for index, op in enumerate(operators):
        if op.id in seen:
            _fail(f"operators[{index}].id", "an id used once", op.id)
        seen.add(op.id)
    assert isinstance(meta, dict)
    return Blueprint(name=name, meta=meta, operators=operators)


def _fail(path: str, expected: str, found: Any) -> NoReturn:
    shown = repr(found)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise FlowDefinitionError(
        f"load_blueprint: {path} must be {expected}, found {type(found).__name__} "
        f"{shown}. Nothing was changed; fix the blueprint (get_flow_config() writes "
        "valid ones)."
    )


def _string(data: dict[str, Any], path: str, key: str, *, required: bool = True) -> Any:
    """``data[key]``: a non-empty string (or, unless ``required``, null/absent)."""
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        _fail(
            f"{path}.{key}",
            "a non-empty string" + ("" if required else " or null"),
            value,
        )
    return value


def _operator(path: str, raw: Any) -> Operator:
    if not isinstance(raw, dict):
        _fail(path, "an object", raw)
    op_id = _string(raw, path, "id")
    kind = _string(raw, path, "kind")
    if kind not in _KINDS:
        raise FlowDefinitionError(
            f"load_blueprint: {path}.kind {kind!r} is not an operator kind of this "
            f"build; known kinds: {sorted(_KINDS)}. Nothing was changed."
        )
    if kind == OperatorKind.SUB_FLOW:
        raise FlowDefinitionError(
            f"load_blueprint: {path} is a sub_flow operator; rebuild sub-flows in code "
            "and wire them with to_sub_flow()"
        )
    name = raw.get("name")
    if not isinstance(name, str):
        _fail(f"{path}.name", "a string", name)
    listen = [
        _signal(f"{path}.listen_signals[{i}]", s)
        for i, s in enumerate(_list(raw, path, "listen_signals"))
    ]
    if not listen:
        _fail(f"{path}.listen_signals", "a non-empty list", [])
    continuation, emits = _emits(path, _list(raw, path, "emit_signals"))
    options = raw.get("options")
    if options is not None and not isinstance(options, dict):
        _fail(f"{path}.options", "an object", options)
    options = to_json_value(options or {}, f"load_blueprint {path}.options")
    assert isinstance(options, dict)
    handler = _handler(path, kind, raw.get("handler_ref"))
    op = Operator(
        id=op_id,
        kind=kind,
        name=name,
        listen=listen,
        continuation=continuation,
        emits=emits,
        handler=handler,
        options=options,
        group_id=_string(raw, path, "group_id", required=False),
        group_kind=_string(raw, path, "group_kind", required=False),
    )
    _check_kind(path, op)
    return op


def _list(raw: dict[str, Any], path: str, key: str) -> list[Any]:
    value = raw.get(key)
    if not isinstance(value, list):
        _fail(f"{path}.{key}", "a list", value)
    return list(value)


def _signal(path: str, raw: Any) -> SignalKey:
    if not isinstance(raw, dict):
        _fail(path, "an object", raw)
    trigger_type = raw.get("trigger_type")
    if trigger_type not in _TRIGGER_TYPES:
        _fail(f"{path}.trigger_type", f"one of {list(_TRIGGER_TYPES)}", trigger_type)
    event = _string(raw, path, "trigger_event")
    return (trigger_type, event)


def _emits(path: str, raw: list[Any]) -> tuple[str | None, list[str]]:
    continuation: str | None = None
    emits: list[str] = []
    for index, signal in enumerate(raw):
        where = f"{path}.emit_signals[{index}]"
        if not isinstance(signal, dict):
            _fail(where, "an object", signal)
        # Emitted signals are events; the type may be left out.
        trigger_type, event = _signal(where, {"trigger_type": "event", **signal})
        if trigger_type != "event":
            _fail(f"{where}.trigger_type", "'event'", trigger_type)
        role = signal.get("role")
        if role not in (None, "continuation", "declared_emit"):
            _fail(f"{where}.role", "'continuation' or 'declared_emit'", role)
        if role == "continuation":
            if continuation is not None:
                _fail(f"{where}.role", "one continuation per operator", role)
            continuation = event
        else:
            emits.append(event)
    return continuation, emits


def _handler(path: str, kind: str, ref: Any) -> str | None:
    if kind != OperatorKind.CHUNK:
        if ref is not None:
            _fail(f"{path}.handler_ref", f"null for a {kind} operator", ref)
        return None
    if not isinstance(ref, dict):
        _fail(f"{path}.handler_ref", "an object naming the chunk handler", ref)
    if ref.get("kind", "chunk") != "chunk":
        _fail(f"{path}.handler_ref.kind", "'chunk'", ref.get("kind"))
    name: str = _string(ref, f"{path}.handler_ref", "name")
    return name


def _check_kind(path: str, op: Operator) -> None:
    """The options and signals the runner of ``op.kind`` reads."""
    options = op.options
    where = f"{path}.options"
    if op.kind in _NEEDS_CONTINUATION and op.continuation is None:
        _fail(f"{path}.emit_signals", f"a continuation signal for {op.kind}", [])
    if op.kind in _MODES:
        required = op.kind in (OperatorKind.SIGNAL_GATE, OperatorKind.MATCH_ROUTE)
        mode = options.get("mode")
        if (required or mode is not None) and mode not in _MODES[op.kind]:
            _fail(f"{where}.mode", f"one of {list(_MODES[op.kind])}", mode)
    if "concurrency" in options:
        value = options["concurrency"]
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            _fail(f"{where}.concurrency", "a positive int or null", value)
    if op.kind == OperatorKind.CHUNK:
        _check_policy(where, options)
    elif op.kind == OperatorKind.BATCH_FANOUT:
        branches = options.get("branches")
        if not isinstance(branches, list) or not all(
            isinstance(b, str) for b in branches
        ):
            _fail(f"{where}.branches", "a list of chunk names", branches)
        if len(op.emits) < len(branches):
            _fail(f"{path}.emit_signals", "one input signal per branch", op.emits)
    elif op.kind == OperatorKind.BATCH_COLLECT:
        branches = options.get("branches")
        if not isinstance(branches, dict) or not all(
            isinstance(v, str) for v in branches.values()
        ):
            _fail(f"{where}.branches", "an object of event -> branch name", branches)
        missing = [e for t, e in op.listen if e not in branches]
        if missing:
            _fail(
                f"{where}.branches",
                f"an entry for every listened event {missing}",
                branches,
            )
    elif op.kind == OperatorKind.FOR_EACH_SPLIT:
        if len(op.emits) < 2:
            _fail(f"{path}.emit_signals", "the send and end signals", op.emits)
    elif op.kind == OperatorKind.MATCH_ROUTE:
        _check_cases(path, op)
    elif op.kind == OperatorKind.COLLECT_BRANCH:
        for key in ("collect", "branch_id"):
            _string(options, where, key)


def _check_policy(where: str, options: dict[str, Any]) -> None:
    # The same check as to(fn, retry=..., timeout=...), in the blueprint's wording.
    problem = retry_problem(options.get("retry")) or timeout_problem(
        options.get("timeout")
    )
    if problem is not None:
        _fail(f"{where}.{problem.field}", problem.expected, problem.found)


def _check_cases(path: str, op: Operator) -> None:
    where = f"{path}.options"
    if not op.group_id:
        _fail(f"{path}.group_id", "the match group id", op.group_id)
    cases = op.options.get("cases")
    if not isinstance(cases, list):
        _fail(f"{where}.cases", "a list", cases)
    for index, case in enumerate(cases):
        at = f"{where}.cases[{index}]"
        if not isinstance(case, dict):
            _fail(at, "an object", case)
        _string(case, at, "case_id")
        _string(case, at, "condition", required=False)
        if not isinstance(case.get("is_else", False), bool):
            _fail(f"{at}.is_else", "a boolean", case.get("is_else"))
    else_event = op.options.get("else_event")
    if else_event is not None and not isinstance(else_event, str):
        _fail(f"{where}.else_event", "an event name or null", else_event)

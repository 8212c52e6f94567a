"""Loading a mutated blueprint is all or nothing, and its errors are typed.

Spec: issue 11 item 13 ("malformed blueprints raise JSONDecodeError, TypeError,
AttributeError or KeyError; a blueprint with ``meta: [1, 2]`` renames the flow and
clears its operators before raising"). A valid blueprint using every operator kind
a blueprint can hold is mutated at a random place (a key or item deleted, a value
replaced by random JSON or by a non-JSON object, the text truncated); loading it
either succeeds with a flow that validates and exports again, or raises
``FlowDefinitionError`` / ``PayloadError`` and leaves the flow exactly as it was.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orchestrator import FlowDefinitionError, PayloadError, TriggerFlow


def shout(data):
    return str(data.value).upper()


def double(data):
    return data.value * 2


def keep(data):
    data.set_state("out", data.value)


def is_big(data):
    return data.value > 10


def build_source() -> dict[str, Any]:
    flow = TriggerFlow(name="source", store=":memory:")
    flow.to(double, retry=2, timeout=5).batch(
        ("left", double), ("right", shout), concurrency=2
    ).to(keep)
    flow.when("Items").for_each(concurrency=3).to(("each", double)).end_for_each().to(
        ("items", keep)
    )
    (
        flow.when("Route")
        .match(mode="hit_all")
        .case(is_big)
        .to(("big", keep))
        .case(3)
        .to(("three", keep))
        .case_else()
        .to(("other", keep))
        .end_match()
    )
    flow.when(["A", "B"], mode="and").to(("joined", keep))
    flow.when("X").collect("pair", "x")
    flow.when("Y").collect("pair", "y").to(("pair", keep))
    flow.when("Done").end()
    config: dict[str, Any] = json.loads(json.dumps(flow.get_flow_config()))
    return config


SOURCE = build_source()
HANDLERS = {
    "double": double,
    "shout": shout,
    "keep": keep,
    "left": double,
    "right": shout,
    "each": double,
    "items": keep,
    "big": keep,
    "three": keep,
    "other": keep,
    "joined": keep,
    "pair": keep,
    "mine": keep,
}


def target() -> TriggerFlow:
    flow = TriggerFlow(
        name="target",
        store=":memory:",
        handlers=HANDLERS,
        conditions=[is_big],
    )
    flow.definition.meta = {"owner": "target"}
    flow.when("Mine").to(("mine", keep))
    return flow


def state_of(flow: TriggerFlow) -> tuple[Any, ...]:
    definition = flow.definition
    return (
        flow.name,
        copy.deepcopy(definition.meta),
        json.dumps(flow.get_flow_config(validate_serializable=False), sort_keys=True),
        {key: list(ids) for key, ids in definition.listeners.items()},
        definition.fingerprint,
    )


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


ALL_PATHS = paths(SOURCE)[1:]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(["chunk", "event", "hit_first", "and", "continuation", "Bogus"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
replacements = json_values | st.sampled_from([object(), {1, 2}, float("nan")])


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    config = copy.deepcopy(SOURCE)
    how = draw(st.sampled_from(["delete", "replace", "replace", "truncate"]))
    if how == "truncate":
        text = json.dumps(config)
        return text[: draw(st.integers(0, len(text) - 1))]
    path = draw(st.sampled_from(ALL_PATHS))
    parent: Any = config
    for part in path[:-1]:
        parent = parent[part]
    if how == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(replacements)
    return config


@given(config=mutated(), replace=st.booleans())
def test_mutated_blueprint_loads_whole_or_raises_typed_and_changes_nothing(
    config: Any, replace: bool
) -> None:
    flow = target()
    before = state_of(flow)
    try:
        flow.load_flow_config(config, replace=replace)
    except (FlowDefinitionError, PayloadError):
        assert state_of(flow) == before
        return
    # Loaded: the result is a whole, valid flow that exports and loads again.
    flow.definition.validate()
    exported = flow.get_flow_config(validate_serializable=False)
    again = target()
    again.load_flow_config(json.loads(json.dumps(exported)))
    assert again.get_flow_config(validate_serializable=False) == exported
    if not replace:
        assert flow.name == "target"
        assert flow.definition.meta == {"owner": "target"}


def test_the_unmutated_blueprint_loads() -> None:
    flow = target()
    flow.load_flow_config(copy.deepcopy(SOURCE))
    assert flow.get_flow_config() == SOURCE

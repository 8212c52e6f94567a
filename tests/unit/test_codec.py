"""The codec: every registered event type round-trips; bad payloads are typed errors.

The round trip enumerates ``EVENT_TYPES`` and derives a Hypothesis strategy
from each field's annotation, so a new event type is covered as soon as it is
registered, or the test fails loudly naming the annotation it cannot generate.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import types
import typing
from typing import Any, ClassVar

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import orchestrator.events as events_package
from orchestrator.errors import CorruptEventError, PayloadError, UnknownEventTypeError
from orchestrator.events import EVENT_TYPES, Event, StateSet, decode, encode
from orchestrator.events.base import event_type
from orchestrator.events.codec import dumps, loads

# -- JSON values and annotation-driven strategies ----------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),  # orjson's range; see test_huge_ints_are_refused
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=16,
)

BASIC: dict[str, st.SearchStrategy[Any]] = {
    "str": st.text(max_size=16),
    "int": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "None": st.none(),
    "JsonValue": json_values,
    "Any": json_values,  # event fields typed Any still hold JSON
}


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "["
        depth -= char == "]"
        if char == sep and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _named(name: str) -> Any:
    for info in pkgutil.iter_modules(events_package.__path__):
        module = importlib.import_module(f"orchestrator.events.{info.name}")
        if name in vars(module):
            return vars(module)[name]
    return None


def strategy_for(annotation: str, where: str) -> st.SearchStrategy[Any]:
    """A strategy for a field annotation written as a string (PEP 563)."""
    text = annotation.strip()
    options = _split(text, "|")
    if len(options) > 1:
        return st.one_of([strategy_for(o, where) for o in options])
    if text in BASIC:
        return BASIC[text]
    generic = re.fullmatch(r"(\w+)\[(.*)\]", text)
    if generic:
        name, args = generic.group(1), _split(generic.group(2), ",")
        if name in ("list", "Sequence") and len(args) == 1:
            return st.lists(strategy_for(args[0], where), max_size=3)
        if name == "dict" and len(args) == 2 and args[0] == "str":
            return st.dictionaries(
                st.text(max_size=8), strategy_for(args[1], where), max_size=3
            )
    named = _named(text)
    if named is not None and typing.is_typeddict(named):
        required: dict[str, st.SearchStrategy[Any]] = {}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        for key, value in named.__annotations__.items():
            value = (
                value
                if isinstance(value, str)
                else getattr(value, "__forward_arg__", str(value))
            )
            inner = re.fullmatch(r"NotRequired\[(.*)\]", value)
            target = optional if inner or key in named.__optional_keys__ else required
            target[key] = strategy_for(
                inner.group(1) if inner else value, f"{where}.{key}"
            )
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(named, types.GenericAlias | types.UnionType):  # an alias: LayerMark
        return strategy_for(str(named).replace("typing.", ""), where)
    raise LookupError(
        f"{where}: no strategy for the annotation {annotation!r}. Teach "
        "tests/unit/test_codec.py::strategy_for about it so the new event type is "
        "round-tripped."
    )


def event_strategy(cls: type[Event]) -> st.SearchStrategy[Event]:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    kwargs = {
        f.name: strategy_for(str(f.type), f"{cls.__name__}.{f.name}") for f in fields
    }
    return st.builds(cls, **kwargs)


# -- the registry ------------------------------------------------------------------------


def test_registry_is_consistent() -> None:
    assert len(EVENT_TYPES) >= 20
    for name, cls in EVENT_TYPES.items():
        assert cls.type_name == name
        assert "." in name
        assert name == name.strip()
        assert issubclass(cls, Event)
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert cls.schema_version >= 1


def test_every_field_annotation_has_a_strategy() -> None:
    missing = []
    for cls in EVENT_TYPES.values():
        try:
            event_strategy(cls)
        except LookupError as error:
            missing.append(str(error))
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
@given(data=st.data())
def test_every_event_type_round_trips(type_name: str, data: st.DataObject) -> None:
    cls = EVENT_TYPES[type_name]
    event = data.draw(event_strategy(cls))
    name, payload = encode(event)
    assert name == type_name
    assert isinstance(payload, bytes)
    assert encode(event) == (name, payload)  # deterministic
    back = decode(name, payload, "stream-x", 7)
    assert type(back) is cls
    assert back == event
    assert encode(back) == (name, payload)


def test_registering_a_name_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @event_type
        @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
        class Impostor(Event):
            type_name: ClassVar[str] = "state.set"

    with pytest.raises(ValueError, match="dotted"):

        @event_type
        @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
        class Flat(Event):
            type_name: ClassVar[str] = "flat"

    assert EVENT_TYPES["state.set"] is StateSet


# -- decoding failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error", "text"),
    [
        (b'{"key": ', CorruptEventError, "not JSON"),
        (b"\xff\xfe", CorruptEventError, "not JSON"),
        (b"", CorruptEventError, "not JSON"),
        (b"[]", CorruptEventError, "not an object"),
        (b'"k"', CorruptEventError, "not an object"),
        (b'{"value": 1}', CorruptEventError, "key"),
        (
            b'{"key": "k", "value": 1, "extra": 2}',
            CorruptEventError,
            "unknown fields ['extra']",
        ),
        (
            b'{"key": "k", "value": 1, "$v": 0}',
            CorruptEventError,
            "bad schema version 0",
        ),
        (
            b'{"key": "k", "value": 1, "$v": "1"}',
            CorruptEventError,
            "bad schema version",
        ),
        (b'{"key": "k", "value": 1, "$v": 2}', UnknownEventTypeError, "state.set v2"),
    ],
)
def test_bad_payloads_are_typed_errors(data: bytes, error: type, text: str) -> None:
    with pytest.raises(error) as caught:
        decode("state.set", data, "s-1", 42)
    found: Any = caught.value
    assert (found.stream_id, found.seq) == ("s-1", 42)
    assert text in str(found)
    assert "'s-1' seq 42" in str(found)


def test_unknown_type_names_type_and_seq() -> None:
    with pytest.raises(UnknownEventTypeError) as caught:
        decode("from_the_future.thing", b"{}", "s-1", 3)
    assert caught.value.type_name == "from_the_future.thing"
    assert caught.value.seq == 3


def test_encode_refuses_non_json_values() -> None:
    with pytest.raises(PayloadError) as caught:
        encode(StateSet(key="k", value=object()))  # type: ignore[arg-type]
    assert caught.value.where == "state.set"


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**30])
def test_huge_ints_are_refused(value: int) -> None:
    with pytest.raises(PayloadError):
        encode(StateSet(key="k", value=value))


# -- upcasting -------------------------------------------------------------------------------


@pytest.fixture
def versioned():
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Renamed(Event):
        type_name: ClassVar[str] = "test.renamed"
        schema_version: ClassVar[int] = 3
        name: str
        size: int = 0

        @staticmethod
        def upcast_v1(payload: dict[str, Any]) -> dict[str, Any]:
            return {"name": payload.pop("title"), **payload}

        @staticmethod
        def upcast_v2(payload: dict[str, Any]) -> dict[str, Any]:
            return {**payload, "size": len(payload["name"])}

    event_type(Renamed)
    try:
        yield Renamed
    finally:
        del EVENT_TYPES["test.renamed"]


def test_old_versions_are_upcast_on_read(versioned) -> None:
    name, data = encode(versioned(name="abc", size=3))
    assert orjson.loads(data) == {"name": "abc", "size": 3, "$v": 3}
    assert decode(name, data, "s", 1) == versioned(name="abc", size=3)
    assert decode(name, b'{"title": "abcd"}', "s", 1) == versioned(name="abcd", size=4)
    assert decode(name, b'{"name": "ab", "$v": 2}', "s", 1) == versioned(
        name="ab", size=2
    )
    with pytest.raises(UnknownEventTypeError, match="v4"):
        decode(name, b'{"name": "x", "$v": 4}', "s", 1)


def test_a_missing_upcaster_is_a_corrupt_event(versioned) -> None:
    del versioned.upcast_v2
    with pytest.raises(CorruptEventError, match="no upcaster to v3"):
        decode("test.renamed", b'{"name": "ab", "$v": 2}', "s", 9)


def test_canonical_json_sorts_keys() -> None:
    assert (
        dumps({"b": 1, "a": [2, {"d": 3, "c": 4}]}) == b'{"a":[2,{"c":4,"d":3}],"b":1}'
    )
    assert loads(b'{"x": 1}') == {"x": 1}

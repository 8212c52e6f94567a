"""to_json_value: JSON values pass as deep copies; everything else is refused
with the path of the offending part, before anything is written."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import math
import uuid
from collections import OrderedDict
from typing import Any

import orjson
import pydantic
import pytest
from hypothesis import given

from orchestrator.errors import OrchestratorError, PayloadError
from orchestrator.events import to_json_value
from orchestrator.events.values import MAX_VALUE_DEPTH
from tests.unit.test_codec import json_values


@given(json_values)
def test_json_values_pass_unchanged(value: Any) -> None:
    copy = to_json_value(value)
    assert copy == value
    assert orjson.loads(orjson.dumps(copy)) == value


def test_the_result_is_a_deep_copy() -> None:
    original = {"a": [1, {"b": [2]}], "c": {"d": "e"}}
    copy = to_json_value(original)
    assert copy == original
    original["a"][1]["b"].append(3)  # type: ignore[index]
    original["c"]["x"] = 1  # type: ignore[index]
    assert copy == {"a": [1, {"b": [2]}], "c": {"d": "e"}}


@pytest.mark.parametrize(
    ("value", "path", "found", "hint"),
    [
        (math.nan, "$", "nan", "NaN or infinity"),
        ({"a": math.inf}, "$.a", "inf", "NaN or infinity"),
        ([1, [2, -math.inf]], "$[1][1]", "-inf", "NaN or infinity"),
        ({"s": {1, 2}}, "$.s", "a set", "sorted list"),
        ({"s": frozenset()}, "$.s", "a frozenset", "sorted list"),
        ({"b": b"\x00\x01"}, "$.b", "a bytes", "base64"),
        ({"b": [bytearray(b"x")]}, "$.b[0]", "a bytearray", "base64"),
        ({"o": object()}, "$.o", "a object", "runtime_resources"),
        (
            {"when": datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)},
            "$.when",
            "a datetime",
            "isoformat",
        ),
        ({"d": datetime.date(2025, 1, 1)}, "$.d", "a date", "isoformat"),
        ({"n": decimal.Decimal("1.5")}, "$.n", "a Decimal", "str(value)"),
        ({"u": uuid.UUID(int=0)}, "$.u", "a UUID", "str(value)"),
        ({1: "one"}, "$[1]", "a key of type int", "keys must be str"),
        ({"a": {None: 1}}, "$.a[None]", "a key of type NoneType", "keys must be str"),
        ({"a": {("t",): 1}}, "$.a[('t',)]", "a key of type tuple", "keys must be str"),
        ({"a": [{"b": {"c": {1.5}}}]}, "$.a[0].b.c", "a set", "sorted list"),
    ],
)
def test_non_json_values_are_refused_with_the_path(value, path, found, hint) -> None:
    with pytest.raises(PayloadError) as caught:
        to_json_value(value, "state.set key 'x'")
    error = caught.value
    assert isinstance(error, OrchestratorError)
    assert isinstance(error, TypeError)
    assert (error.where, error.path) == ("state.set key 'x'", path)
    assert found in error.found
    message = str(error)
    assert message.startswith(f"state.set key 'x': value at {path} is ")
    assert hint in message
    assert "Nothing was written" in message


def test_a_broken_repr_does_not_hide_the_error() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("repr exploded")

    with pytest.raises(PayloadError, match="Hostile"):
        to_json_value([Hostile()])


def test_long_reprs_are_shortened() -> None:
    class Chatty:
        def __repr__(self) -> str:
            return "x" * 500

    with pytest.raises(PayloadError) as caught:
        to_json_value(Chatty())
    assert len(caught.value.found) < 100
    assert caught.value.found.endswith("...)")


@dataclasses.dataclass
class Point:
    x: int
    y: float
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Shape:
    name: str
    corners: list[Point]


class Colour(enum.IntEnum):
    RED = 1


class Mood(enum.Enum):
    HAPPY = "happy"


class Model(pydantic.BaseModel):
    name: str
    when: datetime.date
    ids: list[uuid.UUID]


def test_dataclasses_become_dicts() -> None:
    shape = Shape("tri", [Point(1, 2.5, ("a",)), Point(3, 4.0)])
    assert to_json_value(shape) == {
        "name": "tri",
        "corners": [{"x": 1, "y": 2.5, "tags": ["a"]}, {"x": 3, "y": 4.0, "tags": []}],
    }
    with pytest.raises(PayloadError) as caught:
        to_json_value(Shape("bad", [Point(1, math.nan)]))
    assert caught.value.path == "$.corners[0].y"


def test_pydantic_models_use_their_json_dump() -> None:
    model = Model(name="m", when=datetime.date(2025, 1, 2), ids=[uuid.UUID(int=1)])
    assert to_json_value({"m": model}) == {
        "m": {"name": "m", "when": "2025-01-02", "ids": [str(uuid.UUID(int=1))]}
    }


def test_tuples_and_subclasses_become_plain_json() -> None:
    out = to_json_value(
        {
            "t": (1, (2, 3)),
            "enum": Colour.RED,
            "od": OrderedDict(b=1, a=2),
            "flag": True,
        }
    )
    assert out == {"t": [1, [2, 3]], "enum": 1, "od": {"b": 1, "a": 2}, "flag": True}
    assert isinstance(out, dict)
    assert type(out["enum"]) is int
    assert type(out["od"]) is dict
    assert type(out["flag"]) is bool
    with pytest.raises(PayloadError, match="Mood"):
        to_json_value(Mood.HAPPY)


def test_float_subclasses_are_checked_too() -> None:
    class Money(float):
        pass

    assert to_json_value(Money(1.5)) == 1.5
    assert type(to_json_value(Money(1.5))) is float
    with pytest.raises(PayloadError):
        to_json_value({"m": Money("nan")})


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


def test_values_nest_at_most_max_value_depth() -> None:
    assert to_json_value(_nested(MAX_VALUE_DEPTH)) == _nested(MAX_VALUE_DEPTH)
    with pytest.raises(PayloadError) as caught:
        to_json_value(_nested(MAX_VALUE_DEPTH + 1), "state.set('k')")
    assert f"more than {MAX_VALUE_DEPTH} lists/dicts" in str(caught.value)
    assert caught.value.where == "state.set('k')"
    # containers the value already sits in count: set_state("a.b", v), append_state
    with pytest.raises(PayloadError):
        to_json_value(_nested(MAX_VALUE_DEPTH), depth=1)
    with pytest.raises(PayloadError):
        to_json_value("scalar", depth=MAX_VALUE_DEPTH + 1)
    assert to_json_value("scalar", depth=MAX_VALUE_DEPTH) == "scalar"


def test_absurd_nesting_is_a_payload_error_not_a_recursion_error() -> None:
    with pytest.raises(PayloadError) as caught:
        to_json_value(_nested(10_000))
    assert len(caught.value.path) <= 40  # the path is shortened in the message
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(PayloadError):
        to_json_value(looped)
    with pytest.raises(PayloadError):
        to_json_value(OrderedDict(a=_nested(MAX_VALUE_DEPTH)))


def test_dataclasses_count_as_one_level() -> None:
    @dataclasses.dataclass
    class Box:
        inner: Any

    assert to_json_value(Box(_nested(MAX_VALUE_DEPTH - 1)))
    with pytest.raises(PayloadError):
        to_json_value(Box(_nested(MAX_VALUE_DEPTH)))

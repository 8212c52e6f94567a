"""A small JSON Schema validator for interrupt payloads.

Interrupts may declare the shape of the value that resumes them
(``response_payload_schema``); a value that does not match is refused before
anything is written, with the path that failed. This covers the keywords such
payloads use (types, objects, arrays, strings, numbers, enums and the
combinators); a schema using any other keyword is refused up front rather than
half-checked. Pulling in ``jsonschema`` (and its Rust-built dependency) for
this was not worth it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SUPPORTED_KEYWORDS", "check_schema", "validation_error"]

SUPPORTED_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "minProperties",
        "maxProperties",
        "title",
        "description",
        "default",
        "examples",
        "$schema",
        "$id",
        "$comment",
        "format",
    }
)

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def check_schema(schema: Any, path: str = "$") -> str | None:
    """Return why ``schema`` cannot be used (unknown keyword, bad type), or None."""
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, dict):
        return f"{path}: a schema must be an object or a boolean"
    unknown = sorted(set(schema) - SUPPORTED_KEYWORDS)
    if unknown:
        return (
            f"{path}: unsupported keyword(s) {unknown}; supported: "
            f"{sorted(SUPPORTED_KEYWORDS - {'title', 'description', 'default', 'examples'})}"
        )
    types = schema.get("type")
    for name in [types] if isinstance(types, str) else types or []:
        if name not in _TYPES:
            return f"{path}.type: unknown type {name!r}"
    for key in ("properties",):
        for prop, sub in (schema.get(key) or {}).items():
            problem = check_schema(sub, f"{path}.{key}.{prop}")
            if problem:
                return problem
    for key in ("items", "additionalProperties", "not"):
        if key in schema and not isinstance(schema[key], bool):
            problem = check_schema(schema[key], f"{path}.{key}")
            if problem:
                return problem
    for key in ("anyOf", "oneOf", "allOf"):
        for index, sub in enumerate(schema.get(key) or []):
            problem = check_schema(sub, f"{path}.{key}[{index}]")
            if problem:
                return problem
    return None


def validation_error(value: Any, schema: Any, path: str = "$") -> str | None:
    """Return ``"<path>: <reason>"`` for the first mismatch, or None if valid."""
    if schema is True:
        return None
    if schema is False:
        return f"{path}: no value is allowed here"
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_TYPES[name](value) for name in names):
            return f"{path}: expected {' or '.join(names)}, got {type(value).__name__} {value!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: {value!r} is not one of {schema['enum']!r}"
    if "const" in schema and value != schema["const"]:
        return f"{path}: expected {schema['const']!r}, got {value!r}"
    for check in (_object, _array, _string, _number, _combinators):
        problem = check(value, schema, path)
        if problem:
            return problem
    return None


def _object(value: Any, schema: dict[str, Any], path: str) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in schema.get("required", []):
        if key not in value:
            return f"{path}: missing required property {key!r}"
    properties = schema.get("properties", {})
    for key, item in value.items():
        if key in properties:
            problem = validation_error(item, properties[key], f"{path}.{key}")
        elif "additionalProperties" in schema:
            problem = validation_error(
                item, schema["additionalProperties"], f"{path}.{key}"
            )
        else:
            problem = None
        if problem:
            return problem
    if len(value) < schema.get("minProperties", 0):
        return f"{path}: needs at least {schema['minProperties']} properties"
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        return f"{path}: allows at most {schema['maxProperties']} properties"
    return None


def _array(value: Any, schema: dict[str, Any], path: str) -> str | None:
    if not isinstance(value, list):
        return None
    if len(value) < schema.get("minItems", 0):
        return f"{path}: needs at least {schema['minItems']} items, got {len(value)}"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return f"{path}: allows at most {schema['maxItems']} items, got {len(value)}"
    if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
        return f"{path}: items must be unique"
    if "items" in schema:
        for index, item in enumerate(value):
            problem = validation_error(item, schema["items"], f"{path}[{index}]")
            if problem:
                return problem
    return None


def _string(value: Any, schema: dict[str, Any], path: str) -> str | None:
    if not isinstance(value, str):
        return None
    if len(value) < schema.get("minLength", 0):
        return f"{path}: needs at least {schema['minLength']} characters"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"{path}: allows at most {schema['maxLength']} characters"
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        return f"{path}: {value!r} does not match {schema['pattern']!r}"
    return None


def _number(value: Any, schema: dict[str, Any], path: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if "minimum" in schema and value < schema["minimum"]:
        return f"{path}: {value} is below the minimum {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"{path}: {value} is above the maximum {schema['maximum']}"
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return f"{path}: {value} must be greater than {schema['exclusiveMinimum']}"
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        return f"{path}: {value} must be less than {schema['exclusiveMaximum']}"
    if "multipleOf" in schema and (value / schema["multipleOf"]) % 1:
        return f"{path}: {value} is not a multiple of {schema['multipleOf']}"
    return None


def _combinators(value: Any, schema: dict[str, Any], path: str) -> str | None:
    for sub in schema.get("allOf", []):
        problem = validation_error(value, sub, path)
        if problem:
            return problem
    if "anyOf" in schema and all(
        validation_error(value, s, path) for s in schema["anyOf"]
    ):
        return f"{path}: matches none of anyOf"
    if "oneOf" in schema:
        matches = sum(
            1 for s in schema["oneOf"] if validation_error(value, s, path) is None
        )
        if matches != 1:
            return f"{path}: matches {matches} of oneOf (exactly one required)"
    if "not" in schema and validation_error(value, schema["not"], path) is None:
        return f"{path}: must not match the 'not' schema"
    return None

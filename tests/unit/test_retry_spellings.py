"""Review of issue 11, finding 7: bad retry/timeout spellings in the DSL.

``to(fn, retry={"max_attempts": 3})`` raised a raw ``TypeError`` from
``RetryPolicy.__init__``; docs/api.md §7.3 promises ``FlowDefinitionError``, which
blueprints already gave. Both paths now share one check (flow/retry.py), so they
accept and refuse the same spellings.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator import FlowDefinitionError, PayloadError, RetryPolicy, TriggerFlow


def work(data):
    return data.value


def wire(retry: Any = None, timeout: Any = None) -> TriggerFlow:
    flow = TriggerFlow(name="f", store=":memory:")
    flow.to(work, retry=retry, timeout=timeout)
    return flow


@pytest.mark.parametrize(
    ("retry", "named"),
    [
        ({"max_attempts": 3}, "max_attempts"),
        ({"attempts": "3"}, "retry.attempts"),
        ({"attempts": 0}, "retry.attempts"),
        ({"attempts": True}, "retry.attempts"),
        ({"initial_backoff": -1}, "retry.initial_backoff"),
        ({"multiplier": "2"}, "retry.multiplier"),
        ({"max_backoff": math.inf}, "retry.max_backoff"),
        ({"jitter": math.nan}, "retry.jitter"),
        ({"jitter": 2}, "retry.jitter"),
        ({"retry_on": "ValueError"}, "retry.retry_on"),
        ({"retry_on": [3]}, "retry.retry_on"),
        (3.5, "retry"),
        ("3", "retry"),
        (0, "retry.attempts"),
    ],
)
def test_a_bad_retry_spelling_raises_flow_definition_error_naming_the_key(
    retry: Any, named: str
):
    with pytest.raises(FlowDefinitionError) as caught:
        wire(retry=retry)
    message = str(caught.value)
    assert named in message
    assert (
        "attempts, initial_backoff, multiplier, max_backoff, jitter, retry_on"
        in message
    )


@pytest.mark.parametrize("timeout", [0, -1, "5", True, math.nan, math.inf])
def test_a_bad_timeout_raises_flow_definition_error(timeout: Any):
    with pytest.raises(FlowDefinitionError, match="timeout must be a positive number"):
        wire(timeout=timeout)


def test_a_bad_retry_policy_object_raises_flow_definition_error():
    with pytest.raises(FlowDefinitionError, match=r"retry\.attempts must be an int"):
        RetryPolicy(attempts="3")  # type: ignore[arg-type]


def test_good_spellings_still_work():
    flow = wire(retry={"attempts": 2, "retry_on": [ValueError, "KeyError"]}, timeout=1)
    options = next(iter(flow.definition.operators.values())).options
    assert options["retry"]["attempts"] == 2
    assert options["timeout"] == 1.0


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=2),
)
KEYS = st.sampled_from(
    [
        "attempts",
        "initial_backoff",
        "multiplier",
        "max_backoff",
        "jitter",
        "retry_on",
        "tries",
    ]
)


@given(st.dictionaries(KEYS, VALUES, max_size=3))
def test_dsl_and_blueprint_accept_and_refuse_the_same_retry_dicts(
    retry: dict[str, Any],
):
    """One validator: never a raw TypeError, and both paths agree."""
    try:
        wire(retry=retry)
        dsl_ok = True
    except FlowDefinitionError:
        dsl_ok = False
    config = wire().get_flow_config()
    chunk = next(op for op in config["operators"] if op["kind"] == "chunk")
    chunk["options"]["retry"] = retry
    target = TriggerFlow(name="t", store=":memory:", handlers=[work])
    try:
        target.load_blueprint(config)
        blueprint_ok = True
    except (FlowDefinitionError, PayloadError):  # NaN/inf: not JSON at all
        blueprint_ok = False
    assert dsl_ok == blueprint_ok

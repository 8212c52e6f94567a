"""Flow builders importable both by the tests and by worker subprocesses.

Every builder takes the SQLite path and returns a fresh TriggerFlow object, so a
worker process rebuilds exactly the definition the test process used (same
names, same handlers, same fingerprint). Handlers are module-level functions.
"""

from __future__ import annotations

import os
from typing import Any

from orchestrator import TriggerFlow, TriggerFlowRuntimeData


class SearchTool:
    """A live resource: never serialisable, only its key may reach the log."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __call__(self, query: str) -> str:
        return f"{self.tag}:{query}"


def set_final_result(data: TriggerFlowRuntimeData, value: Any) -> None:
    """Write ``$final_result`` (what ``set_result`` does, without its deprecation)."""
    data.set_state("$final_result", value, emit=False)


# -- seed 000 "Resuming around a pause_for" ---------------------------------------------------


async def research(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("topic", data.input)
    await data.async_set_state("paused_in_pid", os.getpid())
    return await data.async_pause_for(
        type="approval",
        payload={"topic": data.input},
        interrupt_id="approval-1",
    )


async def after_approval(data: TriggerFlowRuntimeData) -> Any:
    search = data.require_resource("search_tool")
    await data.async_set_state("decision", data.value)
    await data.async_set_state("search", search(str(data.get_state("topic"))))
    await data.async_set_state("resumed_in_pid", os.getpid())
    await data.async_set_state("is_resume", data.is_resume)
    return data.value


def build_approval_flow(store: str) -> TriggerFlow:
    flow = TriggerFlow(name="research", store=store)
    flow.to(research).to(after_approval)
    return flow


# -- the race: two processes continue one interrupt ------------------------------------------


async def race_gate(data: TriggerFlowRuntimeData) -> Any:
    return await data.async_pause_for(type="race", interrupt_id="race-1")


async def race_downstream(data: TriggerFlowRuntimeData) -> Any:
    data.append_state("downstream_runs", {"value": data.value, "pid": os.getpid()})
    return data.value


def build_race_flow(store: str) -> TriggerFlow:
    flow = TriggerFlow(name="race", store=store)
    flow.to(race_gate).to(race_downstream)
    return flow


# -- sub-flow with a pause inside the child ---------------------------------------------------


async def legal_intake(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("request", {"topic": data.value})
    return {"topic": data.value, "pages": 3}


async def legal_ask(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("asked_topic", data.value["topic"])
    await data.async_set_state("seen_request", data.get_state("request"))
    return await data.async_pause_for(
        type="legal_review",
        payload={"topic": data.value["topic"]},
        interrupt_id="legal",
    )


async def legal_commit(data: TriggerFlowRuntimeData) -> Any:
    data.require_resource("reviewer")
    await data.async_set_state("verdict", data.value)
    await data.async_set_state("child_pid", os.getpid())
    set_final_result(
        data, {"verdict": data.value, "topic": data.get_state("asked_topic")}
    )


async def legal_finish(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("final", data.value)
    data.append_state("finish_runs", os.getpid())


def build_legal_child(store: str) -> TriggerFlow:
    child = TriggerFlow(name="legal-child", store=store)
    child.to(legal_ask).to(legal_commit)
    return child


def build_legal_parent(store: str) -> TriggerFlow:
    child = build_legal_child(store)
    parent = TriggerFlow(name="legal-parent", store=store)
    parent.to(legal_intake).to_sub_flow(
        child,
        capture={
            "input": "value",
            "state": {"request": "state.request"},
            "resources": {"reviewer": "resources.reviewer"},
        },
        write_back={"value": "result", "state": {"verdict": "result.verdict"}},
    ).to(legal_finish)
    return parent


# -- three levels: top -> mid -> bottom (the bottom pauses) -----------------------------------


async def bottom_ask(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("bottom_input", data.value)
    return await data.async_pause_for(type="deep", interrupt_id="deep")


async def bottom_done(data: TriggerFlowRuntimeData) -> Any:
    set_final_result(data, {"answer": data.value, "level": "bottom"})


async def mid_prepare(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("mid_input", data.value)
    return {"from_mid": data.value}


async def mid_done(data: TriggerFlowRuntimeData) -> Any:
    set_final_result(data, {"mid_saw": data.value})


async def top_done(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("top_result", data.value)
    data.append_state("top_done_runs", 1)


def build_nested(store: str) -> TriggerFlow:
    bottom = TriggerFlow(name="bottom", store=store)
    bottom.to(bottom_ask).to(bottom_done)
    mid = TriggerFlow(name="mid", store=store)
    mid.to(mid_prepare).to_sub_flow(bottom, write_back={"value": "result"}).to(mid_done)
    top = TriggerFlow(name="top", store=store)
    top.to_sub_flow(
        mid,
        write_back={
            "value": "result",
            "state": {"deep_answer": "result.mid_saw.answer"},
        },
    ).to(top_done)
    return top

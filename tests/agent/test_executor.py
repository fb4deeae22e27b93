"""The executor's rules, shown with events rather than timings: batching and barriers, result order,
the concurrency cap, sequential mode, cancellation, and failures that do not spread."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tunacode_tui.agent.executor import AsyncioSpawner, ExecutionPolicy, ResponseExecutor, plan_batches
from tunacode_tui.core.events import (
    BatchFinished,
    BatchStarted,
    PermissionDecision,
    ToolCallFinished,
    ToolCallStarted,
)
from tunacode_tui.core.messages import ToolCallPart
from tunacode_tui.tools.base import Tool, ToolContext, ToolError, ToolOutput


class Gate:
    """Lets a test decide when each call finishes, so ordering is controlled, not timed."""

    def __init__(self) -> None:
        self.events: dict[str, asyncio.Event] = {}

    def get(self, key: str) -> asyncio.Event:
        return self.events.setdefault(key, asyncio.Event())

    def open(self, key: str) -> None:
        self.get(key).set()


class GatedRead(Tool):
    name = "read"
    description = "test read"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"],
    }
    read_only = True

    def __init__(self, gate: Gate | None, log: list[str]) -> None:
        self.gate = gate
        self.log = log

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        self.log.append(f"start {args['key']}")
        if args["key"].startswith("boom"):
            raise ToolError("exploded")
        if args["key"].startswith("crash"):
            raise RuntimeError("bug")
        if self.gate is not None:
            await self.gate.get(args["key"]).wait()
        else:
            await asyncio.sleep(0)
        self.log.append(f"end {args['key']}")
        return ToolOutput(f"content of {args['key']}")


class Write(GatedRead):
    name = "write"
    read_only = False


def make(tools: list[Tool], emitted: list, max_parallel: int = 4, allow: bool = True) -> ResponseExecutor:
    counter = iter(range(1, 1000))

    async def permission(call: ToolCallPart, tool: Tool) -> PermissionDecision:
        return PermissionDecision(allow, reason="" if allow else "not now")

    policy = ExecutionPolicy(
        spawner=AsyncioSpawner(), emit=emitted.append, max_parallel=max_parallel, permission=permission,
        next_batch_number=lambda: next(counter),
    )
    return ResponseExecutor({t.name: t for t in tools}, ToolContext(root=Path(".")), policy)


def call(i: int, name: str = "read", key: str | None = None) -> ToolCallPart:
    return ToolCallPart(f"c{i}", name, {"key": key or f"k{i}"})


def test_plan_batches_groups_reads_and_isolates_writes() -> None:
    calls = [call(0), call(1), call(2, "write"), call(3), call(4, "write"), call(5, "write"), call(6)]
    plan = plan_batches(calls, lambda c: c.name == "read")
    assert plan == [[0, 1], [2], [3], [4], [5], [6]]


async def test_results_come_back_in_call_order_whatever_finishes_first() -> None:
    gate, log, emitted = Gate(), [], []
    ex = make([GatedRead(gate, log)], emitted)
    for i in range(3):
        ex.submit(call(i))
    await asyncio.sleep(0)
    # All three started before any finished: they overlap.
    started = [e.call_id for e in emitted if isinstance(e, ToolCallStarted)]
    assert started == ["c0", "c1", "c2"]
    gate.open("k2")
    gate.open("k0")
    gate.open("k1")
    results = await ex.finish()
    assert [r.tool_call_id for r in results] == ["c0", "c1", "c2"]
    assert [r.content for r in results] == ["content of k0", "content of k1", "content of k2"]
    finished_order = [e.call_id for e in emitted if isinstance(e, ToolCallFinished)]
    assert finished_order[0] == "c2"
    batches = [e for e in emitted if isinstance(e, BatchFinished)]
    assert len(batches) == 1 and batches[0].size == 3 and batches[0].parallel
    assert batches[0].overlap > 1.0


def _max_in_flight(emitted: list) -> int:
    in_flight = peak = 0
    for event in emitted:
        if isinstance(event, ToolCallStarted):
            in_flight += 1
            peak = max(peak, in_flight)
        elif isinstance(event, ToolCallFinished):
            in_flight -= 1
    return peak


@pytest.mark.parametrize("cap", [1, 2, 3])
async def test_concurrency_cap_is_never_exceeded(cap: int) -> None:
    emitted: list = []
    ex = make([GatedRead(None, [])], emitted, max_parallel=cap)
    for i in range(8):
        ex.submit(call(i))
    await ex.finish()
    assert _max_in_flight(emitted) == cap


async def test_sequential_mode_runs_one_at_a_time_in_order() -> None:
    emitted: list = []
    log: list[str] = []
    ex = make([GatedRead(None, log)], emitted, max_parallel=1)
    for i in range(4):
        ex.submit(call(i))
    await ex.finish()
    assert log == [x for i in range(4) for x in (f"start k{i}", f"end k{i}")]
    assert not next(e for e in emitted if isinstance(e, BatchStarted)).parallel


async def test_write_is_a_barrier() -> None:
    emitted: list = []
    log: list[str] = []
    ex = make([GatedRead(None, log), Write(None, log)], emitted)
    ex.submit(call(0))
    ex.submit(call(1))
    ex.submit(call(2, "write"))
    ex.submit(call(3))  # after the barrier: must wait for the write
    await ex.finish()
    assert log.index("start k2") > log.index("end k0") and log.index("start k2") > log.index("end k1")
    assert log.index("start k3") > log.index("end k2")
    sizes = [(e.batch, e.size) for e in emitted if isinstance(e, BatchFinished)]
    assert sizes == [(1, 2), (2, 1), (3, 1)]


async def test_refused_write_reaches_the_model_as_a_result() -> None:
    emitted: list = []
    log: list[str] = []
    ex = make([Write(None, log)], emitted, allow=False)
    ex.submit(call(0, "write"))
    [result] = await ex.finish()
    assert result.is_error and "refused" in result.content and "not now" in result.content
    assert log == []


async def test_one_failure_does_not_kill_its_siblings() -> None:
    emitted: list = []
    ex = make([GatedRead(None, [])], emitted)
    ex.submit(call(0, key="boom"))
    ex.submit(call(1))
    ex.submit(call(2, key="crash"))
    results = await ex.finish()
    assert [r.is_error for r in results] == [True, False, True]
    assert "exploded" in results[0].content and "RuntimeError" in results[2].content
    assert next(e for e in emitted if isinstance(e, BatchFinished)).status == "failed"


async def test_malformed_and_unknown_calls_become_error_results() -> None:
    emitted: list = []
    ex = make([GatedRead(None, [])], emitted)
    ex.submit(ToolCallPart("a", "read", {}, "{bad", parse_error="not JSON"))
    ex.submit(ToolCallPart("b", "nope", {}))
    ex.submit(ToolCallPart("c", "read", {"key": 5}))
    results = await ex.finish()
    assert "could not be read" in results[0].content
    assert "no tool named 'nope'" in results[1].content
    assert "key must be of type string" in results[2].content


async def test_cancel_mid_batch_gives_every_call_a_result() -> None:
    gate, emitted = Gate(), []
    ex = make([GatedRead(gate, [])], emitted)
    for i in range(3):
        ex.submit(call(i))
    gate.open("k0")
    task = asyncio.ensure_future(ex.finish())
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    results = ex.results()
    assert [r.tool_call_id for r in results] == ["c0", "c1", "c2"]
    assert results[0].content == "content of k0"
    assert all("Cancelled" in r.content for r in results[1:])
    statuses = [e.status for e in emitted if isinstance(e, ToolCallFinished)]
    assert statuses.count("cancelled") == 2

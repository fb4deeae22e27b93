"""Property tests for the batcher: whatever the mix of reads and writes, the cap and the finishing order,
results come back in call order, writes never overlap anything, and the cap holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from tunacode_tui.agent.executor import AsyncioSpawner, ExecutionPolicy, ResponseExecutor
from tunacode_tui.core.events import PermissionDecision, ToolCallFinished, ToolCallStarted
from tunacode_tui.core.messages import ToolCallPart
from tunacode_tui.tools.base import Tool, ToolContext, ToolOutput


class Step(Tool):
    """Yields to the event loop ``steps`` times: finishing order varies without any timing."""

    name = "read"
    description = "x"
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {"steps": {"type": "integer"}}}
    read_only = True

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        for _ in range(args["steps"]):
            await asyncio.sleep(0)
        return ToolOutput(f"r{args['steps']}")


class StepWrite(Step):
    name = "write"
    read_only = False


async def allow(call: ToolCallPart, tool: Tool) -> PermissionDecision:
    return PermissionDecision(True)


calls_strategy = st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(calls=calls_strategy, cap=st.integers(1, 5), early=st.integers(0, 12))
def test_results_in_call_order_and_rules_hold(calls: list[tuple[bool, int]], cap: int, early: int) -> None:
    async def scenario() -> None:
        events: list = []
        counter = iter(range(1, 100))
        policy = ExecutionPolicy(
            spawner=AsyncioSpawner(), emit=events.append, max_parallel=cap, permission=allow,
            next_batch_number=lambda: next(counter),
        )
        ex = ResponseExecutor({"read": Step(), "write": StepWrite()}, ToolContext(root=Path(".")), policy)
        parts = [ToolCallPart(f"id{i}", "write" if w else "read", {"steps": s}) for i, (w, s) in enumerate(calls)]
        for i, part in enumerate(parts):
            ex.submit(part)
            if i == early:  # some calls arrive while earlier ones already run
                await asyncio.sleep(0)
        results = await ex.finish()
        assert [r.tool_call_id for r in results] == [p.id for p in parts]
        assert [r.content for r in results] == [f"r{s}" for _, s in calls]
        running: set[str] = set()
        peak = 0
        names = {p.id: p.name for p in parts}
        for event in events:
            if isinstance(event, ToolCallStarted):
                if names[event.call_id] == "write":
                    assert not running, "a write started while other calls ran"
                else:
                    assert not any(names[c] == "write" for c in running), "a read overlapped a write"
                running.add(event.call_id)
                peak = max(peak, len(running))
            elif isinstance(event, ToolCallFinished):
                running.discard(event.call_id)
        assert peak <= cap

    asyncio.run(scenario())

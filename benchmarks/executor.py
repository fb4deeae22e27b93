"""Executor benchmark: sequential vs parallel batches of read-only calls with 50 ms of I/O latency each,
and the scheduler's own overhead per call with zero-latency tools.

Run: python -m benchmarks.executor
Both modes run through the real ResponseExecutor in the same process, side by side, so the ratio is a
measurement, not an assumption. Targets (issue 6): speedup >= 0.9 x min(N, max_parallel); overhead < 0.5 ms.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, ClassVar

from tunacode_tui.agent.executor import AsyncioSpawner, ExecutionPolicy, ResponseExecutor
from tunacode_tui.core.events import PermissionDecision
from tunacode_tui.core.messages import ToolCallPart
from tunacode_tui.tools.base import Tool, ToolContext, ToolOutput

LATENCY = 0.050


class LatencyRead(Tool):
    """Waits on I/O the way a network or disk read would: the event loop is free meanwhile."""

    name = "io_read"
    description = "benchmark read"
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    read_only = True

    def __init__(self, latency: float) -> None:
        self.latency = latency

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        if self.latency:
            await asyncio.sleep(self.latency)
        return ToolOutput("ok")


async def run_batch(n: int, max_parallel: int, latency: float) -> float:
    counter = iter(range(1, 10_000))

    async def allow(call: ToolCallPart, tool: Tool) -> PermissionDecision:
        return PermissionDecision(True)

    policy = ExecutionPolicy(
        spawner=AsyncioSpawner(), max_parallel=max_parallel, permission=allow, next_batch_number=lambda: next(counter)
    )
    ex = ResponseExecutor({"io_read": LatencyRead(latency)}, ToolContext(root=Path(".")), policy)
    start = time.perf_counter()
    for i in range(n):
        ex.submit(ToolCallPart(f"c{i}", "io_read", {}))
    await ex.finish()
    return time.perf_counter() - start


async def main() -> None:
    default_cap = os.cpu_count() or 1
    caps = sorted({default_cap, 16})
    print(f"cores: {os.cpu_count()}  latency per call: {LATENCY * 1000:.0f} ms  (best of 3 runs)\n")
    print(f"{'max_par':>7} {'N':>4} {'sequential':>12} {'parallel':>10} {'speedup':>8} {'target':>8} {'met':>4}")
    for cap in caps:
        for n in (2, 4, 8, 16):
            seq = min([await run_batch(n, 1, LATENCY) for _ in range(3)])
            par = min([await run_batch(n, cap, LATENCY) for _ in range(3)])
            speedup = seq / par
            target = 0.9 * min(n, cap)
            print(f"{cap:>7} {n:>4} {seq * 1000:>10.1f}ms {par * 1000:>8.1f}ms {speedup:>7.2f}x {target:>7.2f}x "
                  f"{'yes' if speedup >= target else 'NO':>4}")
    cap = default_cap
    calls = 2000
    elapsed = min([await run_batch(calls, cap, 0.0) for _ in range(3)])
    per_call = elapsed / calls * 1000
    print(f"\nscheduler overhead, zero-latency tools: {per_call:.3f} ms/call over {calls} calls "
          f"(target < 0.5 ms: {'yes' if per_call < 0.5 else 'NO'})")


if __name__ == "__main__":
    asyncio.run(main())

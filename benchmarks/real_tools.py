"""Real tools on a generated tree of 20,000 files: batches of read_file / grep / glob / list_dir run
sequentially and in parallel through the real executor, and the grep tool against raw ``rg``.

Run: python -m benchmarks.real_tools
Each row is measured side by side in one run (best of 3). Target (issue 6): grep tool <= 1.25x raw rg.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

from benchmarks.tree import make_tree
from tunacode_tui.agent.executor import AsyncioSpawner, ExecutionPolicy, ResponseExecutor
from tunacode_tui.core.events import PermissionDecision
from tunacode_tui.core.messages import ToolCallPart
from tunacode_tui.tools.base import ToolContext
from tunacode_tui.tools.grep import find_rg
from tunacode_tui.tools.registry import default_tools


async def run(calls: list[tuple[str, dict]], cap: int, ctx: ToolContext) -> float:
    counter = iter(range(1, 10_000))

    async def allow(call, tool):  # reads never ask; present for the signature
        return PermissionDecision(True)

    policy = ExecutionPolicy(
        spawner=AsyncioSpawner(), max_parallel=cap, permission=allow, next_batch_number=lambda: next(counter)
    )
    ex = ResponseExecutor({t.name: t for t in default_tools()}, ctx, policy)
    start = time.perf_counter()
    for i, (name, args) in enumerate(calls):
        ex.submit(ToolCallPart(f"c{i}", name, args))
    results = await ex.finish()
    elapsed = time.perf_counter() - start
    failed = [r.content[:120] for r in results if r.is_error]
    assert not failed, failed
    return elapsed


def fresh_ctx(root) -> ToolContext:
    return ToolContext(root=root)  # a new context: cold read cache each time


async def main() -> None:
    root = make_tree()
    cores = os.cpu_count() or 1
    print(f"tree: {root} (20,000 files)  cores: {cores}  (best of 3, cold read cache per run)\n")
    workloads = {
        "4 x read_file": [("read_file", {"file_path": f"pkg{i:02d}/mod00/file_{i:05d}.py"}) for i in range(4)],
        "4 x grep": [("grep", {"pattern": p, "max_results": 50}) for p in ("NEEDLE_MARKER", "render_token",
                                                                            "cache_config_1", "def worker")],
        "4 x glob": [("glob", {"pattern": f"pkg{i:02d}/**/*.py"}) for i in range(4)],
        "4 x list_dir": [("list_dir", {"path": f"pkg{i:02d}/mod0{i}"}) for i in range(4)],
        "mixed 8": [("grep", {"pattern": "NEEDLE_MARKER"}), ("glob", {"pattern": "**/file_000*.py"}),
                    ("list_dir", {"path": "pkg01"}), ("read_file", {"file_path": "pkg01/mod01/file_00041.py"}),
                    ("grep", {"pattern": "gamma_delta", "include": "*.py", "max_results": 20}),
                    ("glob", {"pattern": "pkg3*/**/*.py"}), ("list_dir", {"path": "."}),
                    ("read_file", {"file_path": "pkg02/mod03/file_00122.py"})],
    }
    print(f"{'workload':<14} {'sequential':>11} {'parallel':>10} {'speedup':>8}")
    for label, calls in workloads.items():
        seq = min([await run(calls, 1, fresh_ctx(root)) for _ in range(3)])
        par = min([await run(calls, cores, fresh_ctx(root)) for _ in range(3)])
        print(f"{label:<14} {seq * 1000:>9.1f}ms {par * 1000:>8.1f}ms {seq / par:>7.2f}x")

    rg = find_rg()
    if rg is None:
        print("\nno rg binary: grep tool vs raw rg skipped")
        return
    tool = next(t for t in default_tools() if t.name == "grep")
    # Fewer matches than max_results, so both must search the whole tree: a like-for-like comparison.
    query = "NEEDLE_MARKER"
    raw_cmd = [rg, "--line-number", "--with-filename", "--no-heading", "--color", "never", "-i",
               "--max-columns", "500", "--no-require-git", query, "."]
    raw = []
    ours = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(raw_cmd, cwd=root, capture_output=True, check=False)
        raw.append(time.perf_counter() - start)
        start = time.perf_counter()
        await tool.run({"pattern": query, "max_results": 100}, fresh_ctx(root))
        ours.append(time.perf_counter() - start)
    ratio = min(ours) / min(raw)
    print(f"\ngrep tool vs raw rg ('{query}', whole tree): tool {min(ours) * 1000:.1f}ms, raw rg "
          f"{min(raw) * 1000:.1f}ms, ratio {ratio:.2f}x (target <= 1.25x: {'yes' if ratio <= 1.25 else 'NO'})")


if __name__ == "__main__":
    asyncio.run(main())

"""What parallel read-only batches really save, on a tree nobody here wrote: the running Python's standard
library source folder.

Realistic agent batches (4-8 reads, greps, globs, listings, and a mix) are re-run through the same core
function as the batch inspector's "Measure speedup" (``agent/measure.py``): the calls one at a time, then all
at once under the cap, alternating, 5 runs each (the inspector uses 3), medians compared. Each kind runs at
max_parallel 1, 2, 4 and 8, with a warm page cache and a cold-ish one (the tree's pages are dropped before
every run), all in one run so the figures sit side by side. cap 1 runs both modes one at a time: its distance
from 1.00x is the noise. Beside each, the overlap (busy over wall) that one real executor run of the batch
reports: the figure the product used to call a speedup.

Run: python -m benchmarks.parallel_truth            (about 8 minutes on 2 cores)
     python -m benchmarks.parallel_truth --quick    (warm cache only, caps 1 and 4)

Not a timed test: the machine is shared, so read the spreads, not just the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sysconfig
import time
from pathlib import Path

from tunacode_tui.agent.executor import ExecutionPolicy, ResponseExecutor
from tunacode_tui.agent.measure import CallToRepeat, measure_calls
from tunacode_tui.core.events import BatchFinished, PermissionDecision
from tunacode_tui.core.messages import ToolCallPart
from tunacode_tui.tools.base import ToolContext
from tunacode_tui.tools.registry import default_tools
from tunacode_tui.tools.walk import JUNK_DIRS

CAPS = (1, 2, 4, 8)


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]).resolve()


def batches() -> dict[str, list[CallToRepeat]]:
    """What an agent asks when it explores an unfamiliar code base, by kind; paths are relative to the stdlib."""

    def c(name: str, **args: object) -> CallToRepeat:
        return CallToRepeat(name, dict(args))

    return {
        "6 reads": [c("read_file", file_path=p) for p in (
            "typing.py", "argparse.py", "dataclasses.py", "asyncio/base_events.py", "json/decoder.py",
            "email/message.py")],
        "4 greps": [c("grep", pattern=p, max_results=200) for p in (
            r"def __init__\(self", r"raise ValueError", r"^import re$", r"class \w+Error\(")],
        "4 globs": [c("glob", pattern=p) for p in ("asyncio/*.py", "email/**/*.py", "**/__init__.py", "**/*util*.py")],
        "5 listings": [c("list_dir", path=p) for p in (".", "asyncio", "email", "json", "concurrent/futures")],
        "8 mixed": [c("grep", pattern=r"def __repr__", path="asyncio"), c("glob", pattern="importlib/**/*.py"),
                    c("list_dir", path="importlib"), c("read_file", file_path="importlib/__init__.py"),
                    c("grep", pattern=r"TODO|XXX", include="*.py", max_results=100),
                    c("glob", pattern="**/*.toml"), c("list_dir", path="unittest"),
                    c("read_file", file_path="unittest/case.py")],
    }


def tree_files(root: Path) -> list[str]:
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in JUNK_DIRS and d != "site-packages"]
        files.extend(os.path.join(folder, n) for n in names)
    return files


class PageCache:
    """Drops the tree's pages before a run: the whole cache when we may (root, writable /proc), else each
    file's pages with posix_fadvise(DONTNEED), which a file system may ignore: hence "cold-ish"."""

    def __init__(self, root: Path) -> None:
        self.files = tree_files(root)
        self.method = "none"
        try:
            with open("/proc/sys/vm/drop_caches", "w") as handle:
                handle.write("1\n")
            self.method = "drop_caches"
        except OSError:
            if hasattr(os, "posix_fadvise"):
                self.method = "posix_fadvise(DONTNEED)"

    def drop(self, _mode: str = "") -> None:
        if self.method == "drop_caches":
            os.sync()
            with open("/proc/sys/vm/drop_caches", "w") as handle:
                handle.write("1\n")
        elif self.method.startswith("posix_fadvise"):
            for path in self.files:
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


async def live_overlap(calls: list[CallToRepeat], cap: int, root: Path) -> float:
    """The batch run once through the real executor: its overlap, as the product shows it live."""
    finished: list[BatchFinished] = []

    async def allow(call: ToolCallPart, tool: object) -> PermissionDecision:
        return PermissionDecision(True)

    counter = iter(range(1, 1000))
    policy = ExecutionPolicy(
        permission=allow, next_batch_number=lambda: next(counter), max_parallel=cap,
        emit=lambda e: finished.append(e) if isinstance(e, BatchFinished) else None,
    )
    ex = ResponseExecutor({t.name: t for t in default_tools()}, ToolContext(root=root), policy)
    for i, call in enumerate(calls):
        ex.submit(ToolCallPart(f"c{i}", call.name, call.args))
    await ex.finish()
    return finished[0].overlap


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="warm cache only, caps 1 and 4")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each mode per figure (default 5)")
    args = parser.parse_args()
    caps = (1, 4) if args.quick else CAPS
    root = stdlib_root()
    tools = {t.name: t for t in default_tools()}
    cache = PageCache(root)
    print(f"tree: {root} ({len(cache.files):,} files), cores: {os.cpu_count()}, cold cache by: {cache.method}")
    print(f"speedup = median sequential wall / median parallel wall ({args.rounds} runs each, alternating); "
          "overlap = busy/wall of one live run\n")
    modes = [("warm", None)] if args.quick else [("warm", None), ("cold", cache.drop)]
    head = f"{'batch':<11} {'cache':<5} {'sequential':>11}" + "".join(f" {'cap ' + str(c):>16}" for c in caps)
    print(head)
    print(" " * 30 + "".join(f" {'speedup (ovl)':>16}" for _ in caps))
    started = time.perf_counter()
    for label, calls in batches().items():
        for mode, before_run in modes:
            cells = []
            sequential = 0.0
            for cap in caps:
                if before_run is None:  # warm: one untimed pass first
                    await measure_calls(calls, tools, ToolContext(root=root), cap=cap, rounds=1)
                result = await measure_calls(calls, tools, ToolContext(root=root), cap=cap, before_run=before_run,
                                             rounds=args.rounds)
                if before_run is not None:
                    before_run("")
                overlap = await live_overlap(calls, cap, root)
                sequential = result.sequential_wall
                flag = "" if result.reliable else "!"
                cells.append(f"{result.speedup or 0:>6.2f}x ({overlap:>4.1f}){flag}")
            print(f"{label:<11} {mode:<5} {sequential * 1000:>9.1f}ms" + "".join(f" {c:>16}" for c in cells))
    print(f"\n(took {time.perf_counter() - started:.0f}s; '!' marks a measurement whose files changed)")


if __name__ == "__main__":
    asyncio.run(main())

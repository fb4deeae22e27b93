"""Measuring what a parallel batch really saved, by running it again.

A batch's live figures cannot say that: ``overlap`` (busy over wall) rises when calls stretch each other on a
busy CPU, although nothing finished sooner. Read-only calls have no side effects, so a finished batch can be
re-run: its calls one at a time, then all at once under the concurrency cap, alternating so that a warming
page cache or a noisy neighbour hurts both modes alike. The speedup is the median sequential wall over the
median parallel wall, each with its spread.

Each run gets a fresh ``ToolContext`` (no read cache carried over, no shared todo list), so no run is served
from another's memory and nothing the user's session holds is touched. The files the calls can read are
stat-ed (modification time and size) before the first run and after the last, and each call's answers are
compared between runs (as sets of lines: ripgrep's output order varies; not when a run was cut at the match
limit). A file that changed means the runs did different work: it is named and the measurement is marked
unreliable.

One function for both front ends: the batch inspector (TUI) and ``--measure-batches`` (headless).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tunacode_tui.core.events import BatchMeasured, MeasuredRun, ToolCallFinished
from tunacode_tui.tools.base import Tool, ToolContext, ToolError
from tunacode_tui.tools.walk import JUNK_DIRS

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent

log = logging.getLogger("tunacode.measure")

DEFAULT_ROUNDS = 3
# Arguments that name the file or folder a call reads (a search without one reads the project root).
_PATH_KEYS = ("file_path", "path")
# A folder this large is not stat-ed whole: the answers are still compared.
MAX_STAT_FILES = 100_000

Progress = Callable[[int, int], None]


class NotMeasurable(Exception):
    """The batch cannot be re-run: it is not a finished batch of two or more read-only calls."""


@dataclass(slots=True, frozen=True)
class CallToRepeat:
    name: str
    args: dict[str, Any]


def _fresh_context(template: ToolContext) -> ToolContext:
    return ToolContext(
        root=template.root,
        todos=copy.deepcopy(template.todos),
        allowed_dirs=list(template.allowed_dirs),
        bash_env=template.bash_env,
        services={},
    )


@dataclass(slots=True, frozen=True)
class _Answer:
    text: str
    partial: bool  # cut at a match limit or a timeout: another run may keep other lines

    @property
    def lines(self) -> frozenset[str]:
        return frozenset(self.text.splitlines())


async def _run_one(tool: Tool, args: dict[str, Any], ctx: ToolContext) -> _Answer:
    """The call's answer as the model would read it; a failure is an answer too (and takes time too)."""
    try:
        output = await tool.run(args, ctx)
    except ToolError as exc:
        return _Answer(f"Error: {exc}", False)
    except OSError as exc:
        return _Answer(f"Error: {exc.strerror or exc}", False)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in a tool must not end the measurement of its siblings
        return _Answer(f"Error: {type(exc).__name__}: {exc}", False)
    partial = bool(output.metadata.get("truncated") or output.metadata.get("stopped"))
    return _Answer(output.content, partial)


def _targets(root: Path, calls: Sequence[CallToRepeat]) -> list[Path]:
    targets = []
    for call in calls:
        values = [call.args.get(key) for key in _PATH_KEYS]
        named = [v for v in values if isinstance(v, str) and v]
        for value in named or ["."]:
            path = Path(value).expanduser()
            targets.append(path if path.is_absolute() else root / path)
    return targets


def _snapshot(root: Path, targets: list[Path]) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file the calls can read, by path relative to the root where it can be."""
    seen: dict[str, tuple[int, int]] = {}

    def add(path: str) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        try:
            name = os.path.relpath(path, root)
        except ValueError:
            name = path
        seen[name] = (st.st_mtime_ns, st.st_size)

    for target in dict.fromkeys(targets):
        if target.is_file():
            add(str(target))
            continue
        for folder, dirs, files in os.walk(target):
            dirs[:] = [d for d in dirs if d not in JUNK_DIRS and not d.startswith(".")]
            for name in files:
                add(os.path.join(folder, name))
            if len(seen) > MAX_STAT_FILES:
                return seen
    return seen


def _changed_names(root: Path, call: CallToRepeat, answers: list[frozenset[str]]) -> list[str]:
    """Name what made a call's answers differ: its file argument, else the files on the lines that differ
    (grep prints ``path:line:text``), else the call itself."""
    for key in _PATH_KEYS:
        value = call.args.get(key)
        if isinstance(value, str) and value:
            target = Path(value).expanduser()
            if (target if target.is_absolute() else root / target).is_file():
                return [value]
    first = answers[0]
    differing: set[str] = set()
    for answer in answers[1:]:
        differing |= first.symmetric_difference(answer)
    names = []
    for line in sorted(differing):
        head = line.split(":", 1)[0].strip()
        if head and head not in names and (root / head).is_file():
            names.append(head)
    return names or [f"{call.name} {call.args}"]


async def measure_calls(
    calls: Sequence[CallToRepeat],
    tools: dict[str, Tool],
    ctx: ToolContext,
    *,
    cap: int,
    batch: int = 0,
    rounds: int = DEFAULT_ROUNDS,
    progress: Progress | None = None,
    before_run: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> BatchMeasured:
    """Run ``calls`` one at a time and all at once (at most ``cap`` together), alternating, ``rounds`` times
    each. Cancel the awaiting task to stop; nothing is left running but threads already inside a tool.

    ``before_run`` is called with the mode before each run (benchmarks drop the page cache there).
    """
    missing = [c.name for c in calls if c.name not in tools]
    if missing:
        raise NotMeasurable(f"No tool named {', '.join(sorted(set(missing)))} in this session.")
    writers = sorted({c.name for c in calls if not tools[c.name].read_only})
    if writers:
        raise NotMeasurable(f"{', '.join(writers)} change things; only read-only calls can be run again.")
    cap = max(1, cap)
    total = 2 * rounds
    runs: list[MeasuredRun] = []
    answers: list[list[_Answer]] = [[] for _ in calls]
    targets = _targets(ctx.root, calls)
    before = await asyncio.to_thread(_snapshot, ctx.root, targets)

    async def sequential(run_ctx: ToolContext) -> list[_Answer]:
        return [await _run_one(tools[c.name], c.args, run_ctx) for c in calls]

    async def parallel(run_ctx: ToolContext) -> list[_Answer]:
        gate = asyncio.Semaphore(cap)

        async def one(call: CallToRepeat) -> _Answer:
            async with gate:
                return await _run_one(tools[call.name], call.args, run_ctx)

        return list(await asyncio.gather(*(one(c) for c in calls)))

    for index in range(total):
        mode: Literal["sequential", "parallel"] = "sequential" if index % 2 == 0 else "parallel"
        if before_run is not None:
            before_run(mode)
        run_ctx = _fresh_context(ctx)
        started = clock()
        results = await (sequential(run_ctx) if mode == "sequential" else parallel(run_ctx))
        runs.append(MeasuredRun(mode, clock() - started))
        for slot, answer in zip(answers, results, strict=True):
            slot.append(answer)
        if progress is not None:
            progress(index + 1, total)

    after = await asyncio.to_thread(_snapshot, ctx.root, targets)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    for call, call_answers in zip(calls, answers, strict=True):
        if any(a.partial for a in call_answers):
            continue
        lines = [a.lines for a in call_answers]
        if len(set(lines)) > 1:
            changed.extend(n for n in _changed_names(ctx.root, call, lines) if n not in changed)
    if changed:
        log.info("batch %d changed between measurement runs: %s", batch, ", ".join(changed))
    return BatchMeasured(batch, len(calls), cap, runs, changed)


def batch_calls(calls: Sequence[ToolCallFinished], batch: int) -> list[CallToRepeat]:
    """The calls of batch ``batch`` in the order they started, as recorded."""
    mine = sorted((c for c in calls if c.batch == batch), key=lambda c: c.started)
    return [CallToRepeat(c.name, dict(c.args)) for c in mine]


def measurable(agent: Agent, batch: int) -> str | None:
    """Why batch ``batch`` cannot be measured, or None when it can."""
    calls = batch_calls(agent.state.calls, batch)
    if len(calls) < 2:
        return "Only a batch of two or more calls can show a speedup."
    unknown = sorted({c.name for c in calls if c.name not in agent.tools})
    if unknown:
        return f"No tool named {', '.join(unknown)} in this session."
    writers = sorted({c.name for c in calls if not agent.tools[c.name].read_only})
    if writers:
        return f"{', '.join(writers)} change things; only read-only calls can be run again."
    return None


def _batch_cap(agent: Agent, batch: int) -> int | None:
    """The cap the batch ran under live (sessions from before it was recorded have none)."""
    return next((b.cap for b in agent.state.batches if b.batch == batch), None)


async def measure_batch(
    agent: Agent,
    batch: int,
    *,
    progress: Progress | None = None,
    rounds: int = DEFAULT_ROUNDS,
    cap: int | None = None,
) -> BatchMeasured:
    """Re-run a finished batch of ``agent``'s session under the cap it ran under live (else the session's),
    keep the result in its state (``state.measurements``) and publish it (the journal listens, and so does
    the front end's sink)."""
    reason = measurable(agent, batch)
    if reason is not None:
        raise NotMeasurable(reason)
    result = await measure_calls(
        batch_calls(agent.state.calls, batch),
        agent.tools,
        agent.ctx,
        cap=cap or _batch_cap(agent, batch) or agent.config.settings.max_parallel,
        batch=batch,
        rounds=rounds,
        progress=progress,
    )
    result.t = agent.clock()
    agent.state.measurements[batch] = result
    agent.publish(result)
    return result

"""Measuring what a parallel batch really saved, by running it again.

A batch's live figures cannot say that: ``overlap`` (busy over wall) rises when calls stretch each other on a
busy CPU, although nothing finished sooner. Read-only calls have no side effects, so a finished batch can be
re-run: its calls one at a time, then all at once under the concurrency cap, alternating so that a warming
page cache or a noisy neighbour hurts both modes alike. The speedup is the median sequential wall over the
median parallel wall, each with its spread.

Each run gets a fresh ``ToolContext`` (no read cache carried over, no shared todo list), so no run is served
from another's memory and nothing the user's session holds is touched. If a call's answer differs between
runs, the runs did different work: what changed is named and the measurement is marked unreliable.

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
from typing import TYPE_CHECKING, Any

from tunacode_tui.agent.events import BatchMeasured, MeasuredRun, ToolCallFinished
from tunacode_tui.tools.base import Tool, ToolContext, ToolError

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent

log = logging.getLogger("tunacode.measure")

DEFAULT_ROUNDS = 3
# Arguments that name one file or folder a call reads: stat-checked between runs as well as compared.
_PATH_KEYS = ("file_path", "path")

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


async def _run_one(tool: Tool, args: dict[str, Any], ctx: ToolContext) -> str:
    """The call's answer as the model would read it; a failure is an answer too (and takes time too)."""
    try:
        return (await tool.run(args, ctx)).content
    except ToolError as exc:
        return f"Error: {exc}"
    except OSError as exc:
        return f"Error: {exc.strerror or exc}"
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in a tool must not end the measurement of its siblings
        return f"Error: {type(exc).__name__}: {exc}"


def _stat(root: Path, args: dict[str, Any]) -> dict[str, tuple[int, int] | None]:
    out: dict[str, tuple[int, int] | None] = {}
    for key in _PATH_KEYS:
        value = args.get(key)
        if not isinstance(value, str) or not value:
            continue
        path = Path(value).expanduser()
        path = path if path.is_absolute() else root / path
        try:
            st = os.stat(path)
        except OSError:
            out[value] = None
        else:
            out[value] = (st.st_mtime_ns, st.st_size) if not os.path.isdir(path) else None
    return out


def _changed_names(root: Path, call: CallToRepeat, answers: list[str]) -> list[str]:
    """Name what made a call's answers differ: its file argument, else the files on the lines that differ
    (grep prints ``path:line:text``), else the call itself."""
    for key in _PATH_KEYS:
        value = call.args.get(key)
        if isinstance(value, str) and value:
            target = Path(value).expanduser()
            if (target if target.is_absolute() else root / target).is_file():
                return [value]
    first = set(answers[0].splitlines())
    differing: set[str] = set()
    for answer in answers[1:]:
        differing |= first.symmetric_difference(answer.splitlines())
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
    answers: list[list[str]] = [[] for _ in calls]
    stats_before = [_stat(ctx.root, c.args) for c in calls]
    changed_stat: set[str] = set()

    async def sequential(run_ctx: ToolContext) -> list[str]:
        return [await _run_one(tools[c.name], c.args, run_ctx) for c in calls]

    async def parallel(run_ctx: ToolContext) -> list[str]:
        gate = asyncio.Semaphore(cap)

        async def one(call: CallToRepeat) -> str:
            async with gate:
                return await _run_one(tools[call.name], call.args, run_ctx)

        return list(await asyncio.gather(*(one(c) for c in calls)))

    for index in range(total):
        mode = "sequential" if index % 2 == 0 else "parallel"
        if before_run is not None:
            before_run(mode)
        run_ctx = _fresh_context(ctx)
        started = clock()
        results = await (sequential(run_ctx) if mode == "sequential" else parallel(run_ctx))
        runs.append(MeasuredRun(mode, clock() - started))
        for slot, answer in zip(answers, results, strict=True):
            slot.append(answer)
        for call, before in zip(calls, stats_before, strict=True):
            now = _stat(ctx.root, call.args)
            changed_stat.update(name for name, value in now.items() if before.get(name) != value)
        if progress is not None:
            progress(index + 1, total)

    changed: list[str] = []
    for call, call_answers in zip(calls, answers, strict=True):
        if len(set(call_answers)) > 1:
            changed.extend(n for n in _changed_names(ctx.root, call, call_answers) if n not in changed)
    changed.extend(sorted(n for n in changed_stat if n not in changed))
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


async def measure_batch(
    agent: Agent,
    batch: int,
    *,
    emit: Callable[[BatchMeasured], None] | None = None,
    progress: Progress | None = None,
    rounds: int = DEFAULT_ROUNDS,
    cap: int | None = None,
) -> BatchMeasured:
    """Re-run a finished batch of ``agent``'s session under the session's cap, keep the result in its state
    (``state.measurements``) and report it through ``emit`` (the journaled event sink)."""
    reason = measurable(agent, batch)
    if reason is not None:
        raise NotMeasurable(reason)
    result = await measure_calls(
        batch_calls(agent.state.calls, batch),
        agent.tools,
        agent.ctx,
        cap=cap if cap is not None else agent.config.settings.max_parallel,
        batch=batch,
        rounds=rounds,
        progress=progress,
    )
    result.t = agent.clock()
    agent.state.measurements[batch] = result
    if emit is not None:
        emit(result)
    return result

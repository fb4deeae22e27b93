"""Headless mode (``tunacode -p``): the same agent loop, events printed for scripts and tests.

``text`` prints the final answer, ``json`` one summary object, ``stream-json`` one JSON object per line,
flushed as it happens. Writes and bash are refused unless ``--yolo`` or the config's allow-list says so,
and the refusal reaches the model as a tool result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import (
    AgentEvent,
    BatchFinished,
    BatchMeasured,
    BatchStarted,
    ContextTrimmed,
    Notice,
    PermissionDecision,
    PermissionRequested,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnEnded,
    UsageUpdated,
)
from tunacode_tui.providers.errors import mask_url_passwords

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent
    from tunacode_tui.config.mcp import McpServerConfig
    from tunacode_tui.tools.base import Tool
    from tunacode_tui.tools.mcp.manager import McpManager, ServerStatus

OutputFormat = Literal["text", "json", "stream-json"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_LIMIT = 3
EXIT_CANCELLED = 130


def _round(value: float) -> float:
    return round(value, 6)


class JsonLinesSink:
    """Turns agent events into the stream-json records, and answers permission requests."""

    def __init__(self, out: IO[str], fmt: OutputFormat, *, yolo: bool, t0: float) -> None:
        self.out = out
        self.fmt = fmt
        self.yolo = yolo
        self.t0 = t0
        self.refusals: list[str] = []
        self.notices: list[Notice] = []
        self.batches: list[BatchFinished] = []

    def write(self, kind: str, t: float, **fields: Any) -> None:
        if self.fmt != "stream-json":
            return
        # ``t`` is when the record was written, so it is monotonic across the stream; event times that
        # can precede it (a batch's start, a call's start) travel as their own fields.
        record = {"type": kind, "t": _round(max(t, time.monotonic()) - self.t0), **fields}
        self.out.write(mask_url_passwords(json.dumps(record, default=str)) + "\n")
        self.out.flush()

    def __call__(self, event: AgentEvent) -> None:
        if isinstance(event, BatchStarted):
            self.write("batch_start", event.t, batch=event.batch, size=event.size, parallel=event.parallel)
        elif isinstance(event, ToolCallStarted):
            self.write("tool_start", event.t, batch=event.batch, call_id=event.call_id, name=event.name,
                       args=event.args)
        elif isinstance(event, ToolCallFinished):
            self.write("tool_end", event.ended, batch=event.batch, call_id=event.call_id, name=event.name,
                       ok=event.ok, status=event.status, duration=_round(event.duration),
                       start=_round(event.started - self.t0))
        elif isinstance(event, BatchFinished):
            self.batches.append(event)
            self.write("batch_end", event.ended, batch=event.batch, size=event.size, wall=_round(event.wall),
                       span=_round(event.span), busy=_round(event.busy), overlap=round(event.overlap, 3),
                       status=event.status)
        elif isinstance(event, BatchMeasured):
            self.write("batch_measured", event.t, **measured_record(event))
        elif isinstance(event, TextDelta):
            self.write("text_delta", event.t, text=event.text)
        elif isinstance(event, ThinkingDelta):
            self.write("thinking_delta", event.t, text=event.text)
        elif isinstance(event, UsageUpdated):
            self.write("usage", event.t, input_tokens=event.usage.prompt_tokens,
                       output_tokens=event.usage.output_tokens, cost=event.cost,
                       context_tokens=event.context_tokens, context_window=event.context_window,
                       **({"purpose": event.purpose} if event.purpose != "turn" else {}))
        elif isinstance(event, ContextTrimmed):
            self.write("context_trimmed", event.t, what=event.kind, count=event.count, before=event.before,
                       after=event.after)
            if self.fmt != "stream-json":
                print(f"tunacode: {event.text}", file=sys.stderr)
        elif isinstance(event, Notice):
            self.notices.append(event)
            self.write("notice", event.t, level=event.level, text=event.text)
            if self.fmt != "stream-json" and event.level == "warning":  # errors end the run, printed once
                print(f"tunacode: {event.text}", file=sys.stderr)
        elif isinstance(event, PermissionRequested):
            if self.yolo:
                event.future.set_result(PermissionDecision(True))
                return
            reason = (f"{event.name} needs permission, and headless mode cannot ask. Rerun with --yolo, or add "
                      f"\"{event.name}\" to settings.allowed_tools.")
            self.refusals.append(event.name)
            self.write("permission_refused", event.t, call_id=event.call_id, name=event.name, reason=reason)
            if self.fmt != "stream-json":
                print(f"tunacode: refused {event.name} ({event.summary}): run with --yolo to allow writes",
                      file=sys.stderr)
            event.future.set_result(PermissionDecision(False, reason=reason))


def measured_record(event: BatchMeasured) -> dict[str, Any]:
    """A re-run batch as headless output shows it: medians, the speedup they give, and every run."""
    low_seq, high_seq = event.spread("sequential")
    low_par, high_par = event.spread("parallel")
    return {
        "batch": event.batch,
        "size": event.size,
        "cap": event.cap,
        "sequential_wall": _round(event.sequential_wall),
        "parallel_wall": _round(event.parallel_wall),
        "speedup": None if event.speedup is None else round(event.speedup, 3),
        "sequential_spread": [_round(low_seq), _round(high_seq)],
        "parallel_spread": [_round(low_par), _round(high_par)],
        "runs": [{"mode": run.mode, "wall": _round(run.wall)} for run in event.runs],
        "reliable": event.reliable,
        "changed": list(event.changed),
    }


async def _measure_batches(agent: Any, ended: TurnEnded) -> list[BatchMeasured]:
    """``--measure-batches``: re-run, after the answer, every read-only batch of two or more calls. Each
    result is published: the journal keeps it and the turn's sink prints it."""
    from tunacode_tui.agent.measure import measurable, measure_batch

    results = []
    for batch in ended.batches:
        if batch.size < 2 or batch.status == "cancelled" or measurable(agent, batch.batch) is not None:
            continue
        results.append(await measure_batch(agent, batch.batch))
    return results


def _measured_text(m: BatchMeasured) -> str:
    speedup = "n/a" if m.speedup is None else f"{m.speedup:.2f}x"
    text = (f"sequential {m.sequential_wall * 1000:.1f} ms, parallel {m.parallel_wall * 1000:.1f} ms "
            f"(medians of {len(m.walls('sequential'))} runs each): measured speedup {speedup}")
    if m.changed:
        text += f"; unreliable: {', '.join(m.changed)} changed between runs"
    return text


def _usage_dict(ended: TurnEnded) -> dict[str, int]:
    return {"input_tokens": ended.usage.prompt_tokens, "output_tokens": ended.usage.output_tokens}


async def run_headless(
    config: Config,
    prompt: str,
    *,
    model: str | None = None,
    fmt: OutputFormat = "text",
    yolo: bool = False,
    root: Path | None = None,
    out: IO[str] | None = None,
    resume: str | None = None,
    continue_latest: bool = False,
    measure_batches: bool = False,
    mcp_config: Path | None = None,
    allow_project_mcp: bool = False,
) -> int:
    from tunacode_tui.agent.factory import SessionChoiceError, open_session_agent
    from tunacode_tui.providers.errors import ConfigurationError, MissingApiKey
    from tunacode_tui.providers.registry import ProviderPool

    out = out or sys.stdout
    t0 = time.monotonic()
    pool = ProviderPool()
    try:
        bundle = open_session_agent(config, model=model, root=root, pool=pool, resume=resume,
                                    continue_latest=continue_latest)
    except (ConfigurationError, SessionChoiceError) as exc:
        print(f"tunacode: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    for warning in [*config.warnings, *bundle.warnings]:
        print(f"tunacode: {warning}", file=sys.stderr)
    agent = bundle.agent
    try:
        agent.provider  # noqa: B018 - a missing key is a configuration error: exit 2 before any request
    except (ConfigurationError, MissingApiKey) as exc:
        print(f"tunacode: {exc}", file=sys.stderr)
        await pool.aclose()
        if bundle.journal is not None:
            bundle.journal.close()
        return EXIT_CONFIG
    agent.state.yolo = yolo
    sink = JsonLinesSink(out, fmt, yolo=yolo, t0=t0)
    try:
        mcp = HeadlessMcp.plan(config, agent.root, sink, mcp_config=mcp_config, allow_project=allow_project_mcp)
    except ValueError as exc:  # --mcp-config names a file that cannot be used
        print(f"tunacode: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    async def start_then_run() -> TurnEnded:
        agent.set_sink(sink)  # what adding the MCP tools says (a refused name) is printed, not lost
        await mcp.start(agent)
        return await agent.run_turn(prompt, sink)

    task = asyncio.ensure_future(start_then_run())
    loop = asyncio.get_running_loop()
    running: list[asyncio.Future[Any]] = [task]  # the turn, then the measurement: a signal cancels whichever runs
    try:
        loop.add_signal_handler(signal.SIGINT, lambda: running[0].cancel())
        loop.add_signal_handler(signal.SIGTERM, lambda: running[0].cancel())
        # A hang-up (the terminal or the ssh session closed) cancels like Ctrl+C, so running bash
        # commands are killed with their process group instead of left running under PID 1.
        loop.add_signal_handler(signal.SIGHUP, lambda: running[0].cancel())
    except (NotImplementedError, RuntimeError):
        pass
    try:
        ended = await task
        measured: list[BatchMeasured] = []
        if measure_batches and ended.reason != "cancelled":
            measuring = asyncio.ensure_future(_measure_batches(agent, ended))
            running[0] = measuring
            measured = await measuring
    except asyncio.CancelledError:
        print("tunacode: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await mcp.aclose()
        await pool.aclose()
        if bundle.journal is not None:
            bundle.journal.close()

    summary = {
        "text": ended.text,
        "iterations": ended.iterations,
        "usage": _usage_dict(ended),
        "cost": ended.cost,
        "reason": ended.reason,
        "batches": [
            {"batch": b.batch, "size": b.size, "parallel": b.parallel, "wall": _round(b.wall),
             "busy": _round(b.busy), "overlap": round(b.overlap, 3), "status": b.status}
            for b in ended.batches
        ],
        "measured": [measured_record(m) for m in measured],
        "refused": sink.refusals,
        "session": bundle.journal.id if bundle.journal else None,
    }
    if ended.error:
        summary["error"] = ended.error
    if fmt == "stream-json":
        sink.write("result", ended.t, **summary)
    elif fmt == "json":
        out.write(json.dumps(summary, indent=2, default=str) + "\n")
    else:
        if ended.text:
            out.write(ended.text.rstrip("\n") + "\n")
        if measure_batches and not measured:
            print("tunacode: --measure-batches: no read-only batch of 2 or more calls to re-run", file=sys.stderr)
        for m in measured:  # on stderr: stdout stays the answer alone, for scripts
            print(f"tunacode: batch #{m.batch} ({m.size} calls, cap {m.cap}): {_measured_text(m)}", file=sys.stderr)
    out.flush()
    if ended.reason == "error":
        print(f"tunacode: {mask_url_passwords(ended.error or '')}", file=sys.stderr)
        return EXIT_ERROR
    if ended.reason in ("max_iterations", "loop_guard"):
        print(f"tunacode: stopped: {ended.reason.replace('_', ' ')} reached", file=sys.stderr)
        return EXIT_LIMIT
    return EXIT_OK


class HeadlessMcp:
    """MCP servers in headless mode: started before the one prompt (each bounded by its startup timeout),
    each state change an ``mcp_status`` record, stopped on the way out."""

    def __init__(self, root: Path, sink: JsonLinesSink, servers: dict[str, McpServerConfig]) -> None:
        self.root = root
        self.sink = sink
        self.servers = servers
        self.manager: McpManager | None = None
        self._reporting = True

    @classmethod
    def plan(cls, config: Config, root: Path, sink: JsonLinesSink, *, mcp_config: Path | None,
             allow_project: bool) -> HeadlessMcp:
        """Raises ``ValueError`` (``McpConfigError``) when ``--mcp-config`` cannot be used."""
        if not config.mcp_servers and not config.mcp_problems and mcp_config is None:
            from tunacode_tui.config.mcp import project_file

            if project_file(root) is None:  # the common case: nothing to plan, nothing imported
                return cls(root, sink, {})
        from tunacode_tui.agent.mcp_servers import plan_for, project_pending_text

        plan = plan_for(config, root, extra_file=mcp_config, allow_project=allow_project)
        notices = list(plan.notices)
        if plan.pending_project is not None and not plan.declined:
            notices.append(project_pending_text(plan))
        for text in notices:
            sink(Notice("warning", text, time.monotonic()))
        return cls(root, sink, plan.servers)

    async def start(self, agent: Agent) -> None:
        if not self.servers:
            return
        from tunacode_tui.tools.mcp.manager import McpManager

        self.manager = McpManager(self.root, self._changed)
        self.manager.start(self.servers)
        await self.manager.wait_started()
        agent.add_tools(self.manager.tools())

    def _changed(self, status: ServerStatus, tools: list[Tool]) -> None:
        if not self._reporting:
            return
        self.sink.write("mcp_status", time.monotonic(), **status.record())
        if status.state == "failed":
            from tunacode_tui.agent.mcp_servers import status_notice

            notice = status_notice(status)
            if notice is not None and self.sink.fmt != "stream-json":
                print(f"tunacode: {notice[1]}", file=sys.stderr)

    async def aclose(self) -> None:
        self._reporting = False  # nothing after the result record
        if self.manager is not None:
            await self.manager.aclose()

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
from typing import IO, Any, Literal

from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import (
    AgentEvent,
    BatchFinished,
    BatchStarted,
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
        self.out.write(json.dumps(record, default=str) + "\n")
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
                       span=_round(event.span), speedup=round(event.speedup, 3), status=event.status)
        elif isinstance(event, TextDelta):
            self.write("text_delta", event.t, text=event.text)
        elif isinstance(event, ThinkingDelta):
            self.write("thinking_delta", event.t, text=event.text)
        elif isinstance(event, UsageUpdated):
            self.write("usage", event.t, input_tokens=event.usage.prompt_tokens,
                       output_tokens=event.usage.output_tokens, cost=event.cost,
                       context_tokens=event.context_tokens, context_window=event.context_window,
                       **({"purpose": event.purpose} if event.purpose != "turn" else {}))
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
) -> int:
    from tunacode_tui.agent.factory import SessionChoiceError, open_session_agent
    from tunacode_tui.providers.errors import ConfigurationError
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
    agent.state.yolo = yolo
    sink = JsonLinesSink(out, fmt, yolo=yolo, t0=t0)
    task = asyncio.ensure_future(agent.run_turn(prompt, sink))
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError):
        pass
    try:
        ended = await task
    except asyncio.CancelledError:
        print("tunacode: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
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
             "speedup": round(b.speedup, 3), "status": b.status}
            for b in ended.batches
        ],
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
    out.flush()
    if ended.reason == "error":
        print(f"tunacode: {ended.error}", file=sys.stderr)
        return EXIT_ERROR
    if ended.reason in ("max_iterations", "loop_guard"):
        print(f"tunacode: stopped: {ended.reason.replace('_', ' ')} reached", file=sys.stderr)
        return EXIT_LIMIT
    return EXIT_OK

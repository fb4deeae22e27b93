"""What the tool activity pane and the batch inspector show: batches and their calls, built from agent
events. Plain data with no Textual, so it can be tested and kept after widgets are pruned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tunacode_tui.core.events import (
    AgentEvent,
    BatchFinished,
    BatchGrew,
    BatchMeasured,
    BatchStarted,
    ToolCallFinished,
    ToolCallStarted,
)
from tunacode_tui.ui.format import seconds

CallStatus = Literal["running", "done", "failed", "cancelled", "refused"]
BatchStatus = Literal["running", "done", "failed", "cancelled"]

Summarize = Callable[[str, dict[str, Any]], str]

STATUS_ICONS: dict[str, str] = {"running": "…", "done": "✓", "failed": "✗", "cancelled": "⊘", "refused": "⊘"}


@dataclass(slots=True)
class CallRecord:
    call_id: str
    name: str
    args: dict[str, Any]
    summary: str
    started: float
    ended: float | None = None
    status: CallStatus = "running"
    result: str = ""
    display: str | None = None

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    @property
    def error(self) -> str | None:
        """The result, when it reports a failure rather than an answer."""
        return self.result if self.status in ("failed", "refused", "cancelled") else None


@dataclass(slots=True)
class BatchRecord:
    number: int
    size: int
    parallel: bool
    started: float
    ended: float | None = None
    busy: float = 0.0
    status: BatchStatus = "running"
    calls: dict[str, CallRecord] = field(default_factory=dict)
    # Time at least one call ran (calls started early while the model streamed leave gaps); None: the span.
    active: float | None = None
    # The batch re-run on request ("Measure speedup"): the only source of a speedup figure.
    measured: BatchMeasured | None = None

    @property
    def span(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    @property
    def wall(self) -> float | None:
        """As ``BatchFinished.wall``: the union of the call intervals, not the model's typing time."""
        return self.active if self.active is not None and self.ended is not None else self.span

    @property
    def overlap(self) -> float | None:
        """As ``BatchFinished.overlap``: calls running at once on average (busy over wall), not a speedup."""
        wall = self.wall
        if wall is None:
            return None
        return self.busy / wall if wall > 0 else 1.0

    def axis(self, now: float | None = None) -> tuple[float, float]:
        """The time axis the timeline draws on: first start to last end (or ``now`` while running)."""
        starts = [c.started for c in self.calls.values()] or [self.started]
        ends = [c.ended for c in self.calls.values() if c.ended is not None]
        start = min(starts)
        end = self.ended if self.ended is not None else max([*ends, now or start])
        return start, max(end, start)


def mode_label(record: BatchRecord) -> str:
    if record.size < 2:
        return ""
    return "PARALLEL" if record.parallel else "SEQUENTIAL"


def batch_message(record: BatchRecord) -> str:
    """What ``/thoughts on`` shows for a batch: "PARALLEL BATCH #1: Executing 3 read-only tools concurrently"."""
    names = [call.name for call in record.calls.values()]
    if record.size > 1:
        mode = mode_label(record)
        how = "concurrently" if record.parallel else "one at a time"
        text = f"{mode} BATCH #{record.number}: Executing {record.size} read-only tools {how}"
    else:
        text = f"BATCH #{record.number}: Executing {names[0] if names else '1 tool'}"
    if record.wall is not None:
        text += f" — {record.status} in {seconds(record.wall)}"
        if record.size > 1 and record.overlap is not None:
            text += f", overlap {record.overlap:.1f}"
        if record.measured is not None:
            text += f", {measured_label(record.measured)}"
    return text


def measured_label(measured: BatchMeasured) -> str:
    """``measured speedup 1.2x`` (``unreliable`` when a file changed between the runs)."""
    speedup = measured.speedup
    figure = "n/a" if speedup is None else f"{speedup:.1f}x"
    return f"measured speedup {figure}" + ("" if measured.reliable else " (unreliable)")



class ActivityLog:
    """Applies activity events to batch records. ``apply`` returns the batch it changed, if any."""

    def __init__(self, summarize: Summarize | None = None) -> None:
        self.batches: dict[int, BatchRecord] = {}
        self._summarize = summarize or (lambda name, args: "")

    def clear(self) -> None:
        self.batches.clear()

    def settle(self, now: float) -> list[BatchRecord]:
        """The turn ended: whatever still shows as running was cancelled (a cancelled executor reports
        no ``BatchFinished``). Returns the batches it changed."""
        changed = []
        for record in self.batches.values():
            if record.status != "running":
                continue
            for call in record.calls.values():
                if call.status == "running":
                    call.status = "cancelled"
                    call.ended = now
            ends = [c.ended for c in record.calls.values() if c.ended is not None]
            record.ended = max([*ends, record.started])
            record.busy = sum(c.duration or 0.0 for c in record.calls.values())
            record.status = "cancelled"
            changed.append(record)
        return changed

    def apply(self, event: AgentEvent) -> BatchRecord | None:
        record: BatchRecord | None
        if isinstance(event, BatchStarted):
            record = BatchRecord(event.batch, event.size, event.parallel, event.t)
            self.batches[event.batch] = record
            return record
        if isinstance(event, BatchGrew):
            record = self.batches.get(event.batch)
            if record is not None:
                record.size = event.size
            return record
        if isinstance(event, ToolCallStarted):
            record = self.batches.get(event.batch)
            if record is not None:
                summary = self._summarize(event.name, event.args)
                record.calls[event.call_id] = CallRecord(event.call_id, event.name, event.args, summary, event.t)
            return record
        if isinstance(event, ToolCallFinished):
            record = self.batches.get(event.batch)
            if record is None:
                return None
            call = record.calls.get(event.call_id)
            if call is None:
                call = CallRecord(
                    event.call_id, event.name, event.args, self._summarize(event.name, event.args), event.started
                )
                record.calls[event.call_id] = call
            call.started = event.started
            call.ended = event.ended
            call.status = event.status
            call.result = event.result
            call.display = event.display
            return record
        if isinstance(event, BatchMeasured):
            record = self.batches.get(event.batch)
            if record is not None:
                record.measured = event
            return record
        if isinstance(event, BatchFinished):
            record = self.batches.get(event.batch)
            if record is None:
                record = BatchRecord(event.batch, event.size, event.parallel, event.started)
                self.batches[event.batch] = record
            record.size = event.size
            record.started = event.started
            record.ended = event.ended
            record.busy = event.busy
            record.active = event.active
            record.status = event.status
            return record
        return None

"""Facts the agent loop reports, in the past tense. The loop knows nothing of the UI.

Headless mode prints them as JSON lines; the TUI turns them into Textual messages. Times are
``time.monotonic()`` seconds, so intervals can be compared across calls and batches.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tunacode_tui.core.messages import Message, Usage


@dataclass(slots=True)
class AttachedFile:
    """A file a prompt mentioned with ``@``: attached (``chars`` of it, maybe ``truncated``) or, with ``error``,
    not attached and why."""

    path: str
    size: int  # bytes on disk
    chars: int  # characters sent to the model
    truncated: bool = False
    error: str | None = None


@dataclass(slots=True)
class TurnStarted:
    prompt: str
    t: float
    attachments: list[AttachedFile] = field(default_factory=list)


@dataclass(slots=True)
class RequestStarted:
    """A model request is going out (one per loop iteration)."""

    iteration: int
    model: str
    t: float


@dataclass(slots=True)
class TextDelta:
    text: str
    t: float


@dataclass(slots=True)
class ThinkingDelta:
    text: str
    t: float


@dataclass(slots=True)
class AssistantMessageAdded:
    message: Message
    t: float


@dataclass(slots=True)
class BatchStarted:
    batch: int
    size: int
    parallel: bool
    t: float


@dataclass(slots=True)
class BatchGrew:
    """A read-only call joined a running batch while the model was still streaming."""

    batch: int
    size: int
    t: float


@dataclass(slots=True)
class ToolCallStarted:
    batch: int
    call_id: str
    name: str
    args: dict[str, Any]
    t: float


@dataclass(slots=True)
class ToolCallFinished:
    batch: int
    call_id: str
    name: str
    args: dict[str, Any]
    ok: bool
    result: str
    display: str | None
    started: float
    ended: float
    status: Literal["done", "failed", "cancelled", "refused"] = "done"

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def t(self) -> float:
        return self.ended


@dataclass(slots=True)
class BatchFinished:
    """A batch is over. ``wall`` is the time at least one of its calls was running (the union of the call
    intervals), so a batch whose calls started early, spread over a streaming response, is not charged for
    the model's typing time; ``span`` is first start to last end.

    ``overlap`` (busy over wall) says how many calls ran at once on average. It is not a speedup: calls that
    contend for the CPU stretch each other, so the overlap rises although nothing finished sooner. Only a
    re-run (``BatchMeasured``) says what running them together saved."""

    batch: int
    size: int
    parallel: bool
    started: float
    ended: float
    busy: float  # sum of call durations
    status: Literal["done", "failed", "cancelled"] = "done"
    active: float | None = None  # union of call intervals; None means the same as the span
    cap: int | None = None  # the concurrency cap it ran under (None: not recorded, an older session file)

    @property
    def span(self) -> float:
        return self.ended - self.started

    @property
    def wall(self) -> float:
        return self.active if self.active is not None else self.span

    @property
    def overlap(self) -> float:
        """Sum of call durations over the batch's wall time: calls running at once, on average."""
        return self.busy / self.wall if self.wall > 0 else 1.0

    @property
    def t(self) -> float:
        return self.ended


@dataclass(slots=True)
class MeasuredRun:
    """One re-run of a batch's calls: ``sequential`` (one at a time) or ``parallel`` (all at once under the
    cap), and how long it took from the first start to the last end."""

    mode: Literal["sequential", "parallel"]
    wall: float


@dataclass(slots=True)
class BatchMeasured:
    """A finished read-only batch was re-run to measure what parallelism saves: its calls one at a time and
    all at once under ``cap``, alternating, in ``runs`` (in the order they ran). ``speedup`` is the median
    sequential wall over the median parallel wall. ``changed`` names what changed between runs (a file the
    calls read); then the runs did not do the same work and the figure is unreliable."""

    batch: int
    size: int
    cap: int
    runs: list[MeasuredRun]
    changed: list[str] = field(default_factory=list)
    t: float = 0.0

    def walls(self, mode: Literal["sequential", "parallel"]) -> list[float]:
        return [run.wall for run in self.runs if run.mode == mode]

    @property
    def sequential_wall(self) -> float:
        """Median wall of the one-at-a-time runs."""
        return statistics.median(self.walls("sequential") or [0.0])

    @property
    def parallel_wall(self) -> float:
        """Median wall of the all-at-once runs."""
        return statistics.median(self.walls("parallel") or [0.0])

    def spread(self, mode: Literal["sequential", "parallel"]) -> tuple[float, float]:
        """Fastest and slowest run of ``mode``: how far the median can be trusted on a busy machine."""
        walls = self.walls(mode) or [0.0]
        return min(walls), max(walls)

    @property
    def speedup(self) -> float | None:
        """Median sequential wall over median parallel wall; None when the parallel runs took no time."""
        parallel = self.parallel_wall
        return self.sequential_wall / parallel if parallel > 0 else None

    @property
    def reliable(self) -> bool:
        return not self.changed


@dataclass(slots=True)
class UsageUpdated:
    """After each request: its usage and cost, the running totals and the context estimate.

    ``purpose`` is ``"compaction"`` for a summary request: it is billed like any other, but its prompt is
    the old history, so it says nothing about the context the next request will send."""

    usage: Usage
    cost: float | None
    turn_usage: Usage
    turn_cost: float | None
    session_usage: Usage
    session_cost: float | None
    context_tokens: int
    context_window: int
    t: float
    purpose: Literal["turn", "compaction"] = "turn"


@dataclass(slots=True)
class ContextTrimmed:
    """The history was made smaller to fit the window. The session file keeps what was there before.

    ``kind``: ``cleared`` (outputs of older tool calls replaced by a marker), ``compacted`` (old turns
    summarised), ``dropped`` (old turns removed when no summary could be written), ``truncated`` (tool results
    cut to a share of the window). ``before``/``after`` are the context estimates in tokens.
    """

    kind: Literal["cleared", "compacted", "dropped", "truncated"]
    count: int
    before: int
    after: int
    t: float

    @property
    def text(self) -> str:
        what = {
            "cleared": f"cleared the output of {self.count} earlier tool call{'s' * (self.count != 1)}",
            "compacted": "summarised the earlier conversation",
            "dropped": f"removed {self.count} earlier messages (no summary could be written)",
            "truncated": f"cut {self.count} tool result{'s' * (self.count != 1)} to fit the window",
        }[self.kind]
        return f"Context: {what} ({self.before:,} → {self.after:,} tokens); the session file keeps the full text."


@dataclass(slots=True)
class Notice:
    """Something the user should see that is not model output: retries, guards, limits, compaction."""

    level: Literal["info", "warning", "error"]
    text: str
    t: float


@dataclass(slots=True)
class PermissionRequested:
    """A write or bash call waits on ``future``: set it to a ``PermissionDecision``."""

    call_id: str
    name: str
    args: dict[str, Any]
    summary: str
    preview: str | None
    future: asyncio.Future[PermissionDecision]
    t: float


@dataclass(slots=True)
class PermissionDecision:
    """``always`` remembers ``rule`` (a permission rule such as ``bash(git status:*)``, saved to the project's
    settings) or, without one, the whole tool for this session."""

    allow: bool
    always: bool = False
    reason: str = ""
    rule: str | None = None


@dataclass(slots=True)
class TurnEnded:
    text: str
    iterations: int
    usage: Usage
    cost: float | None
    reason: Literal["completed", "max_iterations", "cancelled", "error", "loop_guard"]
    error: str | None = None
    batches: list[BatchFinished] = field(default_factory=list)
    t: float = 0.0


@dataclass(slots=True)
class MessageAppended:
    """A message joined the live history (a prompt, an answer, a set of tool results)."""

    message: Message
    t: float


@dataclass(slots=True)
class HistoryCompacted:
    """The live history was replaced by ``messages``: a summary plus the ``kept_count`` most recent messages.
    The history before stays in the session file; this records what the model sees from now on."""

    summary: str
    kept_count: int
    messages: list[Message]
    t: float


@dataclass(slots=True)
class HistoryCleared:
    """``/clear``: the conversation starts over; ``totals`` also zeroed tokens, cost and timings."""

    totals: bool
    t: float


@dataclass(slots=True)
class ModelChanged:
    model: str
    t: float


@dataclass(slots=True)
class SettingsChanged:
    """A per-session choice changed (``yolo``, ``enable_streaming``, ``max_iterations``)."""

    changes: dict[str, Any]
    t: float


AgentEvent = (
    TurnStarted | RequestStarted | TextDelta | ThinkingDelta | AssistantMessageAdded | BatchStarted | BatchGrew
    | ToolCallStarted | ToolCallFinished | BatchFinished | BatchMeasured | UsageUpdated | ContextTrimmed | Notice
    | PermissionRequested | TurnEnded | MessageAppended | HistoryCompacted | HistoryCleared | ModelChanged
    | SettingsChanged
)


class EventSink(Protocol):
    def __call__(self, event: AgentEvent) -> None: ...

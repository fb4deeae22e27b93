"""Everything a conversation accumulates: history, todos, totals, timings and per-session choices.

Plain data, shared by the loop, the commands and the UI; persisted by the session journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunacode_tui.core.events import BatchFinished, BatchMeasured, ToolCallFinished
from tunacode_tui.core.messages import Message, Usage


@dataclass(slots=True)
class CostTotal:
    """Money spent so far. ``unknown`` counts requests whose model has no price, so the UI can say
    "unknown" rather than show a figure that silently leaves them out."""

    known: float = 0.0
    unknown: int = 0

    def add(self, cost: float | None) -> None:
        if cost is None:
            self.unknown += 1
        else:
            self.known += cost

    @property
    def value(self) -> float | None:
        return None if self.unknown and not self.known else self.known


@dataclass(slots=True)
class SessionState:
    messages: list[Message] = field(default_factory=list)
    todos: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost: CostTotal = field(default_factory=CostTotal)
    batches: list[BatchFinished] = field(default_factory=list)
    calls: list[ToolCallFinished] = field(default_factory=list)
    # Re-runs the user asked for ("Measure speedup", ``--measure-batches``), by batch number.
    measurements: dict[int, BatchMeasured] = field(default_factory=dict)
    yolo: bool = False
    allowed_tools: set[str] = field(default_factory=set)
    max_iterations: int = 40
    next_batch: int = 1
    # The first batch the tool activity pane shows: ``/clear`` empties the pane (and a resume must show the
    # same rows), while the analytics keep every batch until ``/clear all``.
    activity_start: int = 1
    requests: int = 0
    # The summary requests among ``requests``/``usage``/``cost``: compaction is paid for like any request.
    compactions: int = 0
    compaction_usage: Usage = field(default_factory=Usage)
    compaction_cost: CostTotal = field(default_factory=CostTotal)

    def take_batch_number(self) -> int:
        number = self.next_batch
        self.next_batch += 1
        return number

    def clear_conversation(self) -> None:
        """``/clear``: forget the conversation and the activity, keep totals."""
        self.messages.clear()
        self.todos.clear()
        self.activity_start = self.next_batch

    def reset_totals(self) -> None:
        """``/clear all``: also zero the money and token totals and the analytics."""
        self.usage = Usage()
        self.cost = CostTotal()
        self.batches.clear()
        self.calls.clear()
        self.measurements.clear()
        self.requests = 0
        self.compactions = 0
        self.compaction_usage = Usage()
        self.compaction_cost = CostTotal()

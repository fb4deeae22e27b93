"""Tool analytics: what the tools cost in time, how much the batches overlapped, and what re-running them
measured.

A pure function of the recorded timings, so the TUI (``/analytics tools``), headless mode and the tests all
show the same figures. ``overlap`` (sum of call durations over wall time) says how many calls ran at once; it
is not a speedup, since calls contending for the CPU stretch each other. Speedups come only from batches the
user had re-run ("Measure speedup", ``--measure-batches``), and are reported as such.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tunacode_tui.core.events import BatchFinished, BatchMeasured, ToolCallFinished


@dataclass(slots=True, frozen=True)
class ToolStats:
    """One tool's record: how often it ran, failed, and how long it took."""

    name: str
    calls: int
    failures: int  # calls that did not succeed: failed, refused or cancelled
    mean: float  # seconds
    p95: float  # seconds, nearest rank


@dataclass(slots=True, frozen=True)
class ToolAnalytics:
    tools: list[ToolStats] = field(default_factory=list)
    total_calls: int = 0
    batches: int = 0
    mean_batch_size: float = 0.0
    parallel_batches: int = 0
    # Mean of (sum of call durations / wall time) over parallel batches; None when there were none.
    mean_overlap: float | None = None
    # Re-run batches: (batch number, measured speedup, reliable), in batch order.
    measured: list[tuple[int, float, bool]] = field(default_factory=list)

    @property
    def mean_measured_speedup(self) -> float | None:
        """Mean speedup over the re-run batches whose files did not change between runs."""
        good = [speedup for _, speedup, reliable in self.measured if reliable]
        return sum(good) / len(good) if good else None

    def overlap_line(self) -> str:
        if self.mean_overlap is None:
            return "Parallel batches: 0"
        return (f"Parallel batches: {self.parallel_batches}, mean overlap {self.mean_overlap:.2f} "
                "(calls running at once; not a speedup)")

    def measured_line(self) -> str:
        if not self.measured:
            return "Measured speedup: none yet (re-run a batch: m in the batch inspector, or --measure-batches)"
        each = ", ".join(f"#{n} {s:.2f}×{'' if ok else ' (unreliable)'}" for n, s, ok in self.measured)
        mean = self.mean_measured_speedup
        head = "Measured speedup" if mean is None else f"Measured speedup: mean {mean:.2f}×"
        return f"{head} over {len(self.measured)} re-run batch(es): {each}"

    def render_text(self) -> str:
        """An aligned plain-text table, readable in a terminal, a log or a test failure."""
        if not self.tools:
            return "No tool calls yet."
        header = ("Tool", "Calls", "Failed", "Mean", "p95")
        rows = [
            (t.name, str(t.calls), str(t.failures), format_seconds(t.mean), format_seconds(t.p95)) for t in self.tools
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(row: tuple[str, ...]) -> str:
            first = row[0].ljust(widths[0])
            rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
            return "  ".join([first, *rest]).rstrip()

        out = [line(header), line(tuple("-" * w for w in widths)), *(line(row) for row in rows)]
        out.append("")
        summary = f"{self.total_calls} call(s) in {self.batches} batch(es), mean batch size {self.mean_batch_size:.1f}"
        out.append(summary)
        out.append(self.overlap_line())
        out.append(self.measured_line())
        return "\n".join(out)


def format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def nearest_rank(values: Sequence[float], percentile: float) -> float:
    """The nearest-rank percentile: always a value that was observed, never an interpolation."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def tool_analytics(
    calls: Sequence[ToolCallFinished],
    batches: Sequence[BatchFinished],
    measurements: Iterable[BatchMeasured] = (),
) -> ToolAnalytics:
    """Per-tool counts and durations, and batch figures, from the finished calls, batches and re-runs of a
    session."""
    by_tool: dict[str, list[ToolCallFinished]] = {}
    by_batch: dict[int, float] = {}
    for call in calls:
        by_tool.setdefault(call.name, []).append(call)
        by_batch[call.batch] = by_batch.get(call.batch, 0.0) + max(0.0, call.duration)
    tools = []
    for name, group in by_tool.items():
        durations = [max(0.0, c.duration) for c in group]
        tools.append(
            ToolStats(
                name=name,
                calls=len(group),
                failures=sum(1 for c in group if not c.ok),
                mean=sum(durations) / len(durations),
                p95=nearest_rank(durations, 95),
            )
        )
    tools.sort(key=lambda t: (-t.calls, t.name))

    overlaps = []
    parallel = [b for b in batches if b.parallel]
    for batch in parallel:
        if batch.wall <= 0:
            continue  # no measurable wall time: a ratio would be noise
        # The calls' own timings when we have them; the batch's recorded busy time otherwise.
        busy = by_batch.get(batch.batch, batch.busy)
        overlaps.append(busy / batch.wall)
    measured = sorted((m.batch, m.speedup, m.reliable) for m in measurements if m.speedup is not None)
    return ToolAnalytics(
        tools=tools,
        total_calls=len(calls),
        batches=len(batches),
        mean_batch_size=sum(b.size for b in batches) / len(batches) if batches else 0.0,
        parallel_batches=len(parallel),
        mean_overlap=sum(overlaps) / len(overlaps) if overlaps else None,
        measured=measured,
    )

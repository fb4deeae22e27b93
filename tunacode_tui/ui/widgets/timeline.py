"""A batch's calls as bars on one shared time axis, so overlap (real parallelism) is visible at a glance.

    read_file a.py  │██████████          │   0–120 ms
    read_file b.py  │   ████████████████ │  30–210 ms
                    0 ms           210 ms
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from textual.widget import Widget

from tunacode_tui.ui import format as fmt
from tunacode_tui.ui.activity import BatchRecord

BAR = "█"
TRACK = " "
# Eighth blocks for the fraction of a cell at the end of a bar: short calls still show their length.
EIGHTHS = " ▏▎▍▌▋▊▉"
MAX_LABEL = 30


@dataclass(slots=True, frozen=True)
class Lane:
    name: str
    summary: str
    start: float  # seconds from the axis start
    end: float
    status: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.summary}".strip()


def _fit_label(lane: Lane, width: int) -> str:
    if len(lane.label) <= width:
        return lane.label
    room = width - len(lane.name) - 1
    if room < 4:
        return lane.label[: width - 1] + "…"
    return f"{lane.name} {fmt.fit_summary(lane.summary, room)}"


def lanes_for(record: BatchRecord, now: float | None = None) -> tuple[list[Lane], float]:
    """The lanes of a batch relative to its first start, and the axis length in seconds."""
    origin, last = record.axis(now)
    lanes = []
    for call in record.calls.values():
        end = call.ended if call.ended is not None else last
        lanes.append(Lane(call.name, call.summary, call.started - origin, end - origin, call.status))
    return lanes, last - origin


class TimelineRenderable:
    """Draws the lanes with Rich segments at whatever width it is given."""

    def __init__(self, lanes: list[Lane], span: float, styles: dict[str, Style]) -> None:
        self.lanes = lanes
        self.span = span
        self.styles = styles

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        width = options.max_width
        muted = self.styles["muted"]
        if not self.lanes:
            yield Segment("No calls in this batch.", muted)
            yield Segment.line()
            return
        label_width = min(MAX_LABEL, max(len(lane.label) for lane in self.lanes))
        times = [f"{fmt.millis(lane.start)}–{fmt.millis(lane.end)} ms" for lane in self.lanes]
        time_width = max(len(t) for t in times)
        bar_width = max(10, width - label_width - time_width - 4)
        scale = bar_width / self.span if self.span > 0 else 0.0
        for lane, times_text in zip(self.lanes, times, strict=True):
            label = _fit_label(lane, label_width)
            yield Segment(label.ljust(label_width), self.styles["label"])
            yield Segment(" │", muted)
            yield from self._bar(lane, bar_width, scale)
            yield Segment("│ ", muted)
            yield Segment(times_text.rjust(time_width), muted)
            yield Segment.line()
        start_label, end_label = "0 ms", f"{fmt.millis(self.span)} ms"
        gap = max(1, bar_width - len(start_label) - len(end_label))
        yield Segment(" " * (label_width + 2) + start_label + " " * gap + end_label, muted)
        yield Segment.line()

    def _bar(self, lane: Lane, bar_width: int, scale: float) -> Iterator[Segment]:
        style = self.styles.get(lane.status, self.styles["done"])
        if scale == 0:  # every call took no measurable time: one cell each, at the start
            yield Segment(BAR, style)
            yield Segment(TRACK * (bar_width - 1), self.styles["track"])
            return
        begin = min(bar_width - 1, int(lane.start * scale))
        exact_end = max(lane.end * scale, begin + 1 / 8)
        full_end = min(bar_width, max(begin, int(exact_end)))
        eighths = int((exact_end - full_end) * 8) if full_end < bar_width else 0
        cells = full_end - begin
        if cells == 0 and eighths == 0:
            eighths = 1
        yield Segment(TRACK * begin, self.styles["track"])
        yield Segment(BAR * cells, style)
        used = begin + cells
        if eighths:
            yield Segment(EIGHTHS[eighths], style)
            used += 1
        yield Segment(TRACK * (bar_width - used), self.styles["track"])


class CallTimeline(Widget):
    """One bar per call of a batch on a shared axis; colour by status."""

    DEFAULT_CSS = """
    CallTimeline {
        height: auto;
        padding: 0 1;
        & > .timeline--label { color: $text; }
        & > .timeline--muted { color: $text-muted; }
        & > .timeline--track { background: $panel; }
        & > .timeline--done { color: $success; }
        & > .timeline--running { color: $primary; }
        & > .timeline--failed { color: $error; }
        & > .timeline--cancelled { color: $warning; }
        & > .timeline--refused { color: $warning; }
    }
    """
    COMPONENT_CLASSES = {
        "timeline--label", "timeline--muted", "timeline--track", "timeline--done", "timeline--running",
        "timeline--failed", "timeline--cancelled", "timeline--refused",
    }

    def __init__(self, record: BatchRecord, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.record = record

    def render(self) -> TimelineRenderable:
        lanes, span = lanes_for(self.record)
        names = ("label", "muted", "track", "done", "running", "failed", "cancelled", "refused")
        styles = {name: self.get_component_rich_style(f"timeline--{name}", partial=True) for name in names}
        return TimelineRenderable(lanes, span, styles)

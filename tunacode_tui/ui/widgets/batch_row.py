"""One batch in the tool activity pane: a header line and one line per call under it."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.style import Style
from textual.widget import Widget

from tunacode_tui.ui import format as fmt
from tunacode_tui.ui.activity import STATUS_ICONS, BatchRecord, BatchStatus, CallRecord, mode_label

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class BatchRow(Widget):
    """``#3  3 calls  PARALLEL  0.21s  overlap 2.8  ✓`` and its calls; ``speedup 1.2x`` replaces the
    overlap once the batch was re-run and measured. Status shows as a ``-running``, ``-done``, ``-failed`` or
    ``-cancelled`` class; ``-highlight`` marks the pane's cursor."""

    DEFAULT_CSS = """
    BatchRow {
        height: auto;
        padding: 0 1;
        & > .batch-row--header { text-style: bold; }
        & > .batch-row--mode { color: $accent; }
        & > .batch-row--muted { color: $text-muted; }
        & > .batch-row--ok { color: $text-success; }
        & > .batch-row--bad { color: $text-error; }
        & > .batch-row--warn { color: $text-warning; }
        & > .batch-row--running { color: $text-primary; }
        &:hover { background: $boost; }
    }
    ToolActivity:focus BatchRow.-highlight { background: $block-cursor-background; }
    """
    COMPONENT_CLASSES = {
        "batch-row--header", "batch-row--mode", "batch-row--muted", "batch-row--ok", "batch-row--bad",
        "batch-row--warn", "batch-row--running",
    }

    status: reactive[BatchStatus] = reactive("running")
    frame: reactive[int] = reactive(0)
    highlighted: reactive[bool] = reactive(False)

    class Clicked(Message):
        def __init__(self, row: BatchRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, record: BatchRecord) -> None:
        super().__init__(id=f"batch-{record.number}")
        self.record = record
        self._content_width = 0  # set on resize; 0 until the first layout
        self.set_reactive(BatchRow.status, record.status)

    def on_mount(self) -> None:
        self.watch_status(self.status)

    def watch_status(self, status: BatchStatus) -> None:
        for name in ("running", "done", "failed", "cancelled"):
            self.set_class(name == status, f"-{name}")

    def watch_highlighted(self, highlighted: bool) -> None:
        self.set_class(highlighted, "-highlight")

    def sync(self) -> None:
        """The record changed: show it."""
        self.status = self.record.status
        self.refresh(layout=True)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self))

    def _style(self, name: str) -> Style:
        return self.get_visual_style(f"batch-row--{name}", partial=True)

    def _status_mark(self, status: str) -> tuple[str, str]:
        if status == "running":
            return SPINNER[self.frame % len(SPINNER)], "running"
        kind = {"done": "ok", "failed": "bad"}.get(status, "warn")
        return STATUS_ICONS[status], kind

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # Layout asks for the height with the real content width before the first render: keep it, so the
        # first frame (a resumed session's rows, a new batch) is laid out at that width, not a guess.
        self._content_width = width
        return super().get_content_height(container, viewport, width)

    def on_resize(self, event: events.Resize) -> None:
        # Read the width here, not in render: ``self.size`` asks the screen's compositor for this widget's
        # region, which rebuilds its map of every widget after a scroll (seconds in a long session).
        width = event.size.width - self.styles.gutter.width
        if width != self._content_width:
            self._content_width = width
            self.refresh()

    def render(self) -> Content:
        record = self.record
        width = max(20, self._content_width or 40)
        noun = "call" if record.size == 1 else "calls"
        parts: list[tuple[str, Style] | str] = [(f"#{record.number}", self._style("header")),
                                                f"  {record.size} {noun}"]
        if mode := mode_label(record):
            parts.append("  ")
            parts.append((mode, self._style("mode")))
        mark, kind = self._status_mark(record.status)
        if record.status == "running":
            parts += ["  ", (f"{mark} running", self._style(kind))]
        else:
            parts.append(f"  {fmt.seconds(record.wall or 0.0)}")
            tail: list[tuple[str, Style] | str] = ["  ", (mark, self._style(kind))]
            if record.status == "cancelled":
                tail.append(("  cancelled", self._style("warn")))
            # On a narrow pane the figure shortens, then goes (the inspector shows it in full): a header that
            # wraps would push the calls out of line.
            for figure in self._figures(record):
                if Content.assemble(*parts, figure, *tail).cell_length <= width:
                    parts.append(figure)
                    break
            parts += tail
        lines = [Content.assemble(*parts)]
        calls = list(record.calls.values())
        name_width = max((len(c.name) for c in calls), default=0)
        for call in calls:
            lines.append(self._call_line(call, name_width, width))
        return Content("\n").join(lines)

    @staticmethod
    def _figures(record: BatchRecord) -> list[str]:
        """``speedup 1.2x`` once measured (``?`` when a file changed between runs), else ``overlap 2.8``;
        then their short forms, for a narrow pane."""
        measured = record.measured
        if measured is not None and measured.speedup is not None:
            doubt = "" if measured.reliable else "?"
            return [f"  speedup {measured.speedup:.1f}x{doubt}", f"  sp {measured.speedup:.1f}x{doubt}"]
        if record.size > 1 and record.overlap is not None:
            return [f"  overlap {record.overlap:.1f}", f"  ovl {record.overlap:.1f}"]
        return []

    def _call_line(self, call: CallRecord, name_width: int, width: int) -> Content:
        mark, kind = self._status_mark(call.status)
        timing = fmt.seconds(call.duration) if call.duration is not None else ""
        room = width - 4 - name_width - 2 - len(timing) - 2
        summary = fmt.fit_summary(call.summary, max(0, room))
        return Content.assemble(
            "  ",
            (mark, self._style(kind)),
            " ",
            call.name.ljust(name_width),
            "  ",
            (summary.ljust(max(0, room)), self._style("muted")),
            "  ",
            (timing, self._style("muted")),
        )

"""The batch inspector: a batch's timeline, then every call's arguments, result or error, and timings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from tunacode_tui.ui import format as fmt
from tunacode_tui.ui.activity import STATUS_ICONS, BatchRecord, CallRecord, mode_label
from tunacode_tui.ui.highlighting import highlight_diff, highlight_json, highlight_result
from tunacode_tui.ui.widgets.timeline import CallTimeline

# A result this long is shown in part: the model saw all of it, the inspector need not lay out megabytes.
MAX_RESULT_CHARS = 200_000


def batch_title(record: BatchRecord) -> str:
    noun = "call" if record.size == 1 else "calls"
    parts = [f"Batch #{record.number}", f"{record.size} {noun}"]
    if mode := mode_label(record):
        parts.append(mode)
    if record.wall is not None:
        parts.append(f"wall {fmt.seconds(record.wall)}")
        if record.span is not None and record.span - record.wall > 0.0005:
            parts.append(f"span {fmt.seconds(record.span)}")
        parts.append(f"busy {fmt.seconds(record.busy)}")
        if record.size > 1 and record.speedup is not None:
            parts.append(f"{record.speedup:.1f}x speedup")
    parts.append(record.status)
    return "  ·  ".join(parts)


def call_heading(call: CallRecord, origin: float) -> str:
    start = fmt.millis(call.started - origin)
    if call.ended is None:
        return f"{call.name}  {call.summary}  started at {start} ms  (running)"
    icon = STATUS_ICONS.get(call.status, "")
    return (f"{icon} {call.name}  {call.summary}  {start}–{fmt.millis(call.ended - origin)} ms "
            f"({fmt.millis(call.ended - call.started)} ms, {call.status})")


class CallDetails(Vertical):
    """One call: heading, arguments (JSON), result or error."""

    def __init__(self, call: CallRecord, origin: float) -> None:
        super().__init__(classes=f"call -{call.status}")
        self.call = call
        self.origin = origin

    def compose(self) -> ComposeResult:
        call = self.call
        yield Label(Content(call_heading(call, self.origin)), classes="call-heading")
        yield Label("Arguments", classes="section")
        yield Static(highlight_json(call.args), classes="arguments")
        if call.ended is None:
            return
        yield Label("Error" if call.error else "Result", classes="section")
        text = call.result[:MAX_RESULT_CHARS]
        body = highlight_result(call.name, call.args, text)
        yield Static(body, classes="error" if call.error else "result")
        if call.display:
            yield Label("Change", classes="section")
            yield Static(highlight_diff(call.display), classes="result")


class BatchInspectorScreen(Screen[None]):
    """Opened from the tool activity pane; Esc goes back. Kept up to date while the batch runs."""

    CSS_PATH = "batch_inspector.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, record: BatchRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        record = self.record
        origin, _ = record.axis()
        yield Header()
        yield Label(Content(batch_title(record)), id="batch-title")
        timeline = CallTimeline(record, id="timeline")
        timeline.border_title = "Timeline"
        yield timeline
        calls = VerticalScroll(id="calls")
        calls.border_title = "Calls"
        with calls:
            for call in record.calls.values():
                yield CallDetails(call, origin)
        yield Footer()

    def sync(self) -> None:
        """The batch changed while open: redraw (cheap; a batch has a handful of calls)."""
        self.call_next(self._rebuild)

    async def _rebuild(self) -> None:
        await self.recompose()

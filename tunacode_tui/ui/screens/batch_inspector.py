"""The batch inspector: a batch's timeline, then every call's arguments, result or error, and timings.

"Measure speedup" (m, or the button) re-runs a finished read-only batch one call at a time and all at once,
alternating, through the core's ``measure_batch``: the live ``overlap`` counts calls running together, and
only a re-run says whether that made anything finish sooner. Esc stops a running measurement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from tunacode_tui.core.events import BatchMeasured
from tunacode_tui.ui import format as fmt
from tunacode_tui.ui.activity import STATUS_ICONS, BatchRecord, CallRecord, mode_label
from tunacode_tui.ui.highlighting import highlight_diff, highlight_json, highlight_result
from tunacode_tui.ui.widgets.timeline import CallTimeline

if TYPE_CHECKING:
    from tunacode_tui.agent.loop import Agent

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
        if record.size > 1 and record.overlap is not None:
            parts.append(f"overlap {record.overlap:.1f}")
    parts.append(record.status)
    return "  ·  ".join(parts)


def _wall(seconds: float) -> str:
    """Re-runs of small batches take milliseconds: show a tenth of one, or seconds past one second."""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def measured_text(measured: BatchMeasured) -> str:
    """The re-run's result in one sentence: speedup, then the medians and spreads it comes from."""
    seq_low, seq_high = measured.spread("sequential")
    par_low, par_high = measured.spread("parallel")
    speedup = "n/a" if measured.speedup is None else f"{measured.speedup:.2f}x"
    text = (
        f"Measured speedup {speedup}: one at a time {_wall(measured.sequential_wall)} "
        f"({_wall(seq_low)}–{_wall(seq_high)}), all at once (cap {measured.cap}) "
        f"{_wall(measured.parallel_wall)} ({_wall(par_low)}–{_wall(par_high)}); "
        f"medians of {len(measured.walls('sequential'))} runs each."
    )
    if measured.changed:
        text += f" Unreliable: {', '.join(measured.changed)} changed between runs."
    return text


UNMEASURED_TEXT = ("Overlap counts calls running at once; it is not a speedup. "
                   "Measure speedup (m) re-runs these read-only calls to find out.")


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


class BatchBody(Vertical):
    """The timeline and the calls: what changes while the batch runs."""

    def __init__(self, record: BatchRecord, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.record = record

    def compose(self) -> ComposeResult:
        record = self.record
        origin, _ = record.axis()
        timeline = CallTimeline(record, id="timeline")
        timeline.border_title = "Timeline"
        yield timeline
        calls = VerticalScroll(id="calls")
        calls.border_title = "Calls"
        with calls:
            for call in record.calls.values():
                yield CallDetails(call, origin)


class BatchInspectorScreen(Screen[None]):
    """Opened from the tool activity pane; Esc goes back (or stops a running measurement). Kept up to date
    while the batch runs.

    ``agent`` makes "Measure speedup" possible (it publishes the result); ``busy`` says whether a
    turn runs now, when a re-run would compete with it for the machine."""

    CSS_PATH = "batch_inspector.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Go back; stops a running measurement first"),
        Binding("m", "measure", "Measure speedup",
                tooltip="Re-run the calls one at a time and all at once, 3 times each, and show the speedup"),
    ]

    def __init__(
        self,
        record: BatchRecord,
        *,
        agent: Agent | None = None,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__()
        self.record = record
        self.agent = agent
        self._busy = busy
        self._measuring: Worker[None] | None = None
        self._progress: tuple[int, int] = (0, 6)
        self._note = ""  # the last measurement's problem or cancellation, shown instead of the result

    @property
    def measuring(self) -> bool:
        worker = self._measuring
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def _why_not(self) -> str | None:
        """Why "Measure speedup" cannot run now, or None."""
        if self.agent is None:
            return "No session is open to run the calls in."
        if self.record.status == "running":
            return "The batch is still running."
        if self._busy():
            return "A request is running; measure when it ends, so the runs do not compete with it."
        from tunacode_tui.agent.measure import measurable

        return measurable(self.agent, self.record.number)

    def _measure_status(self) -> str:
        if self.measuring:
            done, total = self._progress
            return f"Measuring: run {min(done + 1, total)} of {total} (one at a time and all at once, alternating)…"
        if self._note:
            return self._note
        if self.record.measured is not None:
            return measured_text(self.record.measured)
        return UNMEASURED_TEXT

    def compose(self) -> ComposeResult:
        record = self.record
        yield Header()
        yield Label(Content(batch_title(record)), id="batch-title")
        with Horizontal(id="measure-bar"):
            yield Button("Measure speedup", id="measure", compact=True, disabled=self.measuring)
            done, total = self._progress
            bar = ProgressBar(total=total, show_eta=False, id="measure-progress")
            bar.progress = done
            bar.display = self.measuring
            yield bar
            yield Label(Content(self._measure_status()), id="measure-result")
        yield BatchBody(record, id="batch-body")
        yield Footer()

    def sync(self) -> None:
        """The batch changed while open: redraw the title, the measure bar and the calls (cheap; a batch has a
        handful of calls). Only the body is recomposed: the footer and the focus stay."""
        self.call_next(self._rebuild)

    async def _rebuild(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#batch-title", Label).update(Content(batch_title(self.record)))
        self._show_status()
        await self.query_one(BatchBody).recompose()

    # -- measuring ----------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.measuring:
            assert self._measuring is not None
            self._measuring.cancel()
            return
        self.app.pop_screen()

    @on(Button.Pressed, "#measure")
    def _measure_pressed(self) -> None:
        self.action_measure()

    def action_measure(self) -> None:
        if self.measuring:
            return
        reason = self._why_not()
        if reason is not None:
            self._note = f"Cannot measure: {reason}"
            self._show_status()
            return
        self._note = ""
        self._progress = (0, 6)
        self._measuring = self.run_worker(self._measure(), name="measure", group="measure", exclusive=True,
                                          description=f"measure batch #{self.record.number}", exit_on_error=False)
        self._show_status()

    async def _measure(self) -> None:
        from tunacode_tui.agent.measure import NotMeasurable, measure_batch

        assert self.agent is not None
        try:
            # The agent publishes the result: the journal records it and the main screen (the agent's sink)
            # updates the batch's row.
            await measure_batch(self.agent, self.record.number, progress=self._advance)
        except NotMeasurable as exc:
            self._note = f"Cannot measure: {exc}"
        except Exception as exc:  # a tool failing in a new way must not close the app
            self._note = f"The measurement failed ({type(exc).__name__}: {exc}); nothing was recorded."

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._measuring:
            return
        if event.state == WorkerState.CANCELLED:
            self._note = "Measurement cancelled (Esc): nothing was recorded. Press m to start again."
        self._show_status()
        if not self.measuring and self.focused is None:  # the button was disabled while it ran
            self.query_one("#measure", Button).focus()

    def _advance(self, done: int, total: int) -> None:
        self._progress = (done, total)
        self._show_status()

    def _show_status(self) -> None:
        """Update the measure bar in place (the rest of the screen is unchanged)."""
        if not self.is_mounted:
            return
        done, total = self._progress
        measuring = self.measuring
        for bar in self.query("#measure-progress").results(ProgressBar):
            bar.update(total=total, progress=done)
            bar.display = measuring
        for button in self.query("#measure").results(Button):
            button.disabled = measuring
        for label in self.query("#measure-result").results(Label):
            label.update(Content(self._measure_status()))

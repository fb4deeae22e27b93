"""The tool activity pane: every batch as it runs, its calls nested under it, newest at the bottom.

Up/Down move a cursor over the batches; Enter or a click opens the batch inspector.
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from tunacode_tui.ui.activity import BatchRecord
from tunacode_tui.ui.widgets.batch_row import BatchRow

MAX_ROWS = 200
EMPTY_TEXT = "No tool calls yet.\nRead-only calls run together in parallel batches; writes run alone."


class ToolActivity(VerticalScroll, can_focus=True):
    """Rows of ``BatchRow``; the spinner ticks only while something runs (and never when animations
    are off, which keeps snapshots still)."""

    DEFAULT_CSS = """
    ToolActivity {
        height: 1fr;
        scrollbar-size-vertical: 1;
        & > .tool-activity--empty { color: $text-muted; padding: 0 1; }
    }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Previous batch", show=False),
        Binding("down", "move(1)", "Next batch", show=False),
        Binding("enter", "inspect", "Inspect batch"),
    ]

    cursor: reactive[int | None] = reactive(None)
    """The highlighted batch number."""

    class BatchSelected(Message):
        """The user asked to inspect a batch."""

        def __init__(self, record: BatchRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[int, BatchRow] = {}
        self._frame = 0
        self._ticker: Timer | None = None

    def compose(self):
        yield Static(Content(EMPTY_TEXT), classes="tool-activity--empty")

    def on_mount(self) -> None:
        self.anchor()
        if self.app.animation_level != "none":
            self._ticker = self.set_interval(0.1, self._tick, pause=True)

    @property
    def rows(self) -> list[BatchRow]:
        return list(self._rows.values())

    def row(self, number: int) -> BatchRow | None:
        return self._rows.get(number)

    async def show_batch(self, record: BatchRecord) -> None:
        """Add the batch's row, or update it."""
        row = self._rows.get(record.number)
        if row is None:
            row = BatchRow(record)
            self._rows[record.number] = row
            self.query(".tool-activity--empty").remove()
            await self.mount(row)
            await self._prune()
            if self.cursor is None or not self.has_focus:
                self.cursor = record.number
        else:
            row.sync()
        self._update_ticker()

    async def _prune(self) -> None:
        excess = len(self._rows) - MAX_ROWS
        if excess > 0:
            doomed = list(self._rows)[:excess]
            await self.remove_children([self._rows.pop(n) for n in doomed])

    async def clear_batches(self) -> None:
        self._rows.clear()
        self.cursor = None
        await self.remove_children()
        await self.mount(Static(Content(EMPTY_TEXT), classes="tool-activity--empty"))
        self._update_ticker()

    # -- spinner ------------------------------------------------------------------------------
    def _update_ticker(self) -> None:
        if self._ticker is None:
            return
        if any(row.record.status == "running" for row in self._rows.values()):
            self._ticker.resume()
        else:
            self._ticker.pause()

    def _tick(self) -> None:
        self._frame += 1
        for row in self._rows.values():
            if row.record.status == "running":
                row.frame = self._frame

    # -- cursor -------------------------------------------------------------------------------
    def watch_cursor(self, old: int | None, new: int | None) -> None:
        if old is not None and (row := self._rows.get(old)) is not None:
            row.highlighted = False
        if new is not None and (row := self._rows.get(new)) is not None:
            row.highlighted = True
            self.scroll_to_widget(row, animate=False)

    def action_move(self, step: int) -> None:
        numbers = list(self._rows)
        if not numbers:
            return
        if self.cursor not in self._rows:
            self.cursor = numbers[-1]
            return
        index = numbers.index(self.cursor) + step
        self.cursor = numbers[max(0, min(len(numbers) - 1, index))]

    def action_inspect(self) -> None:
        if self.cursor is not None and (row := self._rows.get(self.cursor)) is not None:
            self.post_message(self.BatchSelected(row.record))

    @on(BatchRow.Clicked)
    def _row_clicked(self, event: BatchRow.Clicked) -> None:
        self.cursor = event.row.record.number
        self.post_message(self.BatchSelected(event.row.record))

"""``/model`` without a name: the catalog's models with their context window and price; type to filter."""

from __future__ import annotations

from textual import events, getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tunacode_tui.providers import catalog
from tunacode_tui.ui import format as fmt


def model_line(name: str, width: int) -> str:
    info = catalog.lookup(name)
    price = f"${info.price.input:g} / ${info.price.output:g}" if info.price else "price unknown"
    return f"{name.ljust(width)}  {fmt.tokens(info.context_window).rjust(9)}  {price}"


class ModelPickerScreen(ModalScreen[str | None]):
    """Dismisses with the chosen ``provider:model`` name, or None (Esc). A typed name not in the catalog
    can be chosen with Enter too."""

    CSS_PATH = "model_picker.tcss"
    AUTO_FOCUS = "#filter"
    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    filter = getters.query_one("#filter", Input)
    options = getters.query_one("#models", OptionList)

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        self.models = catalog.known_models()

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(Content(f"Choose a model (now: {self.current or 'none'})"), id="title")
            yield Input(placeholder="Filter, or type provider:model and press Enter", id="filter")
            yield Label("Model".ljust(self._width()) + "     window  $ per M tokens in / out", id="columns")
            yield OptionList(*self._options(""), id="models")

    def _width(self) -> int:
        return max((len(m) for m in self.models), default=20)

    def _options(self, text: str) -> list[Option]:
        needle = text.strip().lower()
        width = self._width()
        return [Option(model_line(name, width), id=name) for name in self.models if needle in name.lower()]

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.options.clear_options()
        self.options.add_options(self._options(event.value))
        if self.options.option_count:
            self.options.highlighted = 0

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        highlighted = self.options.highlighted
        if highlighted is not None and self.options.option_count:
            self.dismiss(self.options.get_option_at_index(highlighted).id)
        elif event.value.strip():
            self.dismiss(event.value.strip())

    @on(OptionList.OptionSelected, "#models")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event: events.Key) -> None:
        # Up/Down in the filter move through the list, so the list never needs focus.
        if event.key in ("up", "down") and self.filter.has_focus and self.options.option_count:
            event.stop()
            if event.key == "down":
                self.options.action_cursor_down()
            else:
                self.options.action_cursor_up()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

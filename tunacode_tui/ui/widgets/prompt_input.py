"""The multi-line prompt: Enter sends, Shift+Enter or Ctrl+J adds a line, Up/Down walk the history from
the first/last line, Tab completes slash commands and ``@path`` mentions."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from tunacode_tui.session.prompt_history import PromptHistory
from tunacode_tui.ui.completion import Completion, complete


class PromptInput(TextArea):
    """A ``TextArea`` that submits on Enter. Completion candidates are announced with
    ``CompletionsChanged`` (the screen shows them in a menu); the chosen one is the ghost suggestion."""

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 12;
        border: round $primary 50%;
        padding: 0 1;
        &:focus { border: round $primary; }
        &.-busy { border: round $accent 60%; }
        &.-busy:focus { border: round $accent; }
    }
    """

    BINDINGS = [
        Binding("tab", "accept_completion", "Complete", show=False),
        Binding("shift+enter,ctrl+j", "newline", "New line", show=False),
    ]

    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

        @property
        def control(self) -> PromptInput:
            return self.prompt

    class CompletionsChanged(Message):
        """The candidates (possibly none) and which one is chosen."""

        def __init__(self, prompt: PromptInput, candidates: list[str], chosen: int) -> None:
            super().__init__()
            self.prompt = prompt
            self.candidates = candidates
            self.chosen = chosen

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(self, *, root: Path, id: str | None = None, placeholder: str = "",
                 history: PromptHistory | None = None) -> None:
        super().__init__(
            id=id, soft_wrap=True, tab_behavior="focus", show_line_numbers=False, compact=False,
            highlight_cursor_line=False, placeholder=placeholder,
        )
        self.root = root
        # Not ``history``: TextArea's undo history has that name.
        # Shared with ``history`` (kept across sessions for this project) when one is given.
        self._saved_history = history
        self.prompt_history: list[str] = history.entries if history is not None else []
        self._history_index: int | None = None
        self._draft = ""
        self._completion: Completion | None = None
        self._chosen = 0

    # -- completion ---------------------------------------------------------------------------
    @property
    def candidates(self) -> list[str]:
        return self._completion.candidates if self._completion else []

    def update_suggestion(self) -> None:
        """TextArea's hook after each edit: recompute the candidates at the cursor."""
        if not self.is_mounted:
            return
        row, column = self.cursor_location
        before = self.document.get_text_range((row, 0), (row, column))
        if row > 0:
            before = "\n" + before  # a command is only a command on the first line
        completion = complete(before, self.text, self.root)
        previous = self.candidates
        self._completion = completion
        if self.candidates != previous:
            self._chosen = 0
        self._show_choice()

    def _show_choice(self) -> None:
        completion = self._completion
        if completion is None or not completion.candidates:
            self.suggestion = ""
        else:
            row, column = self.cursor_location
            typed = self.document.get_text_range((row, column - completion.length), (row, column))
            chosen = completion.candidates[self._chosen]
            self.suggestion = chosen[len(typed):] if chosen.startswith(typed) else ""
        self.post_message(self.CompletionsChanged(self, self.candidates, self._chosen))

    def dismiss_completions(self) -> bool:
        if not self.candidates:
            return False
        self._completion = None
        self._show_choice()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept_completion":
            return bool(self.candidates)  # otherwise Tab falls through to "next pane"
        return super().check_action(action, parameters)

    def action_accept_completion(self) -> None:
        completion = self._completion
        if completion is None or not completion.candidates:
            return
        row, column = self.cursor_location
        chosen = completion.candidates[self._chosen]
        self._completion = None
        self.replace(chosen, (row, column - completion.length), (row, column))
        # A folder or a command that takes arguments: keep completing from here.
        self.update_suggestion()

    def choose(self, index: int) -> None:
        if self.candidates:
            self._chosen = index % len(self.candidates)
            self._show_choice()

    # -- keys ---------------------------------------------------------------------------------
    async def on_key(self, event: events.Key) -> None:
        """Enter and Esc are the prompt's; every other key goes on to ``TextArea`` (the next handler in the MRO)."""
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.candidates:
                self.action_accept_completion()
            else:
                self.submit()
            return
        if event.key == "escape" and self.dismiss_completions():
            event.stop()
            event.prevent_default()
            return

    def action_newline(self) -> None:
        self.insert("\n")

    def submit(self) -> None:
        text = self.text.strip()
        if not text:
            return
        if self._saved_history is not None:
            self._saved_history.add(text)
            self.prompt_history = self._saved_history.entries
        elif not self.prompt_history or self.prompt_history[-1] != text:
            self.prompt_history.append(text)
        self._history_index = None
        self._draft = ""
        self.clear()
        self.post_message(self.Submitted(self, text))

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and len(self.candidates) > 1:
            self.choose(self._chosen - 1)
        elif not select and self.cursor_at_first_line and self.prompt_history:
            self._recall(-1)
        else:
            super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and len(self.candidates) > 1:
            self.choose(self._chosen + 1)
        elif not select and self.cursor_at_last_line and self._history_index is not None:
            self._recall(1)
        else:
            super().action_cursor_down(select)

    def _recall(self, step: int) -> None:
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.text
            index = len(self.prompt_history) - 1
        else:
            index = self._history_index + step
        if index < 0:
            return
        if index >= len(self.prompt_history):
            self._history_index = None
            self.load_text(self._draft)
        else:
            self._history_index = index
            self.load_text(self.prompt_history[index])
        self.move_cursor(self.document.end)

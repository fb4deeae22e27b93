"""The completion candidates under the prompt, the chosen one highlighted; hidden when there are none."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tunacode_tui.ui.commands import BY_NAME

VISIBLE = 8


class CompletionMenu(Widget):
    """Never takes focus: the prompt keeps it, and Up/Down/Tab/Enter there drive this menu."""

    DEFAULT_CSS = """
    CompletionMenu {
        width: 1fr;
        height: auto;
        max-height: 9;
        padding: 0 1;
        background: $panel;
        display: none;
        &.-open { display: block; }
        & > .completion-menu--chosen { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .completion-menu--more { color: $text-muted; }
    }
    """
    COMPONENT_CLASSES = {"completion-menu--chosen", "completion-menu--more"}

    candidates: reactive[tuple[str, ...]] = reactive((), layout=True)
    chosen: reactive[int] = reactive(0)

    def show(self, candidates: list[str], chosen: int) -> None:
        self.candidates = tuple(candidates)
        self.chosen = chosen

    def watch_candidates(self, candidates: tuple[str, ...]) -> None:
        self.set_class(bool(candidates), "-open")

    def render(self) -> Content:
        candidates = self.candidates
        if not candidates:
            return Content("")
        # Scroll the window so the chosen candidate is always visible.
        top = max(0, min(self.chosen - VISIBLE + 1, len(candidates) - VISIBLE)) if self.chosen >= VISIBLE else 0
        shown = candidates[top : top + VISIBLE]
        chosen_style = self.get_visual_style("completion-menu--chosen", partial=True)
        help_style = self.get_visual_style("completion-menu--more", partial=True)
        width = self.size.width
        name_width = max(len(text) for text in shown)
        lines = []
        for i, text in enumerate(shown):
            command = BY_NAME.get(text)  # a command: say what it does
            line = Content.assemble(text.ljust(name_width), ("  " + command.help, help_style) if command else "")
            chosen = top + i == self.chosen
            line = line.truncate(width, ellipsis=True, pad=chosen)
            lines.append(line.stylize(chosen_style) if chosen else line)
        hidden = len(candidates) - len(shown)
        if hidden > 0:
            more = self.get_visual_style("completion-menu--more", partial=True)
            lines.append(Content.styled(f"… {hidden} more (Up/Down)", more))
        return Content("\n").join(lines)

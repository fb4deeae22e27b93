"""The context gauge: how full the model's context window is, and what the session has cost so far."""

from __future__ import annotations

from typing import Any, Literal

from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from tunacode_tui.ui import format as fmt

Level = Literal["green", "amber", "red"]

FULL = "█"
EMPTY = "░"


def level_for(fraction: float) -> Level:
    """Green below half full, amber up to 80%, red from 80% (auto-compaction is near)."""
    if fraction >= 0.8:
        return "red"
    if fraction >= 0.5:
        return "amber"
    return "green"


class ContextGauge(Widget):
    """``Context: ████████░░ 80% (160,000/200,000 tokens)``, the model, and turn and session totals."""

    DEFAULT_CSS = """
    ContextGauge {
        height: auto;
        padding: 0 1;
        & > .context-gauge--bar { color: $success; }
        & > .context-gauge--label { color: $text-muted; }
        &.-amber > .context-gauge--bar { color: $warning; }
        &.-red > .context-gauge--bar { color: $error; }
        &.-red > .context-gauge--percent { color: $error; text-style: bold; }
    }
    """
    COMPONENT_CLASSES = {"context-gauge--bar", "context-gauge--label", "context-gauge--percent"}

    used: reactive[int] = reactive(0, layout=True)
    window: reactive[int] = reactive(0, layout=True)
    model: reactive[str] = reactive("", layout=True)
    turn_tokens: reactive[int] = reactive(0, layout=True)
    turn_cost: reactive[float | None] = reactive(0.0, layout=True)
    total_tokens: reactive[int] = reactive(0, layout=True)
    total_cost: reactive[float | None] = reactive(0.0, layout=True)
    level: reactive[Level] = reactive("green")
    # What was done to keep the conversation in the window this session ("" until something was).
    trimmed: reactive[str] = reactive("", layout=True)

    @property
    def fraction(self) -> float:
        return min(1.0, self.used / self.window) if self.window > 0 else 0.0

    def show_context(self, used: int, window: int) -> None:
        self.used = used
        self.window = window

    def show_usage(
        self, turn_tokens: int, turn_cost: float | None, total_tokens: int, total_cost: float | None
    ) -> None:
        self.turn_tokens = turn_tokens
        self.turn_cost = turn_cost
        self.total_tokens = total_tokens
        self.total_cost = total_cost

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trims: dict[str, int] = {}

    def note_trim(self, kind: str, count: int) -> None:
        """Count a ``ContextTrimmed``: outputs cleared, summaries written, turns dropped, results cut."""
        self._trims[kind] = self._trims.get(kind, 0) + (1 if kind == "compacted" else count)

        def phrase(kind: str, noun: str, verb: str) -> str | None:
            n = self._trims.get(kind, 0)
            return f"{n:,} {noun}{'s' * (n != 1)} {verb}" if n else None

        parts = [
            phrase("cleared", "output", "cleared"),
            f"compacted {self._trims['compacted']}×" if self._trims.get("compacted") else None,
            phrase("dropped", "message", "dropped"),
            phrase("truncated", "result", "cut"),
        ]
        self.trimmed = ", ".join(p for p in parts if p)

    def watch_used(self) -> None:
        self.level = level_for(self.fraction)

    def watch_window(self) -> None:
        self.level = level_for(self.fraction)

    def watch_level(self, level: Level) -> None:
        for name in ("green", "amber", "red"):
            self.set_class(name == level, f"-{name}")

    def on_mount(self) -> None:
        self.watch_level(self.level)

    def render(self) -> Content:
        return Content("\n").join(self._lines(self.size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # How many lines depends on the width (narrow panes wrap the figures), so say so to the layout.
        return len(self._lines(width))

    def _lines(self, width: int) -> list[Content]:
        label = self.get_visual_style("context-gauge--label", partial=True)
        bar_style = self.get_visual_style("context-gauge--bar", partial=True)
        percent_style = self.get_visual_style("context-gauge--percent", partial=True)
        numbers = f"({fmt.tokens(self.used)}/{fmt.tokens(self.window)} tokens)"
        percent = f"{self.fraction:.0%}"
        # The bar takes what the numbers leave (10 to 20 cells); too narrow and the numbers go below.
        fixed = len("Context: ") + 1 + len(percent) + 1 + len(numbers)
        one_line = width >= fixed + 10
        bar_width = min(20, width - fixed) if one_line else 10
        filled = round(self.fraction * bar_width)
        bar = Content.assemble(
            ("Context: ", label),
            (FULL * filled, bar_style),
            (EMPTY * (bar_width - filled), bar_style),
            " ",
            (percent, percent_style),
        )
        lines = [bar.append(" " + numbers)] if one_line else [bar, Content(numbers)]
        lines.append(Content.assemble(("Model: ", label), self.model or "—"))
        if self.trimmed:
            lines.append(Content.assemble(("Trimmed: ", label), self.trimmed))
        turn = Content.assemble(("Tokens: ", label), f"{fmt.tokens(self.turn_tokens)} ({fmt.cost(self.turn_cost)})")
        total = Content.assemble(("Total: ", label), f"{fmt.tokens(self.total_tokens)} ({fmt.cost(self.total_cost)})")
        if len(turn) + 3 + len(total) <= width:
            lines.append(Content.assemble(turn, (" | ", label), total))
        else:
            lines += [turn, total]
        return lines

"""Small formatting helpers shared by the widgets: token counts, durations, costs."""

from __future__ import annotations

from tunacode_tui.core.state import SessionState
from tunacode_tui.providers.catalog import format_cost


def tokens(count: int) -> str:
    return f"{count:,}"


def seconds(value: float) -> str:
    """``0.21s``, ``12.4s``, ``2m 05s``: short and stable-width enough for a table column."""
    if value < 10:
        return f"{value:.2f}s"
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes}m {rest:02d}s"


def millis(value: float) -> str:
    return f"{value * 1000:.0f}"


def cost(value: float | None) -> str:
    """``≈$0.0073`` or ``cost unknown``: a price we do not know is never shown as a number."""
    return "cost unknown" if value is None else f"≈{format_cost(value)}"


def fit_summary(summary: str, limit: int) -> str:
    """Shorten a call summary like ``file_path=tunacode_tui/config/loader.py`` from the middle of its value,
    keeping the key and the end (the file name is what tells calls apart)."""
    flat = " ".join(summary.split())
    if len(flat) <= limit:
        return flat
    if limit < 2:
        return flat[:limit]
    key, sep, value = flat.partition("=")
    if not sep or len(key) + 3 > limit:
        return flat[: limit - 1] + "…"
    return f"{key}=…{value[-(limit - len(key) - 2):]}"


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)] + "…"


def request_summary(state: SessionState) -> str:
    """One line on what the model requests cost, with the compaction summaries named apart, so a user sees
    that a paid compaction is in the totals (it is a request like any other)."""
    line = f"{state.requests} model requests, {tokens(state.usage.total_tokens)} tokens, {cost(state.cost.value)}"
    if state.compactions:
        line += (f"; {state.compactions} of them compaction summaries: "
                 f"{tokens(state.compaction_usage.total_tokens)} tokens, {cost(state.compaction_cost.value)}")
    return line + "."

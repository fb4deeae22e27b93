"""Widgets and models on their own: the gauge's levels, the activity model, the timeline, pruning, and the
worker spawner's cancellation semantics."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget

from tunacode_tui.core.events import BatchFinished, BatchGrew, BatchStarted, ToolCallFinished, ToolCallStarted
from tunacode_tui.ui.activity import ActivityLog
from tunacode_tui.ui.spawner import WorkerSpawner
from tunacode_tui.ui.widgets.chat_log import ChatLog
from tunacode_tui.ui.widgets.context_gauge import ContextGauge, level_for
from tunacode_tui.ui.widgets.timeline import TimelineRenderable, lanes_for


class Harness(App[None]):
    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self.widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self.widgets


@pytest.mark.parametrize(
    ("used", "level"), [(80_000, "green"), (100_000, "amber"), (120_000, "amber"), (160_000, "red"), (180_000, "red")]
)
async def test_gauge_colour_classes(used: int, level: str) -> None:
    gauge = ContextGauge()
    async with Harness(gauge).run_test(size=(80, 8)) as pilot:
        gauge.show_context(used, 200_000)
        await pilot.pause()
        assert gauge.has_class(f"-{level}")
        assert [c for c in ("-green", "-amber", "-red") if gauge.has_class(c)] == [f"-{level}"]


async def test_gauge_text() -> None:
    gauge = ContextGauge()
    async with Harness(gauge).run_test(size=(80, 8)) as pilot:
        gauge.show_context(160_000, 200_000)
        gauge.model = "anthropic:claude-sonnet-4-5"
        gauge.show_usage(2451, 0.0073, 45234, None)
        await pilot.pause()
        lines = str(gauge.render()).splitlines()
        assert lines[0].startswith("Context: ")
        assert lines[0].endswith(" 80% (160,000/200,000 tokens)")
        filled, empty = lines[0].count("█"), lines[0].count("░")
        assert filled == round(0.8 * (filled + empty))
        assert lines[1] == "Model: anthropic:claude-sonnet-4-5"
        assert lines[2] == "Tokens: 2,451 (≈$0.0073) | Total: 45,234 (cost unknown)"


async def test_gauge_says_what_was_trimmed_to_fit_the_window() -> None:
    gauge = ContextGauge()
    async with Harness(gauge).run_test(size=(80, 8)) as pilot:
        gauge.show_context(3000, 4096)
        await pilot.pause()
        assert not any(line.startswith("Trimmed:") for line in str(gauge.render()).splitlines())
        gauge.note_trim("cleared", 3)
        gauge.note_trim("compacted", 1)
        gauge.note_trim("cleared", 2)
        gauge.note_trim("truncated", 1)
        await pilot.pause()
        lines = str(gauge.render()).splitlines()
        assert "Trimmed: 5 outputs cleared, compacted 1×, 1 result cut" in lines


def test_levels_at_the_thresholds() -> None:
    assert [level_for(f) for f in (0.4, 0.49, 0.5, 0.6, 0.79, 0.8, 0.9, 1.0)] == [
        "green", "green", "amber", "amber", "amber", "red", "red", "red"]


def make_batch() -> ActivityLog:
    log = ActivityLog(lambda name, args: f"path={args['path']}")
    log.apply(BatchStarted(1, 1, True, 10.0))
    log.apply(ToolCallStarted(1, "x", "read_file", {"path": "a"}, 10.0))
    log.apply(BatchGrew(1, 2, 10.01))
    log.apply(ToolCallStarted(1, "y", "read_file", {"path": "b"}, 10.02))
    log.apply(ToolCallFinished(1, "x", "read_file", {"path": "a"}, True, "A", None, 10.0, 10.12))
    log.apply(ToolCallFinished(1, "y", "read_file", {"path": "b"}, False, "Error: no", None, 10.02, 10.10, "failed"))
    log.apply(BatchFinished(1, 2, True, 10.0, 10.12, 0.2, "failed"))
    return log


def test_activity_log_builds_batches_from_events() -> None:
    record = make_batch().batches[1]
    assert (record.size, record.status, record.wall) == (2, "failed", pytest.approx(0.12))
    assert record.overlap == pytest.approx(0.2 / 0.12)
    assert [c.summary for c in record.calls.values()] == ["path=a", "path=b"]
    assert record.calls["y"].error == "Error: no" and record.calls["x"].error is None


def test_settle_marks_what_still_runs_as_cancelled() -> None:
    log = ActivityLog()
    log.apply(BatchStarted(3, 2, True, 1.0))
    log.apply(ToolCallStarted(3, "a", "grep", {}, 1.0))
    log.apply(ToolCallFinished(3, "a", "grep", {}, True, "", None, 1.0, 1.5))
    log.apply(ToolCallStarted(3, "b", "grep", {}, 1.1))
    [record] = log.settle(2.0)
    assert record.status == "cancelled" and record.calls["b"].status == "cancelled"
    assert record.ended == 2.0 and log.settle(3.0) == []


def test_timeline_draws_overlap_on_a_shared_axis() -> None:
    lanes, span = lanes_for(make_batch().batches[1])
    assert span == pytest.approx(0.12)
    styles = {name: None for name in ("label", "muted", "track", "done", "running", "failed", "cancelled", "refused")}
    from rich.console import Console

    console = Console(width=60, record=True, color_system=None)
    console.print(TimelineRenderable(lanes, span, styles))  # type: ignore[arg-type]
    text = console.export_text().splitlines()
    assert text[0].startswith("read_file path=a │█") and text[0].endswith("0–120 ms")
    assert text[1].startswith("read_file path=b │ ") and text[1].endswith("20–100 ms")
    bar_a, bar_b = text[0].split("│")[1], text[1].split("│")[1]
    assert bar_a.strip(" ") == bar_a.rstrip(" ")  # a starts at 0
    assert bar_b.index("█") > 0 and len(bar_b.rstrip()) < len(bar_a.rstrip())
    assert text[2].strip().startswith("0 ms") and text[2].strip().endswith("120 ms")


async def test_chat_keeps_at_most_max_blocks_mounted() -> None:
    chat = ChatLog(max_blocks=5)
    async with Harness(chat).run_test(size=(80, 20)) as pilot:
        for n in range(12):
            await chat.add_notice(f"note {n}")
        await pilot.pause()
        assert len(chat.blocks) == 5
        assert chat.pruned == 7
        assert "7 earlier blocks hidden" in str(chat.children[0].render())


async def test_spawner_wait_never_swallows_the_callers_cancellation() -> None:
    """Esc cancels the agent while it waits on tool workers: that cancellation must reach the agent."""

    async with Harness().run_test() as pilot:
        spawner = WorkerSpawner(pilot.app)
        gate = asyncio.Event()

        async def slow_tool() -> None:
            await gate.wait()

        call = spawner.spawn(slow_tool(), batch=1, description="slow")
        assert call.worker.group == "batch-1"
        waiter = asyncio.ensure_future(call.wait())
        await asyncio.sleep(0.01)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        # The tool goes on until cancelled itself; then wait() returns without raising.
        assert call.worker.is_running
        call.cancel()
        await asyncio.wait_for(call.wait(), 2)
        assert call.worker.is_cancelled

        async def broken_tool() -> None:
            raise RuntimeError("boom")

        failing = spawner.spawn(broken_tool(), batch=2, description="broken")
        await asyncio.wait_for(failing.wait(), 2)  # a failed worker does not raise either


@pytest.mark.parametrize("width", [34, 72])
async def test_batch_rows_are_laid_out_at_their_real_width_on_first_render(width: int) -> None:
    """Before any resize (a resumed session shows its batches at once): each call line fills the row and
    its timing ends at the right edge, at the pane's width, not a 40-column guess."""
    from tunacode_tui.ui.activity import BatchRecord, CallRecord
    from tunacode_tui.ui.widgets.tool_activity import ToolActivity

    record = BatchRecord(1, 2, True, 0.0, 0.5, 0.9, "done", active=0.5)
    for n, name in enumerate(("read_file", "grep")):
        record.calls[f"c{n}"] = CallRecord(f"c{n}", name, {}, f"file_path=src/module_{n}/deep/file.py", 0.0,
                                           0.25 + n * 0.2, "done")
    activity = ToolActivity()
    activity.styles.width = width
    async with Harness(activity).run_test(size=(100, 12)) as pilot:
        await activity.show_batch(record)
        await pilot.pause()
        row = activity.row(1)
        assert row is not None
        inner = row.outer_size.width - row.styles.gutter.width
        assert inner > 0
        height = row.outer_size.height
        for y in (height - 2, height - 1):  # the call lines (a narrow pane may wrap the header)
            line = row.render_line(y).text.rstrip()
            assert len(line) == inner, (width, line)
            assert line.endswith(("0.25s", "0.45s"))

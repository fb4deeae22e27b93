"""Honest batch figures in the app: the live figure is an overlap, "Measure speedup" in the batch inspector
re-runs the batch (Esc cancels it), the result is journaled, and a resumed session shows the same figures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from textual.widgets import Footer

from tests.fake_llm_server import FakeLLMServer, text, tool_call, usage
from tests.ui.helpers import SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import TurnEnded
from tunacode_tui.tools.base import ToolContext, ToolOutput
from tunacode_tui.tools.read_file import ReadFileTool
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.screens.batch_inspector import BatchInspectorScreen
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage
from tunacode_tui.ui.widgets.notice_block import NoticeBlock

WIDE = (160, 40)


def three_reads(server: FakeLLMServer, *, delay: float = 0.0) -> None:
    # With a delay between SSE events the reads start while the model still streams the next call: the
    # batch's wall (time a call ran) is then much less than its span (first start to last end).
    server.add(*[tool_call("read_file", {"file_path": f"{n}.py"}) for n in "abc"], usage(input=900, output=20),
               delay=delay)
    server.add(text("All read."), usage(input=1000, output=10))


def journal_records(path: Path, kind: str) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, path.read_text().splitlines()) if r.get("type") == kind]


def figures(screen: Any) -> list[tuple[int, int, float | None, float | None, float | None]]:
    return [(r.number, r.size, r.wall, r.busy, r.overlap) for r in screen.activity_log.batches.values()]


async def open_inspector(pilot: Any, number: int) -> BatchInspectorScreen:
    screen = main_screen(pilot.app)
    screen.activity.focus()
    screen.activity.cursor = number
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BatchInspectorScreen), "the batch inspector")
    inspector = pilot.app.screen
    assert isinstance(inspector, BatchInspectorScreen)
    return inspector


def status_text(inspector: BatchInspectorScreen) -> str:
    return str(inspector.query_one("#measure-result").render())


async def test_measure_speedup_in_the_inspector_is_journaled_and_resumed(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    three_reads(llm_server, delay=0.03)
    first = make_app(config, root=project)
    # Wide enough for the row's full figure ("overlap 2.9", "speedup 12.3x"): it shortens on narrow panes.
    async with first.run_test(size=WIDE, message_hook=recorder) as pilot:
        await send(pilot, "read a, b and c")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn")
        screen = main_screen(first)
        live = figures(screen)
        assert [(n, size) for n, size, *_ in live] == [(1, 3)]
        row = screen.activity.row(1)
        header = str(row.render()).splitlines()[0] if row is not None else ""
        assert "overlap" in header and "speedup" not in header

        inspector = await open_inspector(pilot, 1)
        shown = {key: a.binding.description for key, a in pilot.app.active_bindings.items() if a.binding.show}
        assert shown.get("m") == "Measure speedup"  # the key the footer lists
        assert "overlap" in str(inspector.query_one("#batch-title").render())
        assert "not a speedup" in status_text(inspector)
        await pilot.press("m")
        await wait_for(pilot, lambda: inspector.record.measured is not None and not inspector.measuring,
                       "the measurement", timeout=30)
        measured = inspector.record.measured
        assert measured is not None and measured.reliable and len(measured.runs) == 6
        assert "Measured speedup" in status_text(inspector)
        # The screen updated in place: its footer still lists the keys (a full recompose emptied it).
        assert inspector.query_one(Footer).children, "the footer lists no key"
        header = str(row.render()).splitlines()[0]
        assert "speedup" in header and "overlap" not in header
        await pilot.press("escape")
        await wait_for(pilot, lambda: first.screen is screen, "the main screen")
        await send(pilot, "/analytics tools")
        await wait_for(pilot, lambda: any("Tool analytics" in m.source for m in screen.chat.query(AssistantMessage)),
                       "the analytics")
        table = screen.chat.query(AssistantMessage).last().source
        assert "mean overlap" in table and f"#1 {measured.speedup:.2f}×" in table
    assert first.journal is not None
    [record] = journal_records(first.journal.path, "batch_measured")
    assert record["batch"] == 1 and [r["mode"] for r in record["runs"]] == ["sequential", "parallel"] * 3
    assert record["speedup"] == round(measured.speedup or 0, 3)
    assert "speedup" not in journal_records(first.journal.path, "batch")[0]

    again = make_app(config, root=project, continue_latest=True)
    async with again.run_test(size=SIZE) as pilot:
        screen = main_screen(again)
        await wait_for(pilot, lambda: screen.chat.query(NoticeBlock), "the resumed notice")
        resumed = figures(screen)
        # The same batches, numbered as they were live, with the same wall, busy time and overlap.
        assert [(n, size) for n, size, *_ in resumed] == [(n, size) for n, size, *_ in live]
        for (_, _, wall, busy, overlap), (_, _, live_wall, live_busy, live_overlap) in zip(resumed, live, strict=True):
            assert abs(wall - live_wall) < 1e-5 and abs(busy - live_busy) < 1e-5
            assert abs(overlap - live_overlap) < 0.01 * live_overlap
        record_after = screen.activity_log.batches[1]
        assert record_after.measured is not None and record_after.measured.speedup is not None
        assert abs(record_after.measured.speedup - (measured.speedup or 0)) < 0.01 * (measured.speedup or 1)
        inspector = await open_inspector(pilot, 1)
        assert "Measured speedup" in status_text(inspector)


class StuckRead(ReadFileTool):
    """read_file whose re-runs wait on a disk that never answers, until the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        self.started.set()
        await self.release.wait()
        return await super().run(args, ctx)


async def test_escape_cancels_a_running_measurement(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    three_reads(llm_server)
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, "read a, b and c")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn")
        screen = main_screen(app)
        assert screen.agent is not None
        stuck = StuckRead()
        screen.agent.tools["read_file"] = stuck
        inspector = await open_inspector(pilot, 1)
        await pilot.click("#measure")
        await wait_for(pilot, lambda: stuck.started.is_set(), "the first re-run")
        assert inspector.measuring and "Measuring" in status_text(inspector)
        assert inspector.query_one("#measure-progress").display
        await pilot.press("escape")
        await wait_for(pilot, lambda: not inspector.measuring, "the cancellation")
        assert app.screen is inspector, "Esc stops the measurement first; it does not leave the inspector"
        assert "cancelled" in status_text(inspector)
        assert inspector.record.measured is None and screen.agent.state.measurements == {}
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "the main screen")
    assert app.journal is not None and journal_records(app.journal.path, "batch_measured") == []


async def test_resume_after_clear_shows_the_rows_the_pane_showed(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    three_reads(llm_server, delay=0.03)
    llm_server.add(tool_call("grep", {"pattern": "print"}), tool_call("glob", {"pattern": "*.py"}),
                   usage(input=900, output=20))
    llm_server.add(text("Found."), usage(input=1000, output=10))
    first = make_app(config, root=project)
    async with first.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, "read a, b and c")
        await wait_for(pilot, lambda: len(recorder.events(TurnEnded)) == 1, "the first turn")
        await send(pilot, "/clear")
        screen = main_screen(first)
        await wait_for(pilot, lambda: not screen.activity.rows, "the cleared pane")
        await send(pilot, "find the prints")
        await wait_for(pilot, lambda: len(recorder.events(TurnEnded)) == 2, "the second turn")
        live = figures(screen)
        assert [(n, size) for n, size, *_ in live] == [(2, 2)]

    again = make_app(config, root=project, continue_latest=True)
    async with again.run_test(size=SIZE) as pilot:
        screen = main_screen(again)
        await wait_for(pilot, lambda: screen.chat.query(NoticeBlock), "the resumed notice")
        resumed = figures(screen)
        assert [(n, size) for n, size, *_ in resumed] == [(2, 2)], "the same rows, numbered as live"
        assert abs((resumed[0][4] or 0) - (live[0][4] or 0)) < 0.01 * (live[0][4] or 1)
        assert screen.agent is not None and len(screen.agent.state.batches) == 2  # /analytics still counts both
        assert screen.agent.state.next_batch == 3

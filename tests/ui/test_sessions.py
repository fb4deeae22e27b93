"""Sessions in the app: every run is journaled; --continue brings the conversation and its activity back."""

from __future__ import annotations

from pathlib import Path

from tests.fake_llm_server import FakeLLMServer, text, tool_call, usage
from tests.ui.helpers import SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import TurnEnded
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage
from tunacode_tui.ui.widgets.notice_block import NoticeBlock
from tunacode_tui.ui.widgets.user_message import UserMessage


async def test_continue_restores_the_last_conversation(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(tool_call("read_file", {"file_path": "a.py"}), tool_call("read_file", {"file_path": "b.py"}),
                   usage(input=900, output=20))
    llm_server.add(text("Both read."), usage(input=1000, output=10))
    first = make_app(config, root=project)
    async with first.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, "read a and b")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the first turn")
    assert first.journal is not None and first.journal.path.exists()

    again = make_app(config, root=project, continue_latest=True)
    async with again.run_test(size=(160, 40)) as pilot:  # wider: the side pane is not 40 columns inside
        screen = main_screen(again)
        await wait_for(pilot, lambda: screen.chat.query(NoticeBlock), "the resumed notice")
        assert [u.prompt for u in screen.chat.query(UserMessage)] == ["read a and b"]
        assert [m.source for m in screen.chat.query(AssistantMessage)] == ["Both read."]
        assert "Resumed session" in screen.chat.query(NoticeBlock).last().text
        row = screen.activity.row(1)
        assert row is not None and len(row.record.calls) == 2
        await pilot.pause()
        # Laid out at the pane's width at once, not at 40 columns until a resize.
        inner = row.outer_size.width - row.styles.gutter.width
        assert len(row.render_line(row.outer_size.height - 1).text.rstrip()) == inner
        assert screen.agent is not None and screen.agent.state.usage.total_tokens == 1930
        assert again.journal is not None and again.journal.path == first.journal.path


async def test_continue_without_a_session_starts_fresh(config: Config, project: Path) -> None:
    app = make_app(config, root=project, continue_latest=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: screen.chat.query(NoticeBlock), "a notice")
        assert "No saved session" in screen.chat.query_one(NoticeBlock).text
        assert screen.agent is not None


async def test_resume_command_lists_and_reopens_and_export_writes_markdown(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("The first answer."), usage(input=100, output=5))
    first = make_app(config, root=project)
    async with first.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, "first question")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the first turn")
    assert first.journal is not None
    first_id = first.journal.id

    second = make_app(config, root=project)
    async with second.run_test(size=SIZE) as pilot:
        screen = main_screen(second)
        await send(pilot, "/resume")
        await wait_for(pilot, lambda: any(first_id in m.source for m in screen.chat.query(AssistantMessage)),
                       "the session list")
        await send(pilot, f"/resume {first_id}")
        await wait_for(pilot, lambda: main_screen(second) is not screen and main_screen(second).query("#chat"),
                       "the resumed screen")
        resumed = main_screen(second)
        await wait_for(pilot, lambda: resumed.chat.query(UserMessage), "the old prompt")
        assert [u.prompt for u in resumed.chat.query(UserMessage)] == ["first question"]
        assert second.journal is not None and second.journal.id == first_id
        await send(pilot, "/export notes/out.md")
        await wait_for(pilot, lambda: (project / "notes/out.md").exists(), "the export")
    exported = (project / "notes/out.md").read_text()
    assert "first question" in exported and "The first answer." in exported

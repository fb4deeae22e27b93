"""The keys users bring from other terminal programs: Ctrl+C (copy, cancel, quit twice), safe Ctrl+L (undo) and
Ctrl+K (the prompt's kill-line, never a paid compaction), copying from the chat, the side-pane toggle, and the
conversation left in the terminal's scrollback on exit."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fake_llm_server import FakeLLMServer, text, usage
from tests.ui.helpers import SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import TextDelta, TurnEnded
from tunacode_tui.session.store import load_session
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.screens.confirm import ConfirmScreen
from tunacode_tui.ui.widgets.user_message import UserMessage

CODE_ANSWER = "Here is the fix:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThat is all.\n"


async def test_ctrl_c_cancels_a_streaming_answer_and_the_app_stays_open(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("word " * 400), chunk_size=5, delay=0.02)
    llm_server.add(text("Still here."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "write a lot")
        await wait_for(pilot, lambda: len(recorder.events(TextDelta)) >= 3, "the answer to start streaming")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn to end")
        await wait_for(pilot, lambda: not screen.busy, "the screen to go idle")
        assert recorder.events(TurnEnded)[0].reason == "cancelled"
        assert app.is_running and app.screen is screen
        await send(pilot, "again")
        await wait_for(pilot, lambda: len(recorder.events(TurnEnded)) == 2, "a second turn")
        assert recorder.events(TurnEnded)[1].reason == "completed"


async def test_ctrl_c_twice_on_an_idle_app_quits_and_says_so_first(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        screen.prompt.insert("half a thought")
        await pilot.press("ctrl+c")  # a prompt with text: Ctrl+C clears it, as in a shell
        await pilot.pause()
        assert screen.prompt.text == "" and app.is_running
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running
        assert any("again" in n.message and "quit" in n.message for n in app._notifications)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, "the app to quit")
    assert app.return_code == 0


async def test_ctrl_c_copies_a_selection_across_the_chat_without_borders(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text(CODE_ANSWER))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the answer")
        await pilot.pause(0.2)
        chat = screen.chat
        user = chat.query_one(UserMessage)
        # Drag from the prompt's first character to the bottom of the chat, as a user selects with the mouse.
        start = (user.region.x + 1 - chat.region.x, user.region.y - chat.region.y)
        end = (chat.region.width - 3, chat.region.height - 2)
        await pilot.mouse_down(chat, offset=start)
        await pilot.hover(chat, offset=end)
        await pilot.mouse_up(chat, offset=end)
        await pilot.pause()
        assert screen.get_selected_text()
        await pilot.press("ctrl+c")
        await pilot.pause()
        copied = app.clipboard
        assert "fix add" in copied and "def add(a, b):" in copied and "That is all." in copied
        for border in "│╭╮╰╯▎▌▐┃":
            assert border not in copied, f"{border!r} was copied: {copied!r}"
        assert app.is_running and not screen.busy


async def test_one_key_copies_an_answer_or_its_code_block(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text(CODE_ANSWER))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the answer")
        await pilot.pause(0.2)
        screen.chat.focus()
        await pilot.press("c")
        assert app.clipboard == "def add(a, b):\n    return a + b"
        await pilot.press("y")
        assert app.clipboard == CODE_ANSWER.strip()


async def test_ctrl_l_clears_and_ctrl_z_brings_it_back_and_the_journal_records_both(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("First answer."), usage(input=100, output=10))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "first question")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the answer")
        agent = screen.agent
        assert agent is not None and len(agent.state.messages) == 2
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: not agent.state.messages and not screen.chat.query(UserMessage), "the clear")
        assert any("Ctrl+Z" in n.message and "undo" in n.message for n in app._notifications)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: len(agent.state.messages) == 2, "the restored history")
        await wait_for(pilot, lambda: [u.prompt for u in screen.chat.query(UserMessage)] == ["first question"],
                       "the restored chat")
        # Later, Ctrl+Z is the prompt's own undo again, not another restore.
        screen.prompt.insert("typed")
        await pilot.press("ctrl+z")
        assert screen.prompt.text == ""
        assert app.journal is not None
        journal_path = app.journal.path
    kinds = [json.loads(line)["type"] for line in journal_path.read_text().splitlines()]
    assert "clear" in kinds and "restore" in kinds and kinds.index("clear") < kinds.index("restore")
    loaded = load_session(journal_path)
    assert [m.text for m in loaded.state.messages] == ["first question", "First answer."]


async def test_ctrl_k_in_the_prompt_kills_the_line_and_sends_nothing(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("One."), usage())
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "question")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the answer")
        screen.prompt.insert("keep this and drop the rest")
        screen.prompt.move_cursor((0, len("keep this")))
        await pilot.press("ctrl+k")
        await pilot.pause(0.2)
        assert screen.prompt.text == "keep this"
        assert not isinstance(app.screen, ConfirmScreen) and not screen.busy
        assert len(llm_server.requests) == 1


async def test_compaction_key_asks_and_no_sends_nothing(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("One."), usage())
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "question")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the answer")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "≈$" in str(app.screen.detail)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, "the main screen")
        await pilot.pause(0.2)
        assert len(llm_server.requests) == 1 and not screen.busy


async def test_ctrl_t_shows_and_hides_the_side_panes_at_any_width(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = main_screen(app)
        side = screen.query_one("#side")
        assert screen.has_class("-wide") and side.display and side.region.width >= 44
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert side.region.width == 0 and screen.chat.region.width == 200
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert side.region.width >= 44
    async with make_app(config, root=project).run_test(size=(80, 24)) as pilot:
        screen = main_screen(pilot.app)
        assert screen.has_class("-narrow")
        assert screen.chat.region.width == 80 and not screen.activity.region  # the activity pane is in the drawer
        assert screen.gauge.region.width == 80  # the gauge is a strip under the prompt
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen.activity.region.width >= 40  # the drawer is open


def test_the_conversation_is_printed_to_the_scrollback_on_exit(
    llm_server: FakeLLMServer, config: Config, project: Path
) -> None:
    from tunacode_tui.core.messages import Message
    from tunacode_tui.core.state import SessionState
    from tunacode_tui.ui.transcript import scrollback_text

    state = SessionState()
    state.messages += [Message.user("what is in a.py?"), Message.assistant("It prints **a**.")]
    out = scrollback_text(state, secrets=["sk-secret-123456789"], session_id="abc")
    assert "› what is in a.py?" in out and "It prints **a**." in out and "tunacode --resume abc" in out
    assert scrollback_text(SessionState()) == ""

"""Slash commands, their completion, the prompt history, and the keys /help lists."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from tests.fake_llm_server import FakeLLMServer, text, thinking, tool_call, usage
from tests.ui.helpers import SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import TurnEnded
from tunacode_tui.ui import commands
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.completion import complete, complete_path
from tunacode_tui.ui.screens.history_dump import HistoryDumpScreen
from tunacode_tui.ui.screens.main import MainScreen
from tunacode_tui.ui.screens.model_picker import ModelPickerScreen
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage
from tunacode_tui.ui.widgets.notice_block import NoticeBlock
from tunacode_tui.ui.widgets.thinking_block import ThinkingBlock


def notices(screen: MainScreen, level: str | None = None) -> list[str]:
    return [n.text for n in screen.chat.query(NoticeBlock) if level is None or n.has_class(f"-{level}")]


def test_parse_and_complete() -> None:
    command, argument = commands.parse("/compact  the parser work ")
    assert (command.name, argument) == ("/compact", "the parser work")
    assert commands.complete("/th") == ["/thoughts"]
    assert commands.complete("/thoughts o") == ["/thoughts on", "/thoughts off"]
    assert commands.complete("hello") == []
    try:
        commands.parse("/nope")
    except commands.UnknownCommand as exc:
        assert "/help" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown command must raise")


def test_path_completion_is_one_level_and_skips_junk(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "main.py").write_text("")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / ".hidden").write_text("")
    assert complete_path(tmp_path, "") == ["src/"]
    assert complete_path(tmp_path, "src/") == ["src/main.py", "src/pkg/"]
    assert complete_path(tmp_path, "src/m") == ["src/main.py"]
    assert complete_path(tmp_path, ".h") == [".hidden"]
    assert complete_path(tmp_path, "../") == []  # never outside the project
    completion = complete("look at @src/m", "look at @src/m", tmp_path)
    assert completion is not None and completion.candidates == ["@src/main.py"] and completion.length == 6


async def test_help_lists_every_command_and_key(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await send(pilot, "/help")
        await wait_for(pilot, lambda: screen.chat.query(AssistantMessage), "the help text")
        help_text = screen.chat.query_one(AssistantMessage).source
        for command in commands.COMMANDS:
            assert f"`{commands.table_cell(command.usage)}`" in help_text
        for binding in MainScreen.BINDINGS:
            assert isinstance(binding, Binding)
            assert f"| {app.get_key_display(binding)} |" in help_text
        for key in ("Shift+Enter", "Ctrl+Q", "Ctrl+P", "Tab"):
            assert key in help_text


async def test_unknown_command_is_an_error_not_a_prompt(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await send(pilot, "/frobnicate now")
        await wait_for(pilot, lambda: notices(screen, "error"), "an error")
        assert "Unknown command '/frobnicate'" in notices(screen, "error")[0]
        assert not screen.busy


async def test_tab_completes_a_command_and_up_recalls_history(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await pilot.press("/", "t", "h")
        assert screen.menu.candidates == ("/thoughts",)
        assert screen.prompt.suggestion == "oughts"
        await pilot.press("tab")
        assert screen.prompt.text == "/thoughts"
        await pilot.press("space", "o", "n", "enter")
        await wait_for(pilot, lambda: screen.show_thoughts, "/thoughts on")
        assert screen.prompt.text == ""
        await pilot.press("up")
        assert screen.prompt.text == "/thoughts on"
        await pilot.press("down")
        assert screen.prompt.text == ""
        # @ mentions complete paths from the project root.
        await pilot.press("@", "b")
        assert screen.menu.candidates == ("@b.py",)
        await pilot.press("tab")
        assert screen.prompt.text == "@b.py"
        screen.prompt.clear()
        # With nothing to complete, Tab moves between panes instead.
        await pilot.press("tab")
        assert app.focused is screen.chat
        await pilot.press("tab")
        assert app.focused is screen.activity
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is screen.prompt


async def test_shift_enter_and_ctrl_j_add_lines(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert screen.prompt.text == "a\nb\nc"
        assert not screen.busy


async def test_thoughts_show_thinking_and_batch_messages(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(thinking("Which files matter?"), tool_call("read_file", {"file_path": "a.py"}),
                   tool_call("read_file", {"file_path": "b.py"}), usage())
    llm_server.add(text("Done."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "/thoughts on")
        await send(pilot, "look")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn")
        await wait_for(pilot, lambda: not screen.busy, "idle")
        assert screen.chat.query_one(ThinkingBlock).text == "Which files matter?"
        [line] = notices(screen, "system")
        assert line.startswith("PARALLEL BATCH #1: Executing 2 read-only tools concurrently — done in ")
        assert ", overlap " in line and "speedup" not in line


async def test_streaming_off_shows_the_answer_whole(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("All at once."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "/streaming off")
        await wait_for(pilot, lambda: not config.settings.enable_streaming, "streaming off")
        await send(pilot, "hi")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the turn")
        assert llm_server.last_body.get("stream") in (False, None)
        assert [m.source for m in screen.chat.query(AssistantMessage)] == ["All at once."]


async def test_settings_commands(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        agent = screen.agent
        assert agent is not None and not agent.state.yolo
        await send(pilot, "/yolo")
        await wait_for(pilot, lambda: agent.state.yolo, "yolo on")
        await send(pilot, "/iterations 7")
        await wait_for(pilot, lambda: agent.state.max_iterations == 7, "iterations")
        await send(pilot, "/iterations lots")
        await wait_for(pilot, lambda: any("Usage: /iterations" in n for n in notices(screen, "error")), "usage")
        assert agent.state.max_iterations == 7


async def test_analytics_and_dump(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(tool_call("read_file", {"file_path": "a.py"}), tool_call("read_file", {"file_path": "b.py"}),
                   usage())
    llm_server.add(text("Read both."), usage())
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "read two")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the turn")
        await send(pilot, "/analytics tools")
        await wait_for(pilot, lambda: any("Tool analytics" in m.source for m in screen.chat.query(AssistantMessage)),
                       "the analytics table")
        table = screen.chat.query(AssistantMessage).last().source
        assert "| read_file | 2 | 0 |" in table
        assert "Parallel batches: 1, mean overlap " in table and "not a speedup" in table
        assert "Measured speedup: none yet" in table
        await send(pilot, "/dump")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryDumpScreen), "the dump screen")
        heads = [str(label.render()) for label in app.screen.query(".head")]
        assert heads[0].startswith("#1 user · ") and heads[0].endswith(" tokens")
        assert len(heads) == 4  # prompt, calls, results, answer
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "back to the chat")


async def test_model_picker_lists_the_catalog(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await send(pilot, "/model")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")
        await pilot.press(*"gpt-4.1-mini")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the picker to close")
        await wait_for(pilot, lambda: screen.agent.model.full_name == "openai:gpt-4.1-mini", "the new model")


async def test_model_recovers_from_a_bad_start_up_model_without_a_restart(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    """The start-up error says "fix the model with /model": doing so opens the conversation, and it works."""
    llm_server.add(text("hello from the fixed model"))
    app = make_app(config, model="opanai:gpt-4.1", root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: notices(screen, "error"), "the start-up error")
        assert screen.agent is None and "/model" in notices(screen, "error")[0]
        await send(pilot, "/model openai:gpt-4.1")
        await wait_for(pilot, lambda: screen.agent is not None, "the agent")
        assert not any("restart" in n for n in notices(screen, "error"))
        assert any(n.startswith("Model: openai:gpt-4.1") for n in notices(screen, "info"))
        await send(pilot, "hi")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn")
        assert recorder.events(TurnEnded)[0].text == "hello from the fixed model"
        assert app.journal is not None  # the conversation is saved like any other


async def test_help_table_renders_pipes_and_angle_brackets(config: Config, project: Path) -> None:
    """``on|off`` stays in its cell (the table keeps two columns) and ``<session>`` is shown, not eaten as HTML."""
    from textual.widgets._markdown import MarkdownTableContent

    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await send(pilot, "/help")
        await wait_for(pilot, lambda: screen.chat.query(MarkdownTableContent), "the help tables")
        table = screen.chat.query(MarkdownTableContent).first()
        rows = [[cell.plain for cell in row] for row in table.rows]
        assert all(len(row) == 2 for row in rows), rows
        cells = {row[0]: row[1] for row in rows}
        assert cells["/thoughts on|off"].startswith("Show model thinking")
        assert "tunacode-<session>.md" in cells["/export [path]"]


def test_palette_help_has_no_markdown_marks() -> None:
    for command in commands.COMMANDS:
        assert "`" not in command.plain_help
    assert commands.BY_NAME["/model"].plain_help == "Pick a model, or switch to provider:model directly."


async def test_an_at_file_shows_a_chip_under_the_prompt(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    from tunacode_tui.ui.widgets.user_message import UserMessage

    llm_server.add(text("It prints a."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "what does @a.py print? and @../outside.txt")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn")
        await pilot.pause()
        (prompt,) = screen.chat.query(UserMessage)
        shown = prompt.render().plain
        assert "↳ attached a.py (11 B)" in shown
        assert "⚠ @../outside.txt not attached: outside the project" in shown
        assert "what does @a.py print?" in shown
    assert "print('a')" in llm_server.requests[0].body["messages"][-1]["content"]


async def test_prompt_history_survives_a_restart_per_project(config: Config, project: Path, tmp_path: Path) -> None:
    import os
    import stat

    from tunacode_tui.session.prompt_history import PromptHistory, history_file

    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        for prompt in ("/thoughts on", "/thoughts off"):
            await send(pilot, prompt)
            await wait_for(pilot, lambda: screen.prompt.text == "", "the prompt to clear")
    path = history_file(project)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    other = tmp_path / "other-project"
    other.mkdir()
    again = make_app(config, root=project)
    async with again.run_test(size=SIZE) as pilot:  # a new run: Up recalls the last run's prompts
        screen = main_screen(again)
        screen.prompt.focus()
        await pilot.press("up")
        assert screen.prompt.text == "/thoughts off"
        await pilot.press("up")
        assert screen.prompt.text == "/thoughts on"
    elsewhere = make_app(config, root=other)
    async with elsewhere.run_test(size=SIZE) as pilot:  # another project has its own history
        screen = main_screen(elsewhere)
        screen.prompt.focus()
        await pilot.press("up")
        assert screen.prompt.text == ""
    # Bounded: the oldest prompts fall off, and the file is rewritten to the bound.
    history = PromptHistory(project, limit=3)
    for n in range(120):
        history.add(f"p{n}")
    assert PromptHistory(project, limit=3).entries == ["p117", "p118", "p119"]
    assert len(path.read_text().splitlines()) <= 3 + 100


async def test_compact_is_billed_on_the_gauge_and_in_analytics(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    from tunacode_tui.core.events import Notice

    for n in range(3):
        llm_server.add(text(f"Answer {n}."), usage(input=500, output=10))
    llm_server.add(text("## Goal\nKeep testing."), usage(input=300, output=30))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        for n in range(3):
            await send(pilot, f"question {n}")
            await wait_for(pilot, lambda n=n: len(recorder.events(TurnEnded)) == n + 1 and not screen.busy,
                           f"turn {n}")
        await send(pilot, "/compact")
        await wait_for(pilot, lambda: any(e.text.startswith("Compacted") for e in recorder.events(Notice)),
                       "the compaction")
        await wait_for(pilot, lambda: not screen.busy, "compaction to finish")
        await pilot.pause()
        gauge = str(screen.gauge.render())
        assert "Tokens: 330 " in gauge and "Total: 1,860 " in gauge, gauge
        await send(pilot, "/analytics tools")
        await wait_for(pilot, lambda: any("compaction summaries" in n for n in notices(screen)), "analytics")
        assert any("4 model requests, 1,860 tokens" in n and "1 of them compaction summaries: 330 tokens" in n
                   for n in notices(screen))

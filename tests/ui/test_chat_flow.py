"""The app end to end against the fake LLM server: prompts, parallel batches, the inspector, compaction,
clearing, cancelling, and the permission modal."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette

from tests.fake_llm_server import FakeLLMServer, hang, text, tool_call, usage
from tests.ui.helpers import MODEL, SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.agent.compaction import SUMMARY_PREFIX
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import BatchFinished, Notice, TextDelta, TurnEnded
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.screens.batch_inspector import BatchInspectorScreen, CallDetails
from tunacode_tui.ui.screens.confirm import ConfirmScreen
from tunacode_tui.ui.screens.main import MainScreen
from tunacode_tui.ui.screens.permission import PermissionScreen
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage
from tunacode_tui.ui.widgets.batch_row import BatchRow
from tunacode_tui.ui.widgets.notice_block import NoticeBlock
from tunacode_tui.ui.widgets.timeline import CallTimeline, lanes_for
from tunacode_tui.ui.widgets.tool_call_entry import ToolCallEntry
from tunacode_tui.ui.widgets.user_message import UserMessage


async def test_parallel_reads_show_as_one_batch_and_open_in_the_inspector(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(
        text("Reading all three."),
        tool_call("read_file", {"file_path": "a.py"}),
        tool_call("read_file", {"file_path": "b.py"}),
        tool_call("read_file", {"file_path": "c.py"}),
        usage(input=1200, output=40),
    )
    llm_server.add(text("They print **a**, **b** and **c**."), usage(input=1400, output=20))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await pilot.press(*"read the files")
        await pilot.press("enter")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn to end")
        screen = main_screen(app)
        await wait_for(pilot, lambda: not screen.busy, "the screen to go idle")

        assert recorder.events(TurnEnded)[0].reason == "completed"
        [batch] = recorder.events(BatchFinished)
        assert (batch.size, batch.parallel, batch.status) == (3, True, "done")
        row = screen.activity.query_one("#batch-1", BatchRow)
        assert row.has_class("-done")
        assert [c.summary for c in row.record.calls.values()] == ["file_path=a.py", "file_path=b.py", "file_path=c.py"]
        # The chat: the prompt, the answer in two blocks around one summary line per call.
        assert [u.prompt for u in screen.chat.query(UserMessage)] == ["read the files"]
        assert len(screen.chat.query(ToolCallEntry)) == 3
        answers = [m.source for m in screen.chat.query(AssistantMessage)]
        assert answers == ["Reading all three.", "They print **a**, **b** and **c**."]
        assert "Tokens: 2,660" in str(screen.gauge.render())

        await pilot.click("#batch-1")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchInspectorScreen), "the inspector")
        inspector = app.screen
        assert len(inspector.query(CallDetails)) == 3
        lanes, span = lanes_for(inspector.query_one(CallTimeline).record)
        assert [lane.label for lane in lanes] == ["read_file file_path=a.py", "read_file file_path=b.py",
                                                  "read_file file_path=c.py"]
        assert all(0 <= lane.start <= lane.end <= span for lane in lanes)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen again")

        # Keyboard too: the activity pane's Enter opens the highlighted batch.
        screen.activity.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchInspectorScreen), "the inspector by keyboard")


async def test_ctrl_o_compacts_after_asking_and_ctrl_l_clears(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    for n in range(3):
        llm_server.add(text(f"Answer {n}."), usage(input=500 + n, output=10))
    llm_server.add(text("## Goal\nKeep testing."), usage(input=300, output=30))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        for n in range(3):
            await send(pilot, f"question {n}")
            await wait_for(pilot, lambda n=n: len(recorder.events(TurnEnded)) == n + 1 and not screen.busy,
                           f"turn {n}")
        agent = screen.agent
        assert agent is not None and len(agent.state.messages) == 6

        await pilot.press("ctrl+o")  # a paid model: the key asks first
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the compaction question")
        assert len(llm_server.requests) == 3
        await pilot.press("y")
        await wait_for(pilot, lambda: any(e.text.startswith("Compacted") for e in recorder.events(Notice)),
                       "the compaction notice")
        await wait_for(pilot, lambda: not screen.busy, "compaction to finish")
        assert agent.state.messages[0].text.startswith(SUMMARY_PREFIX)
        assert "Keep testing." in agent.state.messages[0].text
        assert "Summarise the conversation" in llm_server.last_body["messages"][-1]["content"]

        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: not agent.state.messages and len(screen.chat.query(NoticeBlock)) == 1,
                       "the cleared chat")
        assert not screen.chat.query(UserMessage)
        assert "Cleared the conversation" in screen.chat.query_one(NoticeBlock).text
        assert agent.state.usage.total_tokens > 0  # /clear keeps the totals; /clear all resets them
        await send(pilot, "/clear all")
        await wait_for(pilot, lambda: agent.state.usage.total_tokens == 0, "the totals to reset")


async def test_escape_cancels_a_streaming_answer(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("word " * 400), chunk_size=5, delay=0.02)
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "write a lot")
        await wait_for(pilot, lambda: len(recorder.events(TextDelta)) >= 3, "the answer to start streaming")
        assert screen.busy
        streamed = len(recorder.events(TextDelta))
        await pilot.press("escape")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn to end")
        await wait_for(pilot, lambda: not screen.busy, "the screen to go idle")
        assert recorder.events(TurnEnded)[0].reason == "cancelled"
        # The stream stopped at once (Esc waits behind the deltas already queued): never the rest of the 400.
        assert len(recorder.events(TextDelta)) - streamed < 100
        assert any("Cancelled" in n.text for n in screen.chat.query(NoticeBlock))
        assert screen.agent is not None
        assert screen.agent.state.messages[-1].text.endswith("[cancelled by the user]")
        # The prompt is usable again at once.
        llm_server.add(text("Short."))
        await send(pilot, "again")
        await wait_for(pilot, lambda: len(recorder.events(TurnEnded)) == 2, "a second turn")
        assert recorder.events(TurnEnded)[1].reason == "completed"


@pytest.mark.parametrize("key", ["escape", "ctrl+c"])
async def test_escape_cancels_running_tools(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder, key: str
) -> None:
    """Esc, and Ctrl+C with nothing selected, cancel a turn whose tool is running (bash here)."""
    llm_server.add(tool_call("bash", {"command": "sleep 30"}), usage())
    app = make_app(config, root=project, yolo=True)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "wait for a while")
        await wait_for(pilot, lambda: screen.activity.row(1) is not None and screen.activity_log.batches[1].calls,
                       "the bash call to start")
        await pilot.press(key)
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the cancelled turn", timeout=5)
        await wait_for(pilot, lambda: not screen.busy, "the screen to go idle")
        assert recorder.events(TurnEnded)[0].reason == "cancelled"
        row = screen.activity.row(1)
        assert row is not None and row.has_class("-cancelled")
        assert not [w for w in app.workers if w.group.startswith("batch-") and w.is_running]


async def test_permission_accepted_changes_the_file(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    target = project / "notes.txt"
    target.write_text("hello world\n", encoding="utf-8")
    llm_server.add(tool_call("update_file", {"file_path": "notes.txt", "old_text": "hello", "new_text": "goodbye"}))
    llm_server.add(text("Changed it."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, "change the greeting")
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionScreen), "the permission modal")
        assert "notes.txt" in str(app.screen.query_one("#summary").render())
        change = str(app.screen.query_one("#preview Static").render())
        assert "-hello" in change and "+goodbye" in change  # the user sees the change before saying yes
        await pilot.press("y")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn to end")
        assert target.read_text(encoding="utf-8") == "goodbye world\n"
        tool_message = llm_server.last_body["messages"][-1]
        assert tool_message["role"] == "tool" and "refused" not in tool_message["content"]


async def test_permission_refused_leaves_the_file_and_tells_the_model_why(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    target = project / "notes.txt"
    target.write_text("hello world\n", encoding="utf-8")
    llm_server.add(tool_call("update_file", {"file_path": "notes.txt", "old_text": "hello", "new_text": "goodbye"}))
    llm_server.add(text("Understood, I left it."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, "change the greeting")
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionScreen), "the permission modal")
        await pilot.click("#reason")
        await pilot.press(*"keep it", "enter")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn to end")
        assert target.read_text(encoding="utf-8") == "hello world\n"
        tool_message = llm_server.last_body["messages"][-1]
        assert tool_message["role"] == "tool"
        assert "The user refused to run update_file. The user said: keep it" in tool_message["content"]
        entry = main_screen(app).chat.query_one(ToolCallEntry)
        assert entry.has_class("-refused")


async def test_a_missing_key_suggests_setup(llm_server: FakeLLMServer, project: Path, recorder: Recorder) -> None:
    config = Config(default_model="anthropic:claude-sonnet-4-5", env={"OPENAI_API_KEY": "test"})
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the failed turn")
        assert recorder.events(TurnEnded)[0].reason == "error"
        errors = [n.text for n in main_screen(app).chat.query(NoticeBlock) if n.has_class("-error")]
        assert len(errors) == 1 and "--setup" in errors[0]


async def test_model_command_switches_and_validates(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await send(pilot, "/model openai:gpt-4.1-mini")
        await wait_for(pilot, lambda: screen.agent and screen.agent.model.full_name == "openai:gpt-4.1-mini",
                       "the model to change")
        assert app.sub_title == "openai:gpt-4.1-mini"
        await send(pilot, "/model nonsense-provider:x")
        await wait_for(pilot, lambda: any(n.has_class("-error") for n in screen.chat.query(NoticeBlock)),
                       "an error for a bad model name")
        assert screen.agent.model.full_name == "openai:gpt-4.1-mini"
        assert MODEL != "openai:gpt-4.1-mini"


async def test_typing_while_streaming_queues_the_next_prompt(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(text("thinking about it " * 20), hang(after_events=3), chunk_size=6)  # then silence
    llm_server.add(text("Second answer."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "first")
        await wait_for(pilot, lambda: recorder.events(TextDelta), "streaming to start")
        await pilot.press(*"next one")  # the prompt takes keys while the answer streams
        assert screen.prompt.text == "next one"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(n.text.startswith("Queued") for n in screen.chat.query(NoticeBlock)),
                       "the queued notice")
        assert not recorder.events(TurnEnded)  # still waiting on the first answer
        await pilot.press("escape")  # cancel the first: the queued prompt goes out by itself
        await wait_for(pilot, lambda: len(recorder.events(TurnEnded)) == 2, "both turns")
        assert [e.reason for e in recorder.events(TurnEnded)] == ["cancelled", "completed"]
        assert [u.prompt for u in screen.chat.query(UserMessage)] == ["first", "next one"]


async def test_always_allow_and_expanding_a_tool_line(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    (project / "notes.txt").write_text("one two\n", encoding="utf-8")
    llm_server.add(tool_call("update_file", {"file_path": "notes.txt", "old_text": "one", "new_text": "1"}))
    llm_server.add(tool_call("update_file", {"file_path": "notes.txt", "old_text": "two", "new_text": "2"}))
    llm_server.add(text("Both changed."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "number them")
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionScreen), "the permission modal")
        await pilot.press("a")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn")  # no second question
        assert (project / "notes.txt").read_text(encoding="utf-8") == "1 2\n"
        assert screen.agent is not None and "update_file" in screen.agent.state.allowed_tools
        entry = screen.chat.query(ToolCallEntry).first()
        assert entry.collapsed
        await pilot.click(entry.query_one("CollapsibleTitle"))
        await wait_for(pilot, lambda: not entry.collapsed and entry.query(".tool-call-entry--result"), "the result")
        assert "-one two" in str(entry.query_one(".tool-call-entry--result").render())


async def test_command_palette_runs_slash_commands(config: Config, project: Path) -> None:
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await pilot.press("ctrl+p")
        await pilot.press(*"yolo")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette)
                       and app.screen.query_one(CommandList).option_count > 0, "palette hits")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.agent is not None and screen.agent.state.yolo, "yolo via the palette")


@pytest.mark.parametrize("after_rename", [False, True], ids=["before-rename", "after-rename"])
async def test_escape_during_a_write_is_reported_truthfully(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch, after_rename: bool,
) -> None:
    """Esc while update_file wrote: "cancelled" was shown and journaled, the file was edited anyway, and
    /undo said "Nothing to undo" (issue 12, item 1). The write's thread is held inside our own
    atomic_write, so Esc lands before its rename or just after it."""
    import asyncio
    import threading

    from tunacode_tui.core.events import ToolCallFinished
    from tunacode_tui.tools import fileio, update_file

    target = project / "notes.txt"
    target.write_text("hello world\n", encoding="utf-8")
    entered, proceed, settled = threading.Event(), threading.Event(), threading.Event()
    real = fileio.atomic_write

    def held_write(path, data, **kwargs):  # type: ignore[no-untyped-def]
        # Hold until the cancel has reached the write (its stop flag), or, before the fix (no flag),
        # until the test lets it go after the turn has ended.
        hold = kwargs.get("stop") or proceed
        try:
            if after_rename:
                result = real(path, data, **kwargs)
                entered.set()
                hold.wait(30)
                return result
            entered.set()
            hold.wait(30)
            return real(path, data, **kwargs)
        finally:
            settled.set()

    monkeypatch.setattr(update_file, "atomic_write", held_write)
    llm_server.add(tool_call("update_file", {"file_path": "notes.txt", "old_text": "hello", "new_text": "goodbye"}))
    llm_server.add(text("unreached"))
    app = make_app(config, root=project, yolo=True)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await send(pilot, "change the greeting")
        assert await asyncio.to_thread(entered.wait, 30)
        await pilot.press("escape")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the cancelled turn", timeout=10)
        proceed.set()
        assert await asyncio.to_thread(settled.wait, 30)  # before the fix the write went on and landed here
        await wait_for(pilot, lambda: not screen.busy, "the screen to go idle")
        (finished,) = [e for e in recorder.events(ToolCallFinished) if e.name == "update_file"]
        changed = target.read_text(encoding="utf-8") != "hello world\n"
        assert changed == after_rename
        assert finished.status == ("done" if after_rename else "cancelled")
        await send(pilot, "/undo")
        await pilot.pause()
    assert target.read_text(encoding="utf-8") == "hello world\n"

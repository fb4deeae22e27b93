"""MCP servers in the app, through the pilot and the fake LLM server: tools appear when their server is
ready, read-only MCP calls join a parallel batch with read_file, a write waits behind the permission
modal that names the server and tool, Esc cancels a running MCP call, a failing server is a notice,
and a project's servers start only after the user said yes (once)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer, text, tool_call
from tests.mcp.helpers import git, git_server, make_repo, sample_server, server_processes, time_server
from tests.ui.helpers import SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.config.mcp import parse_servers
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import BatchFinished, Notice, PermissionRequested, ToolCallStarted, TurnEnded
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.screens.mcp_approval import McpApprovalScreen
from tunacode_tui.ui.screens.permission import PermissionScreen
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage

STARTUP = 30.0  # generous: other suites share the two cores


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def with_servers(config: Config, servers: dict) -> Config:
    problems: list[str] = []
    config.mcp_servers = parse_servers(servers, "test", "user", problems)
    assert not problems
    return config


def notices(recorder: Recorder) -> list[str]:
    return [e.text for e in recorder.events(Notice)]


async def test_mcp_tools_join_the_parallel_batch_and_writes_ask(
    llm_server: FakeLLMServer, config: Config, repo: Path, recorder: Recorder
) -> None:
    with_servers(config, {"git": git_server(repo), "time": time_server()})
    git(repo, "add", "notes.txt")
    llm_server.add(
        tool_call("mcp__git__git_status", {"repo_path": str(repo)}),
        tool_call("mcp__git__git_log", {"repo_path": str(repo)}),
        tool_call("mcp__time__get_current_time", {"timezone": "UTC"}),
        tool_call("read_file", {"file_path": "notes.txt"}),
    )
    llm_server.add(text("All four."))
    llm_server.add(tool_call("mcp__git__git_commit", {"repo_path": str(repo), "message": "Second line"}))
    llm_server.add(text("Not committed."))
    app = make_app(config, root=repo)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        agent = screen.agent
        assert agent is not None
        await wait_for(pilot, lambda: {"mcp__git__git_log", "mcp__time__get_current_time"} <= set(agent.tools),
                       "the servers' tools", timeout=STARTUP)
        assert any(t.startswith("MCP server git ready") for t in notices(recorder))

        await send(pilot, "what is going on?")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the turn", timeout=STARTUP)
        [batch] = recorder.events(BatchFinished)
        assert (batch.size, batch.parallel, batch.status) == (4, True, "done")
        results = [m for m in llm_server.requests[1].body["messages"] if m["role"] == "tool"]
        assert "notes.txt" in results[0]["content"] and "Add the notes" in results[1]["content"]
        assert json.loads(results[2]["content"])["timezone"] == "UTC" and "second line" in results[3]["content"]
        assert [m.source for m in screen.chat.query(AssistantMessage)][-1] == "All four."

        await send(pilot, "/mcp")
        await wait_for(pilot, lambda: screen.chat.query(".-command-output"), "the /mcp table", timeout=STARTUP)
        table = screen.chat.query(".-command-output").last(AssistantMessage).source
        assert "| git | ready | user | 12 |" in table and "| time | ready | user | 2 |" in table
        assert "`mcp__git__git_log` (read-only)" in table and "`mcp__git__git_commit`," in table

        await send(pilot, "commit it")
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionScreen), "the permission modal",
                       timeout=STARTUP)
        modal = app.screen
        assert isinstance(modal, PermissionScreen)
        assert modal.tool == "mcp__git__git_commit" and modal.summary.startswith("git · git_commit")
        assert "Second line" in json.dumps(modal.args)
        [asked] = recorder.events(PermissionRequested)
        assert asked.name == "mcp__git__git_commit"
        await pilot.press("n")
        await wait_for(pilot, lambda: len(recorder.events(TurnEnded)) == 2 and not screen.busy, "the second turn",
                       timeout=STARTUP)
        assert "Second line" not in git(repo, "log", "--oneline")
        refused = [m for m in llm_server.requests[3].body["messages"] if m["role"] == "tool"][-1]
        assert "refused" in refused["content"]
        assert server_processes(f"--repository {repo}")  # still running while the app is
    assert server_processes(f"--repository {repo}") == [], "the git server outlived the app"


async def test_escape_cancels_a_running_mcp_call(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder, tmp_path: Path
) -> None:
    with_servers(config, {"test": sample_server()})
    llm_server.add(tool_call("mcp__test__slow", {"seconds": 120}))
    llm_server.add(tool_call("mcp__test__echo", {"text": "still here"}))
    llm_server.add(text("ok"))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        assert screen.agent is not None
        await wait_for(pilot, lambda: "mcp__test__slow" in screen.agent.tools, "the test server", timeout=STARTUP)
        await send(pilot, "wait")
        await wait_for(pilot, lambda: recorder.events(ToolCallStarted), "the slow call to start", timeout=STARTUP)
        await pilot.press("escape")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the cancel", timeout=STARTUP)
        assert recorder.events(TurnEnded)[0].reason == "cancelled"
        # The server survived the cancelled call and answers the next one.
        await send(pilot, "again")
        await wait_for(pilot, lambda: len(recorder.events(TurnEnded)) == 2 and not screen.busy, "the next turn",
                       timeout=STARTUP)
        results = [m for m in llm_server.requests[-1].body["messages"] if m["role"] == "tool"]
        assert results[-1]["content"] == "still here"


async def test_a_failing_server_is_a_notice_and_the_chat_works(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder, tmp_path: Path
) -> None:
    with_servers(config, {"broken": {"command": str(tmp_path / "nope")}})
    llm_server.add(text("Hello."))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: any("MCP server broken" in t for t in notices(recorder)), "the notice",
                       timeout=STARTUP)
        [failure] = [e for e in recorder.events(Notice) if "MCP server broken" in e.text]
        assert failure.level == "warning" and "command was not found" in failure.text
        await send(pilot, "hi")
        await wait_for(pilot, lambda: recorder.events(TurnEnded) and not screen.busy, "the turn", timeout=STARTUP)
        assert recorder.events(TurnEnded)[0].reason == "completed"


@pytest.mark.parametrize("answer", ["y", "n"])
async def test_project_servers_are_asked_about_once(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder, answer: str
) -> None:
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"time": time_server()}}))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, McpApprovalScreen) and app.screen.query(".server"),
                       "the approval modal", timeout=STARTUP)
        assert "time:" in str(app.screen.query_one(".server").render())
        await pilot.press(answer)
        screen = main_screen(app)
        assert screen.agent is not None
        if answer == "y":
            await wait_for(pilot, lambda: "mcp__time__get_current_time" in screen.agent.tools, "the project server",
                           timeout=STARTUP)
        else:
            await wait_for(pilot, lambda: any("/mcp approve" in t for t in notices(recorder)), "the notice",
                           timeout=STARTUP)

    # A second run remembers the answer: no modal.
    again = Recorder()
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=again) as pilot:
        screen = main_screen(app)
        assert screen.agent is not None
        if answer == "y":
            await wait_for(pilot, lambda: "mcp__time__get_current_time" in screen.agent.tools, "the server",
                           timeout=STARTUP)
        else:
            await wait_for(pilot, lambda: any("you declined" in t for t in notices(again)), "the notice",
                           timeout=STARTUP)
            await send(pilot, "/mcp approve")
            await wait_for(pilot, lambda: isinstance(app.screen, McpApprovalScreen), "the modal, asked again",
                           timeout=STARTUP)
        assert not isinstance(app.screen, McpApprovalScreen) or answer == "n"

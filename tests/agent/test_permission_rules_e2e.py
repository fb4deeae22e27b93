"""Permission rules in the loop, over the wire: a prefix rule from settings runs its command without asking,
a chained command still asks; "always" with a rule is saved to the project and holds for the next agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agent.test_loop_e2e import make_agent
from tests.fake_llm_server import FakeLLMServer, text, tool_call
from tunacode_tui.config.project import permissions_path, project_settings_path
from tunacode_tui.core.events import PermissionDecision, PermissionRequested, ToolCallFinished


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


def answering(decision: PermissionDecision, events: list):
    def sink(event: object) -> None:
        events.append(event)
        if isinstance(event, PermissionRequested):
            event.future.set_result(decision)
    return sink


async def test_a_settings_prefix_rule_runs_its_command_and_asks_for_a_chained_one(
    llm_server: FakeLLMServer, project: Path
) -> None:
    llm_server.add(tool_call("bash", {"command": "echo hi there"}))
    llm_server.add(tool_call("bash", {"command": "echo hi; touch pwned"}))
    llm_server.add(text("done"))
    agent, pool = make_agent(llm_server, project, allowed_tools=["bash(echo hi:*)"])
    events: list = []
    try:
        await agent.run_turn("go", answering(PermissionDecision(False, reason="no"), events))
    finally:
        await pool.aclose()
    asked = [e.args["command"] for e in events if isinstance(e, PermissionRequested)]
    assert asked == ["echo hi; touch pwned"]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert finished[0].ok and "hi there" in finished[0].result
    assert finished[1].status == "refused" and not (project / "pwned").exists()


async def test_always_with_a_rule_is_saved_to_the_project_and_used_by_the_next_agent(
    llm_server: FakeLLMServer, project: Path
) -> None:
    llm_server.add(tool_call("bash", {"command": "echo one"}))
    llm_server.add(tool_call("bash", {"command": "echo two"}))
    llm_server.add(text("done"))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    try:
        await agent.run_turn("go", answering(PermissionDecision(True, always=True, rule="bash(echo:*)"), events))
    finally:
        await pool.aclose()
    assert len([e for e in events if isinstance(e, PermissionRequested)]) == 1  # "echo two" was not asked
    saved = json.loads(permissions_path().read_text())
    assert saved == {str(project.resolve()): ["bash(echo:*)"]}
    assert permissions_path().stat().st_mode & 0o777 == 0o600
    assert not project_settings_path(project).exists()  # nothing is written into the repository

    llm_server.add(tool_call("bash", {"command": "echo three"}))
    llm_server.add(tool_call("bash", {"command": "echo four && touch pwned"}))
    llm_server.add(text("done"))
    again, pool = make_agent(llm_server, project)
    events = []
    try:
        await again.run_turn("go", answering(PermissionDecision(False), events))
    finally:
        await pool.aclose()
    asked = [e.args["command"] for e in events if isinstance(e, PermissionRequested)]
    assert asked == ["echo four && touch pwned"]


async def test_a_broken_permissions_file_is_a_warning_and_is_never_overwritten(
    llm_server: FakeLLMServer, project: Path
) -> None:
    path = permissions_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{broken")
    llm_server.add(tool_call("bash", {"command": "echo one"}))
    llm_server.add(text("done"))
    agent, pool = make_agent(llm_server, project)
    assert agent.startup_warnings and str(path) in agent.startup_warnings[0]
    events: list = []
    try:
        await agent.run_turn("go", answering(PermissionDecision(True, always=True, rule="bash(echo:*)"), events))
    finally:
        await pool.aclose()
    assert path.read_text() == "{broken"
    assert "bash(echo:*)" in agent.state.allowed_tools  # still allowed for this session


@pytest.mark.parametrize("rules", [["bash"], ["bash(touch:*)"], ["write_file", "Bash"]])
async def test_a_repository_cannot_grant_itself_permissions(
    llm_server: FakeLLMServer, project: Path, rules: list[str]
) -> None:
    """A cloned repo's .tunacode/settings.json must not let the model run commands unasked (it did: a
    ``"bash"`` rule there allowed every command, headless too)."""
    path = project_settings_path(project)
    path.parent.mkdir()
    path.write_text(json.dumps({"allowed_tools": rules}))
    llm_server.add(tool_call("bash", {"command": "touch pwned"}))
    llm_server.add(text("done"))
    agent, pool = make_agent(llm_server, project)
    assert not agent.state.allowed_tools
    assert any("ignored" in w and str(path) in w for w in agent.startup_warnings)
    events: list = []
    try:
        await agent.run_turn("go", answering(PermissionDecision(False, reason="no"), events))
    finally:
        await pool.aclose()
    assert [e.args["command"] for e in events if isinstance(e, PermissionRequested)] == ["touch pwned"]
    assert not (project / "pwned").exists()

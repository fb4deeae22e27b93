"""The request budget: max_tokens within what the window leaves, tool results capped to a share of the window,
older tool outputs cleared before anything is summarised, and a refusal for size answered by making room and
retrying. The fake server enforces a window the way llama-server does (the prompt alone, before any reply)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agent.test_loop_e2e import allow_all, make_agent
from tests.fake_llm_server import FakeLLMServer, text, tool_call, usage
from tunacode_tui.agent.budget import (
    CLEARED_PREFIX,
    cap_results,
    clear_old_results,
    reply_tokens,
    truncate_output,
)
from tunacode_tui.core.events import ContextTrimmed, Notice, UsageUpdated
from tunacode_tui.core.messages import Message, ToolCallPart, ToolResultPart
from tunacode_tui.providers import tokens
from tunacode_tui.session.journal import JournalListener, SessionJournal

WINDOW = 8192


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "TUNACODE_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("a.py", "b.py", "c.py", "d.py"):
        (tmp_path / name).write_text("".join(f"value_{name[0]}_{i} = compute({i}, 'some text here')\n"
                                             for i in range(1500)))
    return tmp_path


# -- the pure rules ------------------------------------------------------------------------------------------------

def test_reply_tokens_never_exceed_what_the_window_leaves() -> None:
    assert reply_tokens(window=4096, prompt_tokens=100, wanted=32_000) == 1024  # a quarter of a small window
    assert reply_tokens(window=4096, prompt_tokens=3500, wanted=32_000) < 4096 - 3500
    assert reply_tokens(window=200_000, prompt_tokens=10_000, wanted=32_000) == 32_000  # large windows: as asked
    assert reply_tokens(window=4096, prompt_tokens=100, wanted=300) == 300


def test_a_long_output_is_cut_in_the_middle_with_a_hint() -> None:
    content = "".join(f"line {i}\n" for i in range(5000))
    cut = truncate_output(content, 500)
    assert tokens.count_tokens(cut) < 700
    assert cut.startswith("line 0\n") and cut.endswith("line 4999\n")
    assert "characters cut here to fit the context window" in cut and "offset and limit" in cut
    assert truncate_output("short", 500) == "short"


def test_results_share_the_window() -> None:
    big = "x = 1\n" * 20_000
    results = [ToolResultPart(f"c{i}", "read_file", big) for i in range(4)]
    capped, cut = cap_results(results, 8192)
    assert cut == 4
    assert sum(tokens.count_tokens(r.content) for r in capped) < 8192 * 0.6
    assert [r.tool_call_id for r in capped] == ["c0", "c1", "c2", "c3"]


def _step(i: int, size: int) -> list[Message]:
    call = ToolCallPart(f"c{i}", "read_file", {"file_path": f"f{i}.py"})
    return [Message("assistant", [call]), Message("tool", [ToolResultPart(f"c{i}", "read_file", "y = 2\n" * size)])]


def test_clearing_starts_with_the_oldest_and_keeps_every_pair() -> None:
    history = [Message.user("go"), *_step(0, 500), *_step(1, 500), *_step(2, 500)]
    seen: list[int] = []

    def enough(candidate: list[Message]) -> bool:
        cleared = sum(1 for m in candidate for r in m.tool_results if r.content.startswith(CLEARED_PREFIX))
        seen.append(cleared)
        return cleared >= 1

    new, ids = clear_old_results(history, enough=enough)
    assert ids == ["c0"]
    assert new[2].tool_results[0].content.startswith("[output cleared to save context")
    assert "call the tool again if needed" in new[2].tool_results[0].content
    assert new[4] is history[4] and new[6] is history[6]  # newer results untouched
    assert history[2].tool_results[0].content.startswith("y = 2")  # the old history is not modified
    # Pairs stay valid: every call still has exactly one result with its id.
    calls = [c.id for m in new for c in m.tool_calls]
    results = [r.tool_call_id for m in new for r in m.tool_results]
    assert calls == results == ["c0", "c1", "c2"]


def test_the_results_not_yet_answered_are_never_cleared() -> None:
    history = [Message.user("go"), *_step(0, 500), *_step(1, 500)]
    new, ids = clear_old_results(history, enough=lambda _: False)
    assert ids == ["c0"] and new[-1] is history[-1]
    # Once answered, they are older results like any other.
    history += [Message.assistant("done"), Message.user("next")]
    new, ids = clear_old_results(history, enough=lambda _: False)
    assert ids == ["c0", "c1"]


# -- through the loop, against a server that enforces its window ---------------------------------------------------

@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_one_turn_of_large_tool_outputs_fits_a_small_window(llm_server: FakeLLMServer, project: Path,
                                                                  api: str) -> None:
    llm_server.context_limit = WINDOW
    llm_server.add(tool_call("read_file", {"file_path": "a.py"}), tool_call("read_file", {"file_path": "b.py"}))
    llm_server.add(tool_call("read_file", {"file_path": "c.py"}))
    llm_server.add(tool_call("read_file", {"file_path": "d.py"}))
    llm_server.add(text("All four files read."))
    agent, pool = make_agent(llm_server, project, api=api, context_window=WINDOW)
    events: list = []
    try:
        ended = await agent.run_turn("read the four files", allow_all(events))
    finally:
        await pool.aclose()
    assert ended.reason == "completed" and ended.text == "All four files read."
    assert llm_server.refused == 0
    bodies = list(llm_server.bodies())
    assert len(bodies) == 4
    for body in bodies:
        budget = body.get("max_tokens") or body.get("max_completion_tokens")
        assert budget is not None and budget <= WINDOW // 4
    last = json.dumps(bodies[-1])
    assert "characters cut here to fit the context window" in last
    assert "output cleared to save context" in last
    kinds = [e.kind for e in events if isinstance(e, ContextTrimmed)]
    assert "truncated" in kinds and "cleared" in kinds
    assert kinds.index("cleared") < len(kinds)  # cleared before anything was summarised
    assert "compacted" not in kinds  # clearing was enough: nothing summarised


async def test_a_refusal_for_size_corrects_the_window_and_retries(llm_server: FakeLLMServer, project: Path) -> None:
    # The catalog says gpt-4.1 has 1M tokens; this server (a proxy to a small local model) takes 6,000.
    llm_server.context_limit = 6000
    agent, pool = make_agent(llm_server, project)
    for i in range(3):
        agent.state.messages += [Message.user(f"prompt {i}"), *_step(i, 1200), Message.assistant(f"answer {i}")]
    llm_server.add(text("## Goal\nRead files."))  # the summary, written after the refusal
    llm_server.add(text("answered after making room"), usage(input=900, output=5))
    events: list = []
    try:
        ended = await agent.run_turn("go on", allow_all(events))
    finally:
        await pool.aclose()
    assert ended.reason == "completed" and ended.text == "answered after making room"
    assert llm_server.refused == 1
    assert any(isinstance(e, Notice) and "exceeds the available context size" in e.text for e in events)
    gauge = [e for e in events if isinstance(e, UsageUpdated)][-1]
    assert gauge.context_window == 6000


async def test_the_session_file_keeps_what_was_cleared(llm_server: FakeLLMServer, project: Path,
                                                       tmp_path: Path) -> None:
    llm_server.context_limit = WINDOW
    llm_server.add(tool_call("read_file", {"file_path": "a.py"}))
    llm_server.add(tool_call("read_file", {"file_path": "b.py"}))
    llm_server.add(tool_call("read_file", {"file_path": "c.py"}))
    llm_server.add(text("done"))
    agent, pool = make_agent(llm_server, project, context_window=WINDOW)
    journal = SessionJournal(root=project, model="openai:gpt-4.1", directory=tmp_path / "sessions")
    agent.subscribe(JournalListener(journal, agent.state))
    events: list = []
    try:
        ended = await agent.run_turn("read", allow_all(events))
    finally:
        await pool.aclose()
        journal.close()
    assert ended.reason == "completed"
    records = [json.loads(line) for line in journal.path.read_text().splitlines()]
    trimmed = [r for r in records if r["type"] == "context_trimmed"]
    assert any(r["what"] == "cleared" for r in trimmed)
    # The result as the model first saw it is in a message record; the cleared history is a later record.
    first_results = [r for r in records if r["type"] == "message" and r["message"]["role"] == "tool"]
    assert "value_a_0" in json.dumps(first_results[0])
    rewrites = [r for r in records if r["type"] == "compaction"]
    assert rewrites and "output cleared to save context" in json.dumps(rewrites[-1]["messages"])

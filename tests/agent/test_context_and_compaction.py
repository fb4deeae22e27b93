"""Context accounting and compaction: the gauge follows provider-reported usage plus local counts of what
was added since; counting is incremental; compaction keeps tool pairs and the last turns verbatim; auto
compaction fires at the threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.test_loop_e2e import make_agent
from tests.fake_llm_server import FakeLLMServer, text, tool_call, usage
from tunacode_tui.agent.accounting import MESSAGE_OVERHEAD, ContextMeter
from tunacode_tui.agent.compaction import SUMMARY_PREFIX, split_for_compaction
from tunacode_tui.core.events import Notice, UsageUpdated
from tunacode_tui.core.messages import Message, ToolCallPart, ToolResultPart, Usage
from tunacode_tui.providers import tokens


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text("x = 1\n" * 200)
    return tmp_path


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "TUNACODE_MODEL"):
        monkeypatch.delenv(var, raising=False)


async def test_gauge_is_reported_usage_plus_what_was_added_since(llm_server: FakeLLMServer, project: Path) -> None:
    llm_server.add(tool_call("read_file", {"file_path": "a.py"}), usage(input=5000, output=40, cache_read=1000))
    llm_server.add(text("done"), usage(input=5600, output=8, cache_read=1000))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    try:
        await agent.run_turn("read a.py", events.append)
    finally:
        await pool.aclose()
    first, second = [e for e in events if isinstance(e, UsageUpdated)]
    # After request 1: prompt (input + cached) + output, exactly as reported.
    assert first.context_tokens == 5000 + 1000 + 40
    assert first.context_window == 1_047_576
    # After request 2: again the provider's figure; then a local count for a message added afterwards.
    assert second.context_tokens == 5600 + 1000 + 8
    agent.state.messages.append(Message.user("one more question"))
    added = tokens.count_tokens("one more question") + MESSAGE_OVERHEAD
    assert agent.context_tokens() == second.context_tokens + added


def test_counting_is_incremental(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = tokens.count_tokens

    def counting(text: str) -> int:
        calls.append(len(text))
        return real(text)

    monkeypatch.setattr(tokens, "count_tokens", counting)
    meter = ContextMeter()
    history = [Message.user(f"message {i} " * 50) for i in range(200)]
    meter.estimate("system", [], history)
    assert len(calls) == 201  # static part + each message once
    calls.clear()
    history.append(Message.user("new"))
    meter.estimate("system", [], history)
    assert calls == [len("new")]  # only the new message was tokenized


def _turn(i: int) -> list[Message]:
    call = ToolCallPart(f"c{i}", "read_file", {"file_path": f"f{i}.py"})
    return [Message.user(f"prompt {i}"), Message("assistant", [call]),
            Message("tool", [ToolResultPart(f"c{i}", "read_file", f"content {i}")]), Message.assistant(f"answer {i}")]


def test_split_keeps_the_last_turns_verbatim_and_pairs_intact() -> None:
    history = [m for i in range(5) for m in _turn(i)]
    old, recent = split_for_compaction(history, keep_turns=2)
    assert old == history[:-8]
    assert recent == history[-8:]
    assert recent[0].text == "prompt 3"
    for i, message in enumerate(recent):
        if message.tool_calls:
            assert recent[i + 1].tool_results[0].tool_call_id == message.tool_calls[0].id


async def test_compact_replaces_history_with_summary_plus_recent_turns(llm_server: FakeLLMServer,
                                                                      project: Path) -> None:
    llm_server.add(text("## Goal\nRefactor.\n## Open tasks\nNone."))
    agent, pool = make_agent(llm_server, project)
    history = [m for i in range(4) for m in _turn(i)]
    agent.state.messages.extend(history)
    events: list = []
    try:
        agent.set_sink(events.append)
        summary = await agent.compact("the refactor")
    finally:
        await pool.aclose()
    assert "Refactor." in summary
    messages = agent.state.messages
    assert messages[0].text.startswith(SUMMARY_PREFIX) and "Refactor." in messages[0].text
    assert messages[2:] == history[-8:]
    sent = llm_server.requests[0].body["messages"][-1]["content"]
    assert "prompt 0" in sent and "the refactor" in sent and "prompt 3" not in sent
    assert any(isinstance(e, Notice) and "Compacted" in e.text for e in events)


async def test_auto_compaction_fires_at_the_threshold(llm_server: FakeLLMServer, project: Path) -> None:
    agent, pool = make_agent(llm_server, project, context_window=2000, auto_compact_threshold=0.5)
    for i in range(6):
        agent.state.messages.extend(_turn(i))
        agent.state.messages[-1] = Message.assistant(f"answer {i} " + "word " * 120)
    llm_server.add(text("## Goal\nSummarised."))  # the compaction request
    llm_server.add(text("fresh answer"))
    events: list = []
    try:
        ended = await agent.run_turn("next", events.append)
    finally:
        await pool.aclose()
    assert ended.text == "fresh answer"
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("compacting automatically" in n for n in notices)
    assert any(n.startswith("Compacted:") for n in notices)
    assert agent.state.messages[0].text.startswith(SUMMARY_PREFIX)


async def test_context_overflow_compacts_once_and_retries(llm_server: FakeLLMServer, project: Path) -> None:
    from tests.fake_llm_server import status

    agent, pool = make_agent(llm_server, project)
    for i in range(4):
        agent.state.messages.extend(_turn(i))
    llm_server.add(status(400, message="This model's maximum context length is 8192 tokens",
                          error_code="context_length_exceeded"))
    llm_server.add(text("## Goal\nShort."))
    llm_server.add(text("answered after compaction"))
    events: list = []
    try:
        ended = await agent.run_turn("go", events.append)
    finally:
        await pool.aclose()
    assert ended.reason == "completed" and ended.text == "answered after compaction"
    assert agent.state.messages[0].text.startswith(SUMMARY_PREFIX)


async def test_a_cut_off_summary_keeps_the_history(llm_server: FakeLLMServer, project: Path) -> None:
    from tests.fake_llm_server import stop, thinking
    from tunacode_tui.agent.compaction import CompactionFailed

    llm_server.add(thinking("so much to think about"), stop("max_tokens"))
    agent, pool = make_agent(llm_server, project)
    history = [m for i in range(4) for m in _turn(i)]
    agent.state.messages.extend(history)
    try:
        with pytest.raises(CompactionFailed):
            await agent.compact()
    finally:
        await pool.aclose()
    assert agent.state.messages == history


def test_one_long_turn_is_cut_between_steps() -> None:
    turn = _turn(0)[:3]
    steps = [turn[0]]
    for i in range(6):
        call = ToolCallPart(f"s{i}", "read_file", {"file_path": f"f{i}"})
        steps += [Message("assistant", [call]), Message("tool", [ToolResultPart(f"s{i}", "read_file", "x")])]
    old, recent = split_for_compaction(steps, keep_turns=2)
    assert old and recent[0].role == "assistant" and old[-1].role == "tool"
    assert len([m for m in recent if m.role == "assistant"]) == 3


async def test_nothing_to_cut_is_said_not_faked(llm_server: FakeLLMServer, project: Path) -> None:
    agent, pool = make_agent(llm_server, project)
    agent.state.messages.append(Message.user("only one prompt"))
    events: list = []
    try:
        agent.set_sink(events.append)
        assert await agent.compact() == ""
    finally:
        await pool.aclose()
    assert [e.text for e in events if isinstance(e, Notice)] == [
        "Nothing to compact yet: the conversation is too short to cut."]
    assert not llm_server.requests


def test_invalidate_forgets_messages_that_left_the_history() -> None:
    meter = ContextMeter()
    kept, dropped = Message.user("kept " * 50), Message.user("dropped " * 50)
    history = [kept, dropped]
    assert meter.estimate("", [], history) > 0
    meter.invalidate([kept])
    assert [entry[0] for entry in meter._cache.values()] == [kept]


async def test_compaction_is_billed_in_turn_session_and_journal(llm_server: FakeLLMServer, project: Path,
                                                                tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary request is paid for: its tokens and cost reach the turn's and the session's totals, the
    journal (so a resumed session has them) and the request count /analytics shows."""
    from tunacode_tui.core.events import TurnEnded
    from tunacode_tui.session.journal import JournalListener, SessionJournal
    from tunacode_tui.session.store import load_session
    from tunacode_tui.ui.format import request_summary

    monkeypatch.setenv("TUNACODE_DATA_DIR", str(tmp_path / "data"))
    agent, pool = make_agent(llm_server, project, context_window=2000, auto_compact_threshold=0.5)
    journal = SessionJournal(root=project, model=agent.model.full_name)
    agent.subscribe(JournalListener(journal, agent.state))
    for i in range(6):
        agent.state.messages.extend(_turn(i))
        agent.state.messages[-1] = Message.assistant(f"answer {i} " + "word " * 120)
    llm_server.add(text("## Goal\nSummarised."), usage(input=3000, output=200))  # the compaction request
    llm_server.add(text("fresh answer"), usage(input=400, output=10))
    events: list = []
    try:
        ended = await agent.run_turn("next", events.append)
        # A manual /compact between turns is billed too, even when its summary is refused.
        from tests.fake_llm_server import stop
        from tunacode_tui.agent.compaction import CompactionFailed

        agent.state.messages.extend(m for i in range(6, 9) for m in _turn(i))
        llm_server.add(text("half a summ"), stop("max_tokens"), usage(input=2500, output=8192))
        with pytest.raises(CompactionFailed):
            agent.set_sink(events.append)
            await agent.compact()
    finally:
        await pool.aclose()
        journal.close()
    assert isinstance(ended, TurnEnded) and ended.text == "fresh answer"
    assert ended.usage.input_tokens == 3000 + 400 and ended.usage.output_tokens == 200 + 10
    price = agent.model_info.cost
    assert ended.cost == pytest.approx(price(Usage(3000, 200)) + price(Usage(400, 10)))
    billed = [e for e in events if isinstance(e, UsageUpdated) and e.purpose == "compaction"]
    assert [e.usage.input_tokens for e in billed] == [3000, 2500]
    # The refused manual compaction is the latest thing paid for: the gauge's "Tokens" line shows it alone.
    assert billed[-1].turn_usage == Usage(2500, 8192)
    state = agent.state
    assert state.usage == Usage(3000 + 400 + 2500, 200 + 10 + 8192)
    assert state.requests == 3 and state.compactions == 2
    assert state.compaction_usage == Usage(5500, 8392)
    assert state.cost.value == pytest.approx(price(Usage(5900, 8402)))
    assert "3 model requests" in request_summary(state) and "2 of them compaction" in request_summary(state)
    resumed = load_session(journal.path).state
    assert resumed.usage == state.usage and resumed.compactions == 2
    assert resumed.compaction_usage == state.compaction_usage

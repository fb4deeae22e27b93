"""End to end through the real OpenAI and Anthropic SDKs against the local fake server: a scripted model
asks for several reads at once, then an update, then answers. Files, events and history are asserted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fake_llm_server import FakeLLMServer, malformed_tool_json, text, tool_call, usage
from tunacode_tui.agent.factory import build_agent
from tunacode_tui.agent.loop import Agent
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import (
    BatchFinished,
    Notice,
    PermissionDecision,
    PermissionRequested,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnEnded,
    UsageUpdated,
)
from tunacode_tui.providers.registry import ProviderPool


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("def a():\n    return 1\n")
    (root / "b.py").write_text("def b():\n    return 2\n")
    (root / "c.py").write_text("VALUE = 'old'\n")
    return root


def make_agent(server: FakeLLMServer, root: Path, *, api: str = "openai", max_parallel: int = 4,
               **settings: object) -> tuple[Agent, ProviderPool]:
    config = Config()
    if api == "openai":
        config.env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.openai_base_url}
        model = "openai:gpt-4.1"
    else:
        config.env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": server.anthropic_base_url}
        model = "anthropic:claude-sonnet-5-5"
    config.settings.max_parallel = max_parallel
    config.settings.request_timeout = 10
    for key, value in settings.items():
        setattr(config.settings, key, value)
    pool = ProviderPool()
    return build_agent(config, model=model, root=root, pool=pool), pool


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL",
                "ANTHROPIC_BASE_URL", "TUNACODE_MODEL"):
        monkeypatch.delenv(var, raising=False)


async def run(agent: Agent, pool: ProviderPool, prompt: str, sink) -> TurnEnded:
    """One turn, then close the pool's clients whatever happened."""
    try:
        return await agent.run_turn(prompt, sink)
    finally:
        await pool.aclose()


def allow_all(events: list):
    def sink(event: object) -> None:
        events.append(event)
        if isinstance(event, PermissionRequested):
            event.future.set_result(PermissionDecision(True))
    return sink


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_reads_in_parallel_then_update_then_answer(llm_server: FakeLLMServer, project: Path, api: str) -> None:
    llm_server.add(
        text("Let me look."),
        tool_call("read_file", {"file_path": "a.py"}),
        tool_call("read_file", {"file_path": "b.py"}),
        tool_call("read_file", {"file_path": "c.py"}),
        usage(input=900, output=40),
        chunk_size=5,
    )
    llm_server.add(
        tool_call("update_file", {"file_path": "c.py", "old_text": "'old'", "new_text": "'new'"}),
        usage(input=1200, output=30),
    )
    llm_server.add(text("Done: c.py now says 'new'."), usage(input=1400, output=12))
    agent, pool = make_agent(llm_server, project, api=api)
    events: list = []
    ended = await run(agent, pool, "update c.py", allow_all(events))

    assert ended.reason == "completed", ended.error
    assert ended.text == "Done: c.py now says 'new'."
    assert (project / "c.py").read_text() == "VALUE = 'new'\n"
    assert ended.iterations == 3
    batches = [e for e in events if isinstance(e, BatchFinished)]
    assert [(b.size, b.parallel) for b in batches] == [(3, True), (1, False)]
    assert all(b.status == "done" for b in batches)
    # History: user, assistant(3 calls), tool(3 results in call order), assistant(update), tool, assistant.
    roles = [m.role for m in agent.state.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    first_calls = [c.arguments["file_path"] for c in agent.state.messages[1].tool_calls]
    assert first_calls == ["a.py", "b.py", "c.py"]
    results = agent.state.messages[2].tool_results
    assert [r.tool_call_id for r in results] == [c.id for c in agent.state.messages[1].tool_calls]
    assert "return 1" in results[0].content and "return 2" in results[1].content
    # What the provider saw on the second request: the three results, paired with the calls.
    second = llm_server.requests[1].body
    if api == "openai":
        tool_msgs = [m for m in second["messages"] if m["role"] == "tool"]
        assert len(tool_msgs) == 3
    else:
        blocks = [b for m in second["messages"] if m["role"] == "user" and isinstance(m["content"], list)
                  for b in m["content"] if b.get("type") == "tool_result"]
        assert len(blocks) == 3
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).startswith("Let me look.")
    usages = [e for e in events if isinstance(e, UsageUpdated)]
    assert len(usages) == 3 and usages[-1].session_usage.output_tokens == 82
    assert usages[-1].session_cost is not None and usages[-1].session_cost > 0


async def test_reads_overlap_and_sequential_mode_does_not(llm_server: FakeLLMServer, project: Path) -> None:
    for _ in range(2):
        llm_server.add(*[tool_call("grep", {"pattern": "def"}) for _ in range(1)],
                       tool_call("read_file", {"file_path": "a.py"}), tool_call("list_dir", {}),
                       tool_call("glob", {"pattern": "**/*.py"}))
        llm_server.add(text("ok"))
    intervals = {}
    for cap in (4, 1):
        agent, pool = make_agent(llm_server, project, max_parallel=cap)
        events: list = []
        try:
            await agent.run_turn("look", allow_all(events))
        finally:
            await pool.aclose()
        starts = [e for e in events if isinstance(e, ToolCallStarted)]
        ends = {e.call_id: e for e in events if isinstance(e, ToolCallFinished)}
        intervals[cap] = sorted((s.t, ends[s.call_id].ended) for s in starts)
    par, seq = intervals[4], intervals[1]
    # Parallel: the second call started before the first ended (shown by the event order, not timing).
    assert any(par[i + 1][0] < par[i][1] for i in range(len(par) - 1))
    # Sequential: strictly one after the other.
    assert all(seq[i + 1][0] >= seq[i][1] for i in range(len(seq) - 1))


async def test_reads_start_while_the_model_is_still_streaming(llm_server: FakeLLMServer, project: Path) -> None:
    llm_server.add(
        tool_call("read_file", {"file_path": "a.py"}),
        tool_call("read_file", {"file_path": "b.py"}),
        text("still talking " * 5),
        delay=0.02, chunk_size=4,
    )
    llm_server.add(text("done"))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    await run(agent, pool, "go", allow_all(events))
    first_tool = next(i for i, e in enumerate(events) if isinstance(e, ToolCallFinished))
    later_text = [i for i, e in enumerate(events) if isinstance(e, TextDelta) and i > first_tool]
    assert later_text, "the first read finished before the stream ended"


async def test_malformed_tool_json_is_reported_and_the_loop_continues(llm_server: FakeLLMServer,
                                                                      project: Path) -> None:
    llm_server.add(malformed_tool_json("read_file"))
    llm_server.add(text("Sorry, retrying is not needed."))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    ended = await run(agent, pool, "go", allow_all(events))
    assert ended.reason == "completed"
    result = agent.state.messages[2].tool_results[0]
    assert result.is_error and "could not be read" in result.content


async def test_max_iterations_stops_cleanly(llm_server: FakeLLMServer, project: Path) -> None:
    for i in range(3):
        llm_server.add(tool_call("read_file", {"file_path": "a.py", "offset": i}))
    agent, pool = make_agent(llm_server, project)
    agent.state.max_iterations = 2
    events: list = []
    ended = await run(agent, pool, "loop", allow_all(events))
    assert ended.reason == "max_iterations" and ended.iterations == 2
    assert any(isinstance(e, Notice) and "limit" in e.text for e in events)
    assert agent.state.messages[-1].role == "tool"  # history still valid


async def test_loop_guard_stops_identical_repeats(llm_server: FakeLLMServer, project: Path) -> None:
    for _ in range(5):
        llm_server.add(tool_call("read_file", {"file_path": "a.py"}))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    ended = await run(agent, pool, "loop", allow_all(events))
    assert ended.reason == "loop_guard"
    assert any(isinstance(e, Notice) and "Loop guard" in e.text for e in events)
    statuses = [e.status for e in events if isinstance(e, ToolCallFinished)]
    assert statuses == ["done", "done", "refused", "refused"]  # refused before running, not after


async def test_refused_write_reaches_the_model(llm_server: FakeLLMServer, project: Path) -> None:
    llm_server.add(tool_call("write_file", {"file_path": "new.txt", "content": "x"}))
    llm_server.add(text("Understood."))
    agent, pool = make_agent(llm_server, project)
    events: list = []

    def refuse(event: object) -> None:
        events.append(event)
        if isinstance(event, PermissionRequested):
            event.future.set_result(PermissionDecision(False, reason="not in this folder"))

    await run(agent, pool, "write", refuse)
    assert not (project / "new.txt").exists()
    result = agent.state.messages[2].tool_results[0]
    assert "refused" in result.content and "not in this folder" in result.content
    sent = llm_server.requests[1].body["messages"]
    assert any(m["role"] == "tool" and "refused" in m["content"] for m in sent)


async def test_cancel_mid_stream_keeps_history_valid(llm_server: FakeLLMServer, project: Path) -> None:
    llm_server.add(tool_call("read_file", {"file_path": "a.py"}), text("x" * 400), delay=0.02, chunk_size=2)
    agent, pool = make_agent(llm_server, project)
    events: list = []
    got_text = asyncio.Event()

    def sink(event: object) -> None:
        events.append(event)
        if isinstance(event, TextDelta):
            got_text.set()

    task = asyncio.ensure_future(agent.run_turn("go", sink))
    await asyncio.wait_for(got_text.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await pool.aclose()
    ended = [e for e in events if isinstance(e, TurnEnded)]
    assert ended and ended[0].reason == "cancelled"
    for i, message in enumerate(agent.state.messages):
        if message.tool_calls:
            nxt = agent.state.messages[i + 1]
            assert {r.tool_call_id for r in nxt.tool_results} == {c.id for c in message.tool_calls}


async def cancel_after_the_read_then_continue(llm_server: FakeLLMServer, project: Path, api: str) -> TurnEnded:
    """Run "go", cancel it once its read_file call has finished (the model still streaming), then run
    "continue" to the end: the second request shows what the cancelled response left in the history."""
    agent, pool = make_agent(llm_server, project, api=api)
    read_done = asyncio.Event()

    def sink(event: object) -> None:
        if isinstance(event, ToolCallFinished) and event.ok:
            read_done.set()

    try:
        task = asyncio.ensure_future(agent.run_turn("go", sink))
        await asyncio.wait_for(read_done.wait(), 20)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await agent.run_turn("continue", lambda e: None)
    finally:
        await pool.aclose()


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_cancel_mid_stream_sends_the_partial_answer_and_finished_results_next_time(
    llm_server: FakeLLMServer, project: Path, api: str
) -> None:
    """Esc says "the partial answer and tool results are kept": the NEXT request carries them, as a valid
    assistant message (text + calls) followed by the calls' results."""
    llm_server.add(text("Here is a partial answer."), tool_call("read_file", {"file_path": "a.py"}),
                   text("y" * 600), delay=0.02, chunk_size=2)
    llm_server.add(text("ok"))
    await cancel_after_the_read_then_continue(llm_server, project, api)
    sent = llm_server.requests[1].body["messages"]
    if api == "openai":
        assistant = next(m for m in sent if m["role"] == "assistant")
        assert assistant["content"].startswith("Here is a partial answer.")
        assert "[cancelled by the user]" in assistant["content"]
        (call,) = assistant["tool_calls"]
        assert call["function"]["name"] == "read_file"
        result = sent[sent.index(assistant) + 1]
        assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
        assert "return 1" in result["content"]
    else:
        assistant = next(m for m in sent if m["role"] == "assistant")
        blocks = {b["type"]: b for b in assistant["content"]}
        assert blocks["text"]["text"].startswith("Here is a partial answer.")
        result_blocks = [b for b in sent[sent.index(assistant) + 1]["content"] if b["type"] == "tool_result"]
        assert [b["tool_use_id"] for b in result_blocks] == [blocks["tool_use"]["id"]]
        assert "return 1" in str(result_blocks[0]["content"])
    assert sent[-1]["role"] == "user"


async def test_cancel_after_thinking_folds_the_calls_into_text(llm_server: FakeLLMServer, project: Path) -> None:
    """With thinking, a cut response has no signed thinking block to replay ahead of a tool_use (Anthropic
    would refuse the next request): its finished results are kept as text instead."""
    from tests.fake_llm_server import thinking

    llm_server.add(thinking("let me look"), text("Reading it."), tool_call("read_file", {"file_path": "a.py"}),
                   text("y" * 600), delay=0.02, chunk_size=2)
    llm_server.add(text("ok"))
    ended = await cancel_after_the_read_then_continue(llm_server, project, "anthropic")
    assert ended.reason == "completed"
    sent = llm_server.requests[1].body["messages"]
    assistant = next(m for m in sent if m["role"] == "assistant")
    assert [b["type"] for b in assistant["content"]] == ["text"]
    kept = assistant["content"][0]["text"]
    assert kept.startswith("Reading it.") and "[tools run before the cancel]" in kept and "return 1" in kept
    assert not any(b.get("type") == "tool_result" for m in sent if m["role"] == "user" for b in m["content"]
                   if isinstance(b, dict))


async def test_cancel_between_responses_adds_no_copy_of_the_last_answer(llm_server: FakeLLMServer,
                                                                        project: Path) -> None:
    """A cancel while the next request is being prepared (here: an automatic compaction in flight) must not
    append the previous, already recorded, response again as "cancelled" partial text."""
    from tests.fake_llm_server import hang
    from tunacode_tui.core.messages import Message

    (project / "big.py").write_text("word word word word\n" * 1500)  # ~10k tokens once read
    # The threshold (3,000) sits above the system prompt and tool schemas (~1,950 tokens) plus the earlier
    # turns, so only the read of big.py crosses it: the compaction runs between the two responses.
    agent, pool = make_agent(llm_server, project, context_window=6000, auto_compact_threshold=0.5)
    for i in range(3):  # earlier turns, so there is something to compact
        agent.state.messages.extend([Message.user(f"prompt {i}"), Message.assistant(f"answer {i}")])
    # The server's count of the first request (its prompt is ~2,000 tokens): with the read's result, cut to a
    # quarter of the window (1,500), the next request would pass the threshold.
    llm_server.add(text("Let me look."), tool_call("read_file", {"file_path": "big.py"}), usage(input=2500, output=10))
    llm_server.add(hang())  # the compaction request never answers
    events: list = []
    compacting = asyncio.Event()

    def sink(event: object) -> None:
        events.append(event)
        if isinstance(event, Notice) and "compacting automatically" in event.text:
            compacting.set()

    task = asyncio.ensure_future(agent.run_turn("go", sink))
    try:
        await asyncio.wait_for(compacting.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await pool.aclose()
    assert [e.reason for e in events if isinstance(e, TurnEnded)] == ["cancelled"]
    assert [m.text for m in agent.state.messages if "Let me look." in m.text] == ["Let me look."]
    assert agent.state.messages[-1].role == "tool"


async def test_provider_error_is_a_clear_notice(llm_server: FakeLLMServer, project: Path) -> None:
    from tests.fake_llm_server import status

    llm_server.add(status(401, message="Incorrect API key provided"))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    ended = await run(agent, pool, "hi", allow_all(events))
    assert ended.reason == "error" and "OPENAI_API_KEY" in (ended.error or "")
    assert "sk-test" not in (ended.error or "")


async def test_undo_restores_the_last_turn_and_spares_later_edits(llm_server: FakeLLMServer,
                                                                  project: Path) -> None:
    llm_server.add(
        tool_call("update_file", {"file_path": "c.py", "old_text": "'old'", "new_text": "'new'"}),
        tool_call("write_file", {"file_path": "made/new.txt", "content": "fresh\n"}),
        tool_call("update_file", {"file_path": "a.py", "old_text": "return 1", "new_text": "return 10"}),
    )
    llm_server.add(text("changed"))
    agent, pool = make_agent(llm_server, project)
    agent.state.yolo = True
    await run(agent, pool, "change things", lambda e: None)
    assert (project / "c.py").read_text() == "VALUE = 'new'\n"
    (project / "a.py").write_text("user edited meanwhile\n")  # changed by someone else since
    report = agent.undo()
    assert (project / "c.py").read_text() == "VALUE = 'old'\n"
    assert not (project / "made/new.txt").exists()
    assert (project / "a.py").read_text() == "user edited meanwhile\n"
    assert report.restored == ["c.py"] and report.removed == ["made/new.txt"] and report.skipped == ["a.py"]
    assert agent.undo().summary() == "Nothing to undo."


async def test_rate_limit_then_success_is_retried_visibly(llm_server: FakeLLMServer, project: Path) -> None:
    from tests.fake_llm_server import status

    llm_server.add(status(429, headers={"retry-after": "0.2"}, message="Rate limit reached"))
    llm_server.add(status(500, message="upstream exploded"))
    llm_server.add(text("made it"))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    ended = await run(agent, pool, "hi", allow_all(events))
    assert ended.reason == "completed" and ended.text == "made it"
    retries = [e.text for e in events if isinstance(e, Notice) and "Retrying" in e.text]
    assert len(retries) == 2 and "0.2s" in retries[0]


async def test_dropped_stream_mid_tool_call_keeps_history_valid(llm_server: FakeLLMServer, project: Path) -> None:
    from tests.fake_llm_server import drop_after

    llm_server.add(text("Reading"), tool_call("read_file", {"file_path": "a.py"}),
                   tool_call("read_file", {"file_path": "b.py"}), drop_after(6), chunk_size=3)
    agent, pool = make_agent(llm_server, project)
    events: list = []
    ended = await run(agent, pool, "hi", allow_all(events))
    assert ended.reason == "error"
    assert [m.role for m in agent.state.messages] == ["user"]  # nothing half-formed was appended
    assert any(isinstance(e, Notice) and e.level == "error" for e in events)


async def test_hung_response_times_out_with_a_clear_error(llm_server: FakeLLMServer, project: Path) -> None:
    from tests.fake_llm_server import hang

    llm_server.add(hang())
    agent, pool = make_agent(llm_server, project, request_timeout=0.5, max_retries=0)
    try:
        ended = await asyncio.wait_for(agent.run_turn("hi", lambda e: None), 20)
    finally:
        await pool.aclose()
    assert ended.reason == "error" and "0.5" in (ended.error or "")


async def test_empty_response_is_a_notice_not_a_crash(llm_server: FakeLLMServer, project: Path) -> None:
    llm_server.add(usage(input=10, output=0))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    ended = await run(agent, pool, "hi", allow_all(events))
    assert ended.reason == "completed"
    assert any(isinstance(e, Notice) and "empty response" in e.text for e in events)


async def test_window_reported_by_a_local_endpoint_is_used(llm_server: FakeLLMServer, project: Path) -> None:
    llm_server.models = [{"id": "local-coder", "max_model_len": 32768}]
    llm_server.add(text("hi"), usage(input=1000, output=10))
    config = Config()
    config.env = {"OPENAI_BASE_URL": llm_server.openai_base_url}
    pool = ProviderPool()
    agent = build_agent(config, model="openai-compatible:local-coder", root=project, pool=pool)
    events: list = []
    await run(agent, pool, "hi", events.append)
    gauge = next(e for e in events if isinstance(e, UsageUpdated))
    assert gauge.context_window == 32768 and gauge.context_tokens == 1010
    assert gauge.cost == 0.0  # a local endpoint is free, not "unknown"


async def test_loop_guard_refuses_before_running_even_when_streamed_early(llm_server: FakeLLMServer,
                                                                         project: Path) -> None:
    for _ in range(3):
        llm_server.add(tool_call("read_file", {"file_path": "a.py"}), text("again " * 10), delay=0.01, chunk_size=4)
    llm_server.add(text("ok, stopping"))
    agent, pool = make_agent(llm_server, project)
    events: list = []
    await run(agent, pool, "loop", allow_all(events))
    third = [e for e in events if isinstance(e, ToolCallFinished)][2]
    assert third.status == "refused" and "loop guard" in third.result
    assert all(isinstance(e, BatchFinished) for e in events if type(e).__name__ == "BatchFinished")
    started = {e.batch for e in events if type(e).__name__ == "BatchStarted"}
    finished = {e.batch for e in events if isinstance(e, BatchFinished)}
    assert started == finished  # every announced batch was closed


async def test_failing_filesystem_calls_are_results_not_tracebacks(llm_server: FakeLLMServer, project: Path) -> None:
    import os

    os.mkfifo(project / "pipe")
    llm_server.add(
        tool_call("update_file", {"file_path": "pipe", "old_text": "a", "new_text": "b"}),
        tool_call("write_file", {"file_path": "a.py/inside.txt", "content": "x"}),
        tool_call("write_file", {"file_path": "n" * 300 + ".txt", "content": "x"}),
    )
    llm_server.add(text("understood"))
    agent, pool = make_agent(llm_server, project)
    agent.state.yolo = True
    try:
        ended = await asyncio.wait_for(agent.run_turn("break things", lambda e: None), 20)
    finally:
        await pool.aclose()
    assert ended.reason == "completed"
    results = agent.state.messages[2].tool_results
    assert all(r.is_error for r in results)
    assert not any("Cancelled" in r.content for r in results)

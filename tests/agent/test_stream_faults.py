"""Faults on the wire the loop must never take for a finished answer (issue 12, items 3 and 4): a stream
that closes cleanly without its end, a 200 body that is not an event stream, and a stream that only sends
keep-alives. Real SDKs against the fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.agent.test_loop_e2e import _no_env_keys, allow_all, make_agent, run  # noqa: F401 - autouse fixture
from tests.fake_llm_server import FakeLLMServer, cut_after, keep_alive, raw_body, text, tool_call
from tunacode_tui.core.events import Notice, ToolCallStarted

APIS = ["openai", "anthropic"]


@pytest.mark.parametrize("api", APIS)
async def test_cut_off_stream_is_an_error_and_runs_no_tool(llm_server: FakeLLMServer, tmp_path: Path,
                                                           api: str) -> None:
    # Everything of the tool call arrives, then the connection closes cleanly: no finish_reason, no
    # usage, no [DONE] (OpenAI); no message_delta/message_stop (Anthropic).
    frames = 3 if api == "openai" else 4  # role + call head + arguments / message_start, ping, block start+delta
    llm_server.add(tool_call("write_file", {"file_path": "made.txt", "content": "x"}), cut_after(frames))
    agent, pool = make_agent(llm_server, tmp_path, api=api, max_retries=0)
    agent.state.yolo = True
    events: list = []
    ended = await run(agent, pool, "make a file", allow_all(events))
    assert ended.reason == "error", ended
    assert "ended" in (ended.error or "") or "cut off" in (ended.error or "")
    assert not [e for e in events if isinstance(e, ToolCallStarted)]
    assert not (tmp_path / "made.txt").exists()


@pytest.mark.parametrize("api", APIS)
async def test_non_sse_200_body_is_retried_not_taken_as_empty(llm_server: FakeLLMServer, tmp_path: Path,
                                                              api: str) -> None:
    llm_server.add(raw_body("<html><body>Bad gateway page</body></html>"))
    llm_server.add(text("the real answer"))
    agent, pool = make_agent(llm_server, tmp_path, api=api, max_retries=2)
    events: list = []
    ended = await run(agent, pool, "hi", allow_all(events))
    assert ended.reason == "completed" and ended.text == "the real answer"
    retries = [e.text for e in events if isinstance(e, Notice) and "Retrying" in e.text]
    assert len(retries) == 1, retries
    assert len(llm_server.requests) == 2


@pytest.mark.parametrize("api", APIS)
async def test_keep_alives_do_not_hold_a_request_open(llm_server: FakeLLMServer, tmp_path: Path, api: str) -> None:
    # After the first frame only ": OPENROUTER PROCESSING" comments / ping events arrive, every 50 ms: the
    # SDK's read timeout never fires, so only a no-progress deadline ends this.
    llm_server.add(text("never"), keep_alive(after_events=1, every=0.05))
    agent, pool = make_agent(llm_server, tmp_path, api=api, max_retries=0, request_timeout=1.0)
    ended = await asyncio.wait_for(run(agent, pool, "hi", allow_all([])), 60)
    assert ended.reason == "error"
    assert "no progress" in (ended.error or ""), ended.error


@pytest.mark.parametrize("api", APIS)
async def test_x_should_retry_false_is_honoured(llm_server: FakeLLMServer, tmp_path: Path, api: str) -> None:
    """A 500 that says `x-should-retry: false` was retried anyway (issue 12, low)."""
    from tests.fake_llm_server import status

    llm_server.add(status(500, headers={"x-should-retry": "false"}))
    llm_server.add(text("should not be asked for"))
    agent, pool = make_agent(llm_server, tmp_path, api=api, max_retries=3)
    ended = await run(agent, pool, "hi", allow_all([]))
    assert ended.reason == "error"
    assert len(llm_server.requests) == 1

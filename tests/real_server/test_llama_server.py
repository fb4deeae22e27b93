"""Against a real llama.cpp llama-server (SmolLM2-135M, ``-c 4096``): both wire formats stream, tool calls
stream in its tool mode, the window is read from the server, and a plain chat continued across processes
outgrows the window and keeps answering. Replies are kept short (small max_tokens): the model writes ~130
tokens/s on an idle machine, far fewer on a busy one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.providers.helpers import READ_FILE, collect
from tests.real_server.conftest import MODEL, LlamaServer
from tunacode_tui.core.messages import Message
from tunacode_tui.core.stream import StreamEnded, TextChunk, ToolCallBegan, ToolCallReady, UsageReported
from tunacode_tui.providers.anthropic_messages import AnthropicProvider
from tunacode_tui.providers.base import ChatRequest
from tunacode_tui.providers.openai_chat import OpenAIChatProvider

pytestmark = pytest.mark.real_server


def openai_adapter(server: LlamaServer) -> OpenAIChatProvider:
    return OpenAIChatProvider(api_key="sk-local", base_url=server.v1, provider="openai-compatible", timeout=300)


def anthropic_adapter(server: LlamaServer) -> AnthropicProvider:
    return AnthropicProvider(api_key="sk-local", base_url=server.url, timeout=300)


def chat(prompt: str, *, max_tokens: int, tools: list[Any] | None = None) -> ChatRequest:
    return ChatRequest(model=MODEL, system="You are a helpful assistant.", messages=[Message.user(prompt)],
                       tools=tools or [], max_tokens=max_tokens)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_text_streams_on_both_wires(llama: LlamaServer, wire: str) -> None:
    adapter = openai_adapter(llama) if wire == "openai" else anthropic_adapter(llama)
    try:
        # A prompt of its own per wire: a prompt the server has cached whole is reported as 0 input tokens.
        events = await collect(adapter.stream(chat(f"Say hello to the {wire} wire in five words.", max_tokens=16)))
    finally:
        await adapter.aclose()
    chunks = [e for e in events if isinstance(e, TextChunk)]
    ended = events[-1]
    assert isinstance(ended, StreamEnded)
    assert len(chunks) > 1, "streamed in pieces, not in one block"
    assert ended.message.text == "".join(c.text for c in chunks) and ended.message.text.strip()
    assert ended.stop_reason in ("end_turn", "max_tokens")
    assert 0 < ended.usage.output_tokens <= 16
    assert ended.usage.prompt_tokens > 0
    assert any(isinstance(e, UsageReported) for e in events)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_the_window_is_what_the_server_accepts(llama: LlamaServer, wire: str) -> None:
    # /v1/models says n_ctx 4096 (the -c flag) and n_ctx_train 8192 (the model): 4096 is the answer.
    adapter = openai_adapter(llama) if wire == "openai" else anthropic_adapter(llama)
    try:
        assert await adapter.context_window(MODEL) == 4096
        assert await adapter.context_window("any-name-the-user-typed") == 4096
    finally:
        await adapter.aclose()


async def test_a_prompt_over_the_window_is_a_context_overflow(llama: LlamaServer) -> None:
    from tunacode_tui.providers.errors import ContextOverflow

    adapter = openai_adapter(llama)
    try:
        with pytest.raises(ContextOverflow) as info:
            await collect(adapter.stream(chat("hello " * 5000, max_tokens=8)))
    finally:
        await adapter.aclose()
    assert info.value.window == 4096 and (info.value.prompt_tokens or 0) > 4096
    assert "/compact" in str(info.value)


async def test_tool_calls_stream_in_tool_mode(llama_tools: LlamaServer) -> None:
    adapter = openai_adapter(llama_tools)
    try:
        events = await collect(adapter.stream(chat("Read the file a.py.", max_tokens=40, tools=[READ_FILE])))
    finally:
        await adapter.aclose()
    began = [e for e in events if isinstance(e, ToolCallBegan)]
    ready = [e.call for e in events if isinstance(e, ToolCallReady)]
    assert began and ready, [type(e).__name__ for e in events]
    assert began[0].name == "read_file"
    complete = [c for c in ready if c.parse_error is None]
    assert complete and isinstance(complete[0].arguments.get("file_path"), str)
    assert events[-1].message.tool_calls  # type: ignore[union-attr]


@pytest.mark.timeout(900)
def test_a_continued_chat_outgrows_4096_tokens_and_keeps_answering(llama: LlamaServer, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    config = tmp_path / "tunacode.json"
    config.write_text(json.dumps({"default_model": f"openai-compatible:{MODEL}",
                                  "settings": {"max_response_tokens": 32}}))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    env.update({"OPENAI_BASE_URL": llama.v1, "OPENAI_API_KEY": "sk-local", "TUNACODE_CONFIG": str(config),
                "TUNACODE_DATA_DIR": str(tmp_path / "data")})
    env.pop("TUNACODE_MODEL", None)
    topic = "Tell me about the rivers, bridges, museums and old streets of Paris and what makes each special. "
    windows: set[int] = set()
    trims: list[dict[str, Any]] = []
    answers: list[str] = []
    for turn in range(5):  # ~850 tokens a turn: the fifth passes 85 % of 4,096
        args = ["-p", f"Question {turn + 1}. {topic * 40}", "--output-format", "stream-json"]
        proc = subprocess.run([sys.executable, "-m", "tunacode_tui", "--cwd", str(project), *args,
                               *(["--continue"] if turn else [])],
                              capture_output=True, text=True, env=env, timeout=400)
        assert proc.returncode == 0, f"turn {turn + 1} exited {proc.returncode}: {proc.stderr[-2000:]}"
        records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        windows |= {r["context_window"] for r in records if r["type"] == "usage"}
        trims += [r for r in records if r["type"] == "context_trimmed"]
        result = records[-1]
        assert result["type"] == "result"
        answers.append(result["text"])
    assert windows == {4096}, "the gauge shows the server's window"
    assert any(t["what"] in ("compacted", "dropped") for t in trims), "the chat outgrew the window"
    assert all(a.strip() for a in answers), answers


@pytest.mark.timeout(600)
async def test_one_turn_with_a_large_tool_output_fits_the_window(llama_tools: LlamaServer, tmp_path: Path) -> None:
    """The model reads a 130 KB file (~40,000 tokens) on a 4,096-token server: the result is cut to its share
    of the window and the turn goes on to an answer instead of being refused for size."""
    from tunacode_tui.agent.factory import build_agent
    from tunacode_tui.config.settings import Config
    from tunacode_tui.core.events import ContextTrimmed, Notice, PermissionDecision, PermissionRequested
    from tunacode_tui.core.events import ToolCallFinished as Finished
    from tunacode_tui.providers.registry import ProviderPool

    (tmp_path / "a.py").write_text("".join(f"line {i}: the quick brown fox jumps over the lazy dog {i}\n"
                                           for i in range(3000)))
    config = Config()
    config.env = {"OPENAI_BASE_URL": llama_tools.v1, "OPENAI_API_KEY": "sk-local"}
    config.settings.max_iterations = 4
    config.settings.max_response_tokens = 48
    pool = ProviderPool()
    agent = build_agent(config, model=f"openai-compatible:{MODEL}", root=tmp_path, pool=pool)
    events: list[Any] = []

    def sink(event: Any) -> None:
        events.append(event)
        if isinstance(event, PermissionRequested):
            event.future.set_result(PermissionDecision(True))

    try:
        ended = await agent.run_turn("Use read_file to read the file a.py.", sink)
    finally:
        await pool.aclose()
    reads = [e for e in events if isinstance(e, Finished) and e.name == "read_file" and e.ok]
    assert reads and max(len(e.result) for e in reads) > 100_000, "the model read the large file"
    assert ended.reason in ("completed", "max_iterations"), ended.error
    assert any(isinstance(e, ContextTrimmed) and e.kind == "truncated" for e in events)
    assert not any(isinstance(e, Notice) and "no longer fits" in e.text for e in events)
    assert agent.model_info.context_window == 4096


@pytest.mark.timeout(300)
def test_the_anthropic_provider_runs_a_turn_on_v1_messages(llama: LlamaServer, tmp_path: Path) -> None:
    """The whole agent on the Anthropic wire of the same server: headless, one turn, the server's window."""
    config = tmp_path / "tunacode.json"
    config.write_text(json.dumps({"settings": {"max_response_tokens": 24}}))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and "BASE_URL" not in k}
    env.update({"ANTHROPIC_BASE_URL": llama.url, "ANTHROPIC_API_KEY": "sk-local", "TUNACODE_CONFIG": str(config),
                "TUNACODE_DATA_DIR": str(tmp_path / "data")})
    env.pop("TUNACODE_MODEL", None)
    proc = subprocess.run([sys.executable, "-m", "tunacode_tui", "--cwd", str(tmp_path), "--model",
                           f"anthropic:{MODEL}", "-p", "Name three colours.", "--output-format", "stream-json"],
                          capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert records[-1]["type"] == "result" and records[-1]["text"].strip()
    assert {r["context_window"] for r in records if r["type"] == "usage"} == {4096}

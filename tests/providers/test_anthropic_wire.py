"""AnthropicProvider against the fake server speaking the real Messages SSE wire."""

from __future__ import annotations

import pytest

from tests.fake_llm_server import (
    FakeLLMServer,
    drop_after,
    hang,
    malformed_tool_json,
    redacted_thinking,
    status,
    text,
    thinking,
    tool_call,
    usage,
)
from tests.providers.conftest import API_KEY
from tests.providers.helpers import collect, ended, of_type, request, timed
from tunacode_tui.core.messages import (
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from tunacode_tui.core.stream import (
    TextChunk,
    ThinkingChunk,
    ToolCallArgsChunk,
    ToolCallBegan,
    ToolCallReady,
    UsageReported,
)
from tunacode_tui.providers.anthropic_messages import AnthropicProvider
from tunacode_tui.providers.errors import (
    AuthenticationFailed,
    ContextOverflow,
    ModelNotFound,
    ProviderTimeout,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from tunacode_tui.providers.retry import stream_with_retry

MODEL = "claude-sonnet-5"


async def test_text_streams_in_chunks(llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider) -> None:
    llm_server.add(text("Hello, world"), chunk_size=5)

    events = await collect(anthropic_provider.stream(request(model=MODEL)))

    assert [e.text for e in of_type(events, TextChunk)] == ["Hello", ", wor", "ld"]
    end = ended(events)
    assert end.stop_reason == "end_turn"
    assert end.message.text == "Hello, world"
    body = llm_server.last_body
    assert llm_server.requests[-1].path == "/v1/messages"
    assert body["system"] == "You are a test."
    assert body["max_tokens"] == 8192
    assert body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert body["tools"] == [{"name": "read_file", "description": "Read a file.",
                              "input_schema": request().tools[0].parameters}]


async def test_parallel_tool_calls_ready_on_block_stop(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(
        text("Reading both."),
        tool_call("read_file", {"file_path": "a.py"}, id="toolu_a"),
        tool_call("read_file", {"file_path": "b.py"}, id="toolu_b"),
        chunk_size=4,
        delay=0.02,
    )

    stamped = await timed(anthropic_provider.stream(request(model=MODEL)))
    events = [event for _, event in stamped]

    assert [(b.index, b.id) for b in of_type(events, ToolCallBegan)] == [(0, "toolu_a"), (1, "toolu_b")]
    ready = of_type(events, ToolCallReady)
    assert [(r.index, r.call.arguments) for r in ready] == [(0, {"file_path": "a.py"}), (1, {"file_path": "b.py"})]
    assert len([a for a in of_type(events, ToolCallArgsChunk) if a.index == 0]) > 3
    position = {id(e): i for i, e in enumerate(events)}
    began_1 = of_type(events, ToolCallBegan)[1]
    assert position[id(ready[0])] < position[id(began_1)]
    ready0_at = next(t for t, e in stamped if e is ready[0])
    assert stamped[-1][0] - ready0_at > 0.1, "call 0 should be ready while call 1 still streams"
    end = ended(events)
    assert end.stop_reason == "tool_use"
    assert [type(p) for p in end.message.parts] == [TextPart, ToolCallPart, ToolCallPart]


async def test_usage_from_message_start_and_delta(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(text("ok"), usage(input=30, output=12, cache_read=900, cache_write=40))

    events = await collect(anthropic_provider.stream(request(model=MODEL)))

    expected = Usage(input_tokens=30, output_tokens=12, cache_read_tokens=900, cache_write_tokens=40)
    assert [u.usage for u in of_type(events, UsageReported)] == [expected]
    assert ended(events).usage == expected


async def test_thinking_signature_round_trips_into_the_next_request(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(
        thinking("I should read a.py first.", signature="sig-abc123"),
        redacted_thinking("ENCRYPTED=="),
        tool_call("read_file", {"file_path": "a.py"}, id="toolu_1"),
        chunk_size=6,
    )
    llm_server.add(text("It prints a."))

    first = await collect(anthropic_provider.stream(request(model=MODEL)))
    assistant = ended(first).message
    assert "".join(c.text for c in of_type(first, ThinkingChunk)) == "I should read a.py first."
    assert assistant.parts[0] == ThinkingPart("I should read a.py first.", signature="sig-abc123")
    assert assistant.parts[1] == ThinkingPart("", redacted_data="ENCRYPTED==")

    history = [
        Message.user("hi"),
        assistant,
        Message("tool", [ToolResultPart("toolu_1", "read_file", "print('a')")]),
    ]
    second = await collect(anthropic_provider.stream(request(*history, model=MODEL)))

    assert ended(second).message.text == "It prints a."
    sent = llm_server.requests[1].body["messages"]
    assert sent[1] == {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "I should read a.py first.", "signature": "sig-abc123"},
        {"type": "redacted_thinking", "data": "ENCRYPTED=="},
        {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"file_path": "a.py"}},
    ]}
    assert sent[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "print('a')"}]}


async def test_history_translation_merges_tool_results(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(text("ok"))
    history = [
        Message.user("read two files"),
        Message("assistant", [
            TextPart("Sure."),
            ThinkingPart("late but signed", signature="s1"),  # must still go first
            ThinkingPart("unsigned thoughts from another provider"),
            ToolCallPart("t1", "read_file", {"file_path": "a.py"}),
            ToolCallPart("t2", "read_file", {}, raw_arguments="{oops", parse_error="bad"),
        ]),
        Message("tool", [ToolResultPart("t1", "read_file", "A")]),
        Message("tool", [ToolResultPart("t2", "read_file", "bad arguments", is_error=True)]),
        Message.user("and then?"),
    ]

    await collect(anthropic_provider.stream(request(*history, model=MODEL, max_tokens=1000)))

    body = llm_server.last_body
    assert body["max_tokens"] == 1000
    messages = body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": "late but signed", "signature": "s1"},
        {"type": "text", "text": "Sure."},
        {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"file_path": "a.py"}},
        {"type": "tool_use", "id": "t2", "name": "read_file", "input": {}},
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "A"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "bad arguments", "is_error": True},
        {"type": "text", "text": "and then?"},
    ]


async def test_non_streaming_yields_the_same_events(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(thinking("hmm", signature="s"), text("Hi."), tool_call("read_file", {"file_path": "a"}, id="t"),
                   usage(input=5, output=6))

    events = await collect(anthropic_provider.stream(request(model=MODEL, stream=False)))

    assert not llm_server.last_body.get("stream")
    assert [type(e).__name__ for e in events] == [
        "ThinkingChunk", "TextChunk", "ToolCallBegan", "ToolCallArgsChunk", "ToolCallReady", "UsageReported",
        "StreamEnded"]
    end = ended(events)
    assert end.stop_reason == "tool_use"
    assert end.message.parts[0] == ThinkingPart("hmm", signature="s")
    assert end.usage == Usage(input_tokens=5, output_tokens=6)


async def test_malformed_tool_json(llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider) -> None:
    llm_server.add(malformed_tool_json("read_file", raw='{"file_path": ', id="t"), chunk_size=3)

    events = await collect(anthropic_provider.stream(request(model=MODEL)))

    (ready,) = of_type(events, ToolCallReady)
    assert ready.call.parse_error is not None
    assert ready.call.raw_arguments == '{"file_path": '


async def test_drop_mid_response_is_interrupted(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(text("Hello there, friend"), drop_after(5), chunk_size=5)
    seen: list[object] = []

    with pytest.raises(StreamInterrupted):
        async for event in stream_with_retry(lambda: anthropic_provider.stream(request(model=MODEL))):
            seen.append(event)

    # message_start, ping, block start, then two 5-character text deltas arrived; shown once, never retried.
    assert "".join(e.text for e in of_type(seen, TextChunk)) == "Hello ther"
    assert len(llm_server.requests) == 1


async def test_drop_before_first_event_is_retried(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(text("lost"), drop_after(2))  # message_start + ping only: nothing reached the caller
    llm_server.add(text("second try"))

    async def no_sleep(delay: float) -> None:
        pass

    events = await collect(stream_with_retry(lambda: anthropic_provider.stream(request(model=MODEL)),
                                             sleep=no_sleep))

    assert ended(events).message.text == "second try"
    assert len(llm_server.requests) == 2


async def test_hung_response_times_out(llm_server: FakeLLMServer) -> None:
    llm_server.add(hang())
    provider = AnthropicProvider(api_key=API_KEY, base_url=llm_server.anthropic_base_url, timeout=0.5)
    try:
        with pytest.raises(ProviderTimeout):
            await collect(provider.stream(request(model=MODEL)))
    finally:
        await provider.aclose()


async def test_overloaded_then_rate_limited_then_success(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(status(529))
    llm_server.add(status(429, headers={"retry-after-ms": "1500"}))
    llm_server.add(text("ok"))
    calls: list[tuple[type, float, int]] = []

    async def fake_sleep(delay: float) -> None:
        pass

    events = await collect(stream_with_retry(
        lambda: anthropic_provider.stream(request(model=MODEL)), sleep=fake_sleep, rng=lambda: 0.5,
        on_retry=lambda err, delay, n: calls.append((type(err), delay, n))))

    assert ended(events).message.text == "ok"
    assert calls[0][0] is ServerError and calls[0][2] == 1
    assert calls[1] == (RateLimited, 1.5, 2)


async def test_401_names_anthropic_key(llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider) -> None:
    llm_server.add(status(401, message="invalid x-api-key"))

    with pytest.raises(AuthenticationFailed) as info:
        await collect(anthropic_provider.stream(request(model=MODEL)))

    # Pointed at a local server, the message names that server rather than Anthropic.
    assert f"The server at {llm_server.anthropic_base_url} rejected the API key (401). Check ANTHROPIC_API_KEY" \
        in str(info.value)
    assert "invalid x-api-key" in str(info.value)
    assert API_KEY not in str(info.value)


async def test_404_model(llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider) -> None:
    llm_server.add(status(404, message="model: claude-nope"))

    with pytest.raises(ModelNotFound, match=r"Model 'claude-nope' was not found at http://127\.0\.0\.1"):
        await collect(anthropic_provider.stream(request(model="claude-nope")))


async def test_prompt_too_long_is_context_overflow(
    llm_server: FakeLLMServer, anthropic_provider: AnthropicProvider
) -> None:
    llm_server.add(status(400, message="prompt is too long: 210000 tokens > 200000 maximum"))

    with pytest.raises(ContextOverflow) as info:
        await collect(anthropic_provider.stream(request(model=MODEL)))

    assert "/compact" in str(info.value) and "210000 tokens" in str(info.value)


async def test_reasoning_asks_for_adaptive_thinking(llm_server, anthropic_provider) -> None:
    from tests.fake_llm_server import text, thinking
    from tunacode_tui.core.messages import Message
    from tunacode_tui.core.stream import ThinkingChunk
    from tunacode_tui.providers.base import ChatRequest

    llm_server.add(thinking("weighing options", signature="s1"), text("ok"))
    request = ChatRequest(model="claude-sonnet-5-5", system="s", messages=[Message.user("hi")], tools=[],
                          reasoning="high")
    events = [e async for e in anthropic_provider.stream(request)]
    body = llm_server.requests[0].body
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert body["output_config"] == {"effort": "high"}
    assert any(isinstance(e, ThinkingChunk) for e in events)

"""OpenAIChatProvider against the fake server speaking the real Chat Completions SSE wire."""

from __future__ import annotations

import pytest

from tests.fake_llm_server import (
    FakeLLMServer,
    drop_after,
    hang,
    malformed_tool_json,
    status,
    stop,
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
from tunacode_tui.providers.errors import (
    AuthenticationFailed,
    ModelNotFound,
    ProviderTimeout,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from tunacode_tui.providers.openai_chat import OpenAIChatProvider
from tunacode_tui.providers.retry import stream_with_retry


async def test_text_streams_in_chunks(llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider) -> None:
    llm_server.add(text("Hello, world"), usage(input=12, output=3), chunk_size=4)

    events = await collect(openai_provider.stream(request()))

    assert [e.text for e in of_type(events, TextChunk)] == ["Hell", "o, w", "orld"]
    end = ended(events)
    assert end.stop_reason == "end_turn"
    assert end.message.role == "assistant"
    assert end.message.text == "Hello, world"
    body = llm_server.last_body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"][0] == {"role": "system", "content": "You are a test."}
    assert body["messages"][1] == {"role": "user", "content": "hi"}
    assert body["tools"][0]["function"]["name"] == "read_file"


async def test_parallel_tool_calls_are_ready_before_the_stream_ends(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(
        text("Reading both."),
        tool_call("read_file", {"file_path": "a.py"}, id="call_a"),
        tool_call("read_file", {"file_path": "b.py"}, id="call_b"),
        tool_call("read_file", {"file_path": "c.py"}, id="call_c"),
        chunk_size=4,
        delay=0.02,
    )

    stamped = await timed(openai_provider.stream(request()))
    events = [event for _, event in stamped]

    began = of_type(events, ToolCallBegan)
    assert [(b.index, b.id, b.name) for b in began] == [
        (0, "call_a", "read_file"), (1, "call_b", "read_file"), (2, "call_c", "read_file")]
    ready = of_type(events, ToolCallReady)
    assert [r.index for r in ready] == [0, 1, 2]
    assert [r.call.arguments for r in ready] == [{"file_path": "a.py"}, {"file_path": "b.py"},
                                                 {"file_path": "c.py"}]
    # Arguments really were split across chunks, and reassemble exactly.
    fragments = [a.delta for a in of_type(events, ToolCallArgsChunk) if a.index == 0]
    assert len(fragments) > 3
    assert "".join(fragments) == '{"file_path": "a.py"}'
    # Early readiness: call 0 is ready before call 1's arguments stream, well before the end.
    position = {id(e): i for i, e in enumerate(events)}
    first_args_of_1 = next(a for a in of_type(events, ToolCallArgsChunk) if a.index == 1)
    assert position[id(ready[0])] < position[id(first_args_of_1)]
    ready0_at = next(t for t, e in stamped if e is ready[0])
    end_at = stamped[-1][0]
    assert end_at - ready0_at > 0.1, "call 0 should be ready while the model is still streaming"
    end = ended(events)
    assert end.stop_reason == "tool_use"
    assert [p.id for p in end.message.tool_calls] == ["call_a", "call_b", "call_c"]
    assert end.message.text == "Reading both."


async def test_usage_with_cached_tokens(llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider) -> None:
    llm_server.add(text("ok"), usage(input=100, output=20, cache_read=60))

    events = await collect(openai_provider.stream(request()))

    expected = Usage(input_tokens=100, output_tokens=20, cache_read_tokens=60)
    assert [u.usage for u in of_type(events, UsageReported)] == [expected]
    assert ended(events).usage == expected
    assert expected.prompt_tokens == 160


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_deltas_become_thinking(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider, field: str
) -> None:
    llm_server.add(thinking("Let me think.", field=field), text("Answer."), chunk_size=5)

    events = await collect(openai_provider.stream(request()))

    assert "".join(c.text for c in of_type(events, ThinkingChunk)) == "Let me think."
    parts = ended(events).message.parts
    assert isinstance(parts[0], ThinkingPart) and parts[0].text == "Let me think."
    assert isinstance(parts[1], TextPart) and parts[1].text == "Answer."


async def test_non_streaming_yields_the_same_events(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(text("Hi."), tool_call("read_file", {"file_path": "a.py"}, id="c1"), usage(input=7, output=2))

    events = await collect(openai_provider.stream(request(stream=False)))

    assert "stream" not in llm_server.last_body or llm_server.last_body["stream"] is False
    assert [type(e).__name__ for e in events] == [
        "TextChunk", "ToolCallBegan", "ToolCallArgsChunk", "ToolCallReady", "UsageReported", "StreamEnded"]
    end = ended(events)
    assert end.stop_reason == "tool_use"
    assert end.message.tool_calls[0].arguments == {"file_path": "a.py"}
    assert end.usage == Usage(input_tokens=7, output_tokens=2)


async def test_stream_options_rejected_then_retried_without(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(status(400, message="Unrecognized request argument supplied: stream_options"))
    llm_server.add(text("fine"))
    llm_server.add(text("again"))

    first = await collect(openai_provider.stream(request()))
    second = await collect(openai_provider.stream(request()))

    assert ended(first).message.text == "fine"
    assert ended(second).message.text == "again"
    assert "stream_options" in llm_server.requests[0].body
    assert "stream_options" not in llm_server.requests[1].body
    assert "stream_options" not in llm_server.requests[2].body  # remembered: no second 400
    assert of_type(first, UsageReported) == []  # no usage without stream_options, and no crash


async def test_history_translation(llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider) -> None:
    llm_server.add(text("done"))
    history = [
        Message.user("read a.py"),
        Message("assistant", [
            ThinkingPart("private reasoning"),
            TextPart("Reading."),
            ToolCallPart("c1", "read_file", {"file_path": "a.py"}, raw_arguments='{"file_path":"a.py"}'),
            ToolCallPart("c2", "read_file", {}, raw_arguments='{"file_path": ', parse_error="bad json"),
        ]),
        Message("tool", [
            ToolResultPart("c1", "read_file", "print('a')"),
            ToolResultPart("c2", "read_file", "arguments are not valid JSON", is_error=True),
        ]),
    ]

    await collect(openai_provider.stream(request(*history, max_tokens=500)))

    body = llm_server.last_body
    assert body["max_completion_tokens"] == 500 and "max_tokens" not in body
    messages = body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool"]
    assistant = messages[2]
    assert assistant["content"] == "Reading."
    assert "private reasoning" not in str(assistant)
    assert assistant["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"file_path":"a.py"}'}},
        {"id": "c2", "type": "function", "function": {"name": "read_file", "arguments": "{}"}},
    ]
    assert messages[3] == {"role": "tool", "tool_call_id": "c1", "content": "print('a')"}
    assert messages[4]["tool_call_id"] == "c2" and messages[4]["content"].startswith("Error: ")


async def test_reasoning_models_get_a_developer_message(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(text("ok"))
    await collect(openai_provider.stream(request(model="o3-mini")))
    assert llm_server.last_body["messages"][0]["role"] == "developer"


async def test_compatible_endpoints_get_max_tokens(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("ok"), stop("max_tokens"))
    provider = OpenAIChatProvider(api_key="not-needed", base_url=llm_server.openai_base_url,
                                  provider="openai-compatible", timeout=5.0)
    try:
        events = await collect(provider.stream(request(model="qwen2.5-coder:7b", max_tokens=64)))
    finally:
        await provider.aclose()
    body = llm_server.last_body
    assert body["max_tokens"] == 64 and "max_completion_tokens" not in body
    assert body["messages"][0]["role"] == "system"
    assert ended(events).stop_reason == "max_tokens"


async def test_malformed_tool_json_keeps_raw_text_and_error(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(malformed_tool_json("read_file", raw='{"file_path": "a.py"', id="bad"), chunk_size=5)

    events = await collect(openai_provider.stream(request()))

    (ready,) = of_type(events, ToolCallReady)
    assert ready.call.parse_error and "not valid JSON" in ready.call.parse_error
    assert ready.call.raw_arguments == '{"file_path": "a.py"'
    assert ready.call.arguments == {}
    assert ended(events).message.tool_calls[0].parse_error == ready.call.parse_error


async def test_drop_mid_response_is_interrupted_without_duplication(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(text("Hello there, this is long"), drop_after(3), chunk_size=5)
    llm_server.add(text("should never be requested"))
    seen: list[object] = []
    retries: list[object] = []

    with pytest.raises(StreamInterrupted):
        async for event in stream_with_retry(lambda: openai_provider.stream(request()),
                                             on_retry=lambda *a: retries.append(a)):
            seen.append(event)

    # Frame 1 is the role chunk, frames 2-3 carry text: exactly what arrived, once.
    assert "".join(e.text for e in of_type(seen, TextChunk)) == "Hello ther"
    assert retries == []
    assert len(llm_server.requests) == 1


async def test_drop_before_any_event_is_retried(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(text("lost"), drop_after(0))
    llm_server.add(text("second try"))
    delays: list[float] = []

    async def no_sleep(delay: float) -> None:
        delays.append(delay)

    events = await collect(stream_with_retry(lambda: openai_provider.stream(request()), sleep=no_sleep))

    assert ended(events).message.text == "second try"
    assert len(delays) == 1
    assert len(llm_server.requests) == 2


async def test_hung_response_times_out(llm_server: FakeLLMServer) -> None:
    llm_server.add(hang())
    provider = OpenAIChatProvider(api_key=API_KEY, base_url=llm_server.openai_base_url, timeout=0.5)
    try:
        with pytest.raises(ProviderTimeout) as info:
            await collect(provider.stream(request()))
    finally:
        await provider.aclose()
    assert "0.5 s" in str(info.value)


async def test_silence_mid_stream_times_out(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("partial answer"), hang(after_events=2), chunk_size=4)
    provider = OpenAIChatProvider(api_key=API_KEY, base_url=llm_server.openai_base_url, timeout=0.5)
    try:
        with pytest.raises(StreamInterrupted):
            await collect(stream_with_retry(lambda: provider.stream(request())))
    finally:
        await provider.aclose()


async def test_rate_limit_then_success_honours_retry_after(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    llm_server.add(status(429, headers={"retry-after": "1"}))
    llm_server.add(text("ok"))
    slept: list[float] = []
    reported: list[tuple[object, float, int]] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    events = await collect(stream_with_retry(
        lambda: openai_provider.stream(request()), sleep=fake_sleep,
        on_retry=lambda err, delay, n: reported.append((err, delay, n))))

    assert ended(events).message.text == "ok"
    assert slept == [1.0]
    (err, delay, number), = reported
    assert isinstance(err, RateLimited) and err.status == 429 and err.retry_after == 1.0
    assert (delay, number) == (1.0, 1)
    # The SDK did not retry on its own: exactly two requests, both from our loop.
    assert len(llm_server.requests) == 2
    assert llm_server.requests[0].headers.get("x-stainless-retry-count") == "0"


async def test_server_error_then_success(llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider) -> None:
    llm_server.add(status(500))
    llm_server.add(text("recovered"))
    errors: list[object] = []

    async def fake_sleep(delay: float) -> None:
        pass

    events = await collect(stream_with_retry(lambda: openai_provider.stream(request()), sleep=fake_sleep,
                                             on_retry=lambda err, *_: errors.append(err)))

    assert ended(events).message.text == "recovered"
    assert len(errors) == 1 and isinstance(errors[0], ServerError)


async def test_401_names_the_env_var_and_hides_the_key(llm_server: FakeLLMServer) -> None:
    secret = "sk-proj-SECRETSECRETSECRET123"
    llm_server.add(status(401, message=f"Incorrect API key provided: {secret}. Find your key at ...",
                          error_code="invalid_api_key"))
    provider = OpenAIChatProvider(api_key=secret, base_url=llm_server.openai_base_url, provider="openai",
                                  key_env="OPENAI_API_KEY")
    try:
        with pytest.raises(AuthenticationFailed) as info:
            await collect(provider.stream(request()))
    finally:
        await provider.aclose()
    message = str(info.value)
    assert message.startswith(f"The server at {llm_server.openai_base_url} rejected the API key (401). "
                              "Check OPENAI_API_KEY")
    assert "Incorrect API key provided" in message
    assert secret not in message
    assert info.value.retryable is False


async def test_404_model(llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider) -> None:
    llm_server.add(status(404, message="The model `gpt-9` does not exist", error_code="model_not_found"))

    with pytest.raises(ModelNotFound) as info:
        await collect(openai_provider.stream(request(model="gpt-9")))

    message = str(info.value)
    assert f"Model 'gpt-9' was not found at {llm_server.openai_base_url} (404)" in message
    assert "/model" in message and "does not exist" in message


async def test_stopping_early_closes_the_response(
    llm_server: FakeLLMServer, openai_provider: OpenAIChatProvider
) -> None:
    """The user interrupts (Esc): the consumer stops iterating; the next request must still work."""
    llm_server.add(text("a long answer that the user interrupts"), chunk_size=2, delay=0.05)
    llm_server.add(text("next turn"))

    stream = openai_provider.stream(request())
    async for event in stream:
        if isinstance(event, TextChunk):
            break
    await stream.aclose()  # type: ignore[attr-defined]

    events = await collect(openai_provider.stream(request()))
    assert ended(events).message.text == "next turn"


def test_reasoning_effort_only_for_reasoning_models() -> None:
    from tunacode_tui.core.messages import Message
    from tunacode_tui.providers.base import ChatRequest
    from tunacode_tui.providers.openai_chat import OpenAIChatProvider

    provider = OpenAIChatProvider(api_key="k", base_url="http://127.0.0.1:9/v1")
    ask = ChatRequest(model="gpt-5.5", system="s", messages=[Message.user("hi")], tools=[], reasoning="low")
    assert provider.build_params(ask)["reasoning_effort"] == "low"
    ask.model = "gpt-4.1"
    assert "reasoning_effort" not in provider.build_params(ask)

"""SDK errors, produced by real HTTP answers from the fake server, map to typed, actionable errors."""

from __future__ import annotations

import socket

import pytest

from tests.fake_llm_server import FakeLLMServer, error_event, status, text
from tests.providers.helpers import collect, request
from tunacode_tui.providers.anthropic_messages import AnthropicProvider
from tunacode_tui.providers.error_map import ErrorContext, map_error
from tunacode_tui.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    ContextOverflow,
    ProviderConnectionError,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from tunacode_tui.providers.openai_chat import OpenAIChatProvider


async def openai_error(server: FakeLLMServer, *, provider: str = "openai", key_env: str = "OPENAI_API_KEY",
                       api_key: str = "sk-test-key-000000") -> ProviderError:
    adapter = OpenAIChatProvider(api_key=api_key, base_url=server.openai_base_url, provider=provider,
                                 timeout=5.0, key_env=key_env)
    try:
        with pytest.raises(ProviderError) as info:
            await collect(adapter.stream(request()))
    finally:
        await adapter.aclose()
    return info.value


async def anthropic_error(server: FakeLLMServer) -> ProviderError:
    adapter = AnthropicProvider(api_key="sk-ant-test-000000", base_url=server.anthropic_base_url, timeout=5.0)
    try:
        with pytest.raises(ProviderError) as info:
            await collect(adapter.stream(request(model="claude-sonnet-5")))
    finally:
        await adapter.aclose()
    return info.value


async def test_429_with_retry_after_ms_is_rate_limited(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(429, headers={"retry-after-ms": "2500"}, message="Rate limit reached for gpt-4.1"))

    err = await openai_error(llm_server)

    assert isinstance(err, RateLimited) and err.retryable
    assert err.retry_after == 2.5 and err.status == 429 and err.provider == "openai"
    assert "Rate limit reached for gpt-4.1" in str(err)


async def test_insufficient_quota_is_not_retryable(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(429, message="You exceeded your current quota, please check your plan and billing details.",
                          error_code="insufficient_quota"))

    err = await openai_error(llm_server)

    assert isinstance(err, QuotaExhausted) and not err.retryable
    assert "OPENAI_API_KEY" in str(err)


async def test_openrouter_402_credit_is_quota(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(402, message="Insufficient credits. Add more using https://openrouter.ai/credits"))

    err = await openai_error(llm_server, provider="openrouter", key_env="OPENROUTER_API_KEY")

    assert isinstance(err, QuotaExhausted)
    assert str(err).startswith(f"The server at {llm_server.openai_base_url} says the account is out of quota or "
                               "credit (402)")


async def test_anthropic_low_credit_balance_is_quota(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(400, message="Your credit balance is too low to access the Anthropic API."))
    err = await anthropic_error(llm_server)
    assert isinstance(err, QuotaExhausted) and "ANTHROPIC_API_KEY" in str(err)


async def test_context_length_exceeded(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(400, message="This model's maximum context length is 128000 tokens.",
                          error_code="context_length_exceeded"))

    err = await openai_error(llm_server)

    assert isinstance(err, ContextOverflow) and isinstance(err, BadRequest)
    assert "/compact" in str(err)


async def test_other_400_is_bad_request_with_provider_text(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(400, message="Invalid schema for function 'read_file'"))

    err = await openai_error(llm_server)

    assert type(err) is BadRequest and not err.retryable
    assert "Invalid schema for function 'read_file'" in str(err)


@pytest.mark.parametrize("code", [500, 502, 503])
async def test_5xx_is_server_error(llm_server: FakeLLMServer, code: int) -> None:
    llm_server.add(status(code))
    err = await openai_error(llm_server)
    assert isinstance(err, ServerError) and err.retryable and err.status == code


async def test_anthropic_overloaded(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(529))
    err = await anthropic_error(llm_server)
    assert isinstance(err, ServerError) and "overloaded (529)" in str(err)


async def test_403_is_authentication_failed(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(403))
    err = await anthropic_error(llm_server)
    assert isinstance(err, AuthenticationFailed) and "ANTHROPIC_API_KEY" in str(err)


async def test_provider_text_is_truncated_and_secrets_removed(llm_server: FakeLLMServer) -> None:
    key = "sk-live-abcdefghijklmnop"
    llm_server.add(status(400, message=f"Bad key {key} and also sk-other-zzzzzzzzzzzz " + "x" * 1000))

    err = await openai_error(llm_server, api_key=key)

    message = str(err)
    assert key not in message and "sk-other-zzzzzzzzzzzz" not in message
    assert len(message) < 450
    assert message.endswith("…")


async def test_non_json_error_body(llm_server: FakeLLMServer) -> None:
    llm_server.add(status(502, body="<html>Bad gateway</html>"))
    err = await openai_error(llm_server)
    assert isinstance(err, ServerError) and "Bad gateway" in str(err)


async def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on ``port`` any more.
    adapter = OpenAIChatProvider(api_key="sk-x-000000", base_url=f"http://127.0.0.1:{port}/v1", timeout=2.0)
    try:
        with pytest.raises(ProviderConnectionError) as info:
            await collect(adapter.stream(request()))
    finally:
        await adapter.aclose()
    assert f"127.0.0.1:{port}" in str(info.value) and info.value.retryable


async def test_anthropic_error_event_inside_the_stream(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("never shown"), error_event(2, message="Overloaded", kind="overloaded_error"))
    err = await anthropic_error(llm_server)
    assert isinstance(err, ServerError) and err.retryable
    assert "mid-stream" in str(err) and "Overloaded" in str(err)


async def test_openrouter_error_chunk_inside_the_stream(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("partial"), error_event(2, message="Upstream provider returned 502", kind="502"))
    err = await openai_error(llm_server, provider="openrouter", key_env="OPENROUTER_API_KEY")
    assert isinstance(err, ServerError) and "Upstream provider returned 502" in str(err)


async def test_error_event_context_overflow(llm_server: FakeLLMServer) -> None:
    llm_server.add(error_event(0, message="prompt is too long: 300000 tokens", kind="invalid_request_error"))
    assert isinstance(await anthropic_error(llm_server), ContextOverflow)


def test_transport_errors_mid_stream_become_interrupted() -> None:
    import httpx2

    ctx = ErrorContext(provider="anthropic", model="m", base_url="https://api.anthropic.com")
    err = map_error(httpx2.RemoteProtocolError("peer closed connection"), ctx, mid_stream=True)
    assert isinstance(err, StreamInterrupted) and err.retryable
    assert "dropped mid-response" in str(err)
    assert isinstance(map_error(httpx2.ReadError("reset"), ctx, mid_stream=False), ProviderConnectionError)


def test_unknown_exceptions_are_wrapped_not_retried() -> None:
    ctx = ErrorContext(provider="openai", model="m", base_url="u", api_key="sk-secretsecret")
    err = map_error(ValueError("weird sk-secretsecret"), ctx)
    assert type(err) is ProviderError and not err.retryable
    assert "sk-secretsecret" not in str(err)


@pytest.mark.parametrize(("provider", "base_url", "label"), [
    ("openai", "https://api.openai.com/v1", "OpenAI"),
    ("anthropic", "https://api.anthropic.com", "Anthropic"),
    ("openrouter", "https://openrouter.ai/api/v1", "OpenRouter"),
    ("openai", "http://127.0.0.1:8080/v1", "the server at http://127.0.0.1:8080/v1"),
    ("anthropic", "http://localhost:8080", "the server at http://localhost:8080"),
    ("openai-compatible", "http://localhost:11434/v1", "the server at http://localhost:11434/v1"),
])
def test_messages_name_the_vendor_only_at_its_own_endpoint(provider: str, base_url: str, label: str) -> None:
    ctx = ErrorContext(provider=provider, model="m", base_url=base_url)
    assert ctx.label == label
    assert ctx.where.count(base_url) == 1  # "Could not reach …" names the URL once

"""Adapters pointed at the fake LLM server, closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fake_llm_server import FakeLLMServer
from tunacode_tui.providers.anthropic_messages import AnthropicProvider
from tunacode_tui.providers.openai_chat import OpenAIChatProvider

API_KEY = "sk-test-0123456789abcdef"


@pytest.fixture
async def openai_provider(llm_server: FakeLLMServer) -> AsyncIterator[OpenAIChatProvider]:
    provider = OpenAIChatProvider(api_key=API_KEY, base_url=llm_server.openai_base_url, provider="openai",
                                  timeout=5.0, key_env="OPENAI_API_KEY")
    yield provider
    await provider.aclose()


@pytest.fixture
async def anthropic_provider(llm_server: FakeLLMServer) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(api_key=API_KEY, base_url=llm_server.anthropic_base_url, timeout=5.0)
    yield provider
    await provider.aclose()

"""Shared fixtures. Each owner keeps its fixtures in its own delimited block."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# ---- providers: fake LLM server (tests/fake_llm_server.py) -------------------------------------------------
from tests.fake_llm_server import FakeLLMServer


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    """A started, empty-scripted fake OpenAI + Anthropic server on 127.0.0.1; stopped after the test."""
    with FakeLLMServer() as server:
        yield server


# ---- end providers -------------------------------------------------------------------------------------------

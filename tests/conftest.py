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


# ---- data folder: no test reads or writes the real user's data (permissions, history, approvals) ---------------
@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNACODE_DATA_DIR", str(tmp_path_factory.mktemp("data")))


# ---- end data folder ---------------------------------------------------------------------------------------------

"""Model-name parsing, the provider pool, and the lazy SDK imports that keep start-up fast."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fake_llm_server import FakeLLMServer, text
from tests.providers.helpers import collect, ended, request
from tunacode_tui.providers.base import ModelRef
from tunacode_tui.providers.errors import ConfigurationError, MissingApiKey
from tunacode_tui.providers.registry import ProviderPool, parse_model_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("openai:gpt-4.1", ModelRef("openai", "gpt-4.1")),
        ("anthropic:claude-sonnet-5", ModelRef("anthropic", "claude-sonnet-5")),
        ("openrouter:openai/gpt-4.1", ModelRef("openrouter", "openai/gpt-4.1")),
        ("openai-compatible:qwen2.5-coder:7b", ModelRef("openai-compatible", "qwen2.5-coder:7b")),
        ("OpenAI:gpt-4o", ModelRef("openai", "gpt-4o")),
        ("gpt-4.1", ModelRef("openai", "gpt-4.1")),
        ("o3-mini", ModelRef("openai", "o3-mini")),
        ("claude-opus-5", ModelRef("anthropic", "claude-opus-5")),
        ("  gpt-5  ", ModelRef("openai", "gpt-5")),
        ("meta-llama/llama-3.3-70b-instruct", ModelRef("openrouter", "meta-llama/llama-3.3-70b-instruct")),
    ],
)
def test_parse_model_name(name: str, expected: ModelRef) -> None:
    assert parse_model_name(name) == expected


@pytest.mark.parametrize("name", ["gemini:flash", "llama3", "", "openai:"])
def test_bad_names_list_the_valid_providers(name: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_model_name(name)
    message = str(info.value)
    if name != "openai:":
        assert "anthropic, openai, openrouter, openai-compatible" in message


async def test_pool_reuses_one_adapter_per_settings() -> None:
    pool = ProviderPool()
    keys = {"openai": "sk-a", "anthropic": "sk-ant"}
    first = pool.get(ModelRef("openai", "gpt-4.1"), api_keys=keys, base_urls={}, timeout=30)
    again = pool.get(ModelRef("openai", "gpt-4o"), api_keys=keys, base_urls={}, timeout=30)
    other_key = pool.get(ModelRef("openai", "gpt-4.1"), api_keys={"openai": "sk-b"}, base_urls={}, timeout=30)
    claude = pool.get(ModelRef("anthropic", "claude-sonnet-5"), api_keys=keys, base_urls={}, timeout=30)

    assert first is again
    assert other_key is not first
    assert claude is not first and claude.name == "anthropic"
    assert len(pool) == 3
    await pool.aclose()
    assert len(pool) == 0


def test_missing_keys_name_the_variable() -> None:
    pool = ProviderPool()
    for provider, variable in [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY"),
                               ("openrouter", "OPENROUTER_API_KEY")]:
        with pytest.raises(MissingApiKey) as info:
            pool.get(ModelRef(provider, "m"), api_keys={provider: "  "}, base_urls={}, timeout=30)
        assert info.value.variable == variable and variable in str(info.value)


async def test_keys_and_urls_may_be_keyed_by_env_var_name() -> None:
    pool = ProviderPool()
    adapter = pool.get(ModelRef("openrouter", "openai/gpt-4.1"), api_keys={"OPENROUTER_API_KEY": "sk-or-1"},
                       base_urls={}, timeout=30)
    assert adapter.base_url == "https://openrouter.ai/api/v1"  # type: ignore[attr-defined]
    await pool.aclose()


def test_openai_compatible_needs_a_base_url() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL"):
        ProviderPool().get(ModelRef("openai-compatible", "llama3"), api_keys={}, base_urls={}, timeout=30)


async def test_openai_compatible_without_key_sends_placeholder(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("local answer"))
    pool = ProviderPool()
    try:
        adapter = pool.get(ModelRef("openai-compatible", "qwen2.5-coder:7b"), api_keys={},
                           base_urls={"OPENAI_BASE_URL": llm_server.openai_base_url}, timeout=5)
        events = await collect(adapter.stream(request(model="qwen2.5-coder:7b")))
    finally:
        await pool.aclose()
    assert ended(events).message.text == "local answer"
    assert llm_server.requests[0].headers["authorization"] == "Bearer not-needed"
    assert len(pool) == 0


async def test_pool_adapters_talk_to_the_server_and_reuse_connections(llm_server: FakeLLMServer) -> None:
    llm_server.add(text("one"))
    llm_server.add(text("two"))
    pool = ProviderPool(extra_headers={"openrouter": {"X-Test": "yes"}})
    ref = parse_model_name("openrouter:openai/gpt-4.1")
    try:
        for expected in ("one", "two"):
            adapter = pool.get(ref, api_keys={"openrouter": "sk-or-test"},
                               base_urls={"openrouter": llm_server.openai_base_url}, timeout=5)
            events = await collect(adapter.stream(request(model=ref.model)))
            assert ended(events).message.text == expected
    finally:
        await pool.aclose()
    assert len(llm_server.requests) == 2
    assert llm_server.requests[0].peer == llm_server.requests[1].peer  # one client, one kept-alive connection
    headers = llm_server.requests[0].headers
    assert headers["x-title"] == "tunacode" and headers["x-test"] == "yes"
    assert llm_server.requests[0].body["model"] == "openai/gpt-4.1"


def test_importing_the_registry_imports_no_sdk() -> None:
    code = (
        "import sys\n"
        "import tunacode_tui.providers.registry, tunacode_tui.providers.retry\n"
        "import tunacode_tui.providers.error_map\n"
        "heavy = [m for m in ('openai', 'anthropic', 'httpx2', 'textual') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == ""

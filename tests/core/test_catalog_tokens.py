"""The model catalog and offline token counting."""

from __future__ import annotations

import pytest

from tunacode_tui.core.messages import Usage
from tunacode_tui.providers import catalog, tokens


def test_known_model_has_window_and_price() -> None:
    info = catalog.lookup("anthropic:claude-sonnet-5-5")
    assert info.known and info.context_window == 1_000_000 and info.price is not None
    cost = info.cost(Usage(input_tokens=1_000_000, output_tokens=1_000_000))
    assert cost == pytest.approx(info.price.input + info.price.output)


def test_dated_snapshot_prices_like_its_alias() -> None:
    assert catalog.lookup("openai:gpt-4.1-2025-04-14").price == catalog.lookup("openai:gpt-4.1").price


def test_unknown_model_has_a_default_window_and_unknown_price() -> None:
    info = catalog.lookup("openai:some-future-model")
    assert not info.known and info.price is None and info.context_window > 0
    assert info.cost(Usage(10, 10)) is None
    assert catalog.format_cost(None) == "unknown"


def test_local_endpoints_are_free_not_unknown() -> None:
    info = catalog.lookup("openai-compatible:qwen3-coder")
    assert info.cost(Usage(1000, 1000)) == 0.0


def test_context_window_override() -> None:
    assert catalog.lookup("openai:gpt-4.1", context_window_override=32_000).context_window == 32_000


def test_cached_input_is_cheaper() -> None:
    info = catalog.lookup("openai:gpt-4.1")
    fresh = info.cost(Usage(input_tokens=1000))
    cached = info.cost(Usage(cache_read_tokens=1000))
    assert cached is not None and fresh is not None and cached < fresh


def test_tokenizer_works_offline_from_the_bundled_file() -> None:
    # cl100k_base: "hello world" is two tokens. Exact counts prove the real BPE file loaded.
    assert tokens.is_exact(), tokens.tokenizer_status()
    assert tokens.count_tokens("hello world") == 2
    assert tokens.count_tokens("") == 0


def test_deprecated_models_are_marked() -> None:
    assert catalog.lookup("anthropic:claude-sonnet-4-5").deprecated

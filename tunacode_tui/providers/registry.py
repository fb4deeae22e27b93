"""Model names and the pool of provider clients.

``parse_model_name`` turns ``provider:model`` (or a bare, recognisable model name) into a ``ModelRef``.
``ProviderPool`` keeps one adapter per (provider, base URL, key, timeout), so the HTTP connection pool is
reused across turns. The adapters, and with them the ``openai`` (~0.5 s) and ``anthropic`` (~1.5 s) SDKs,
are imported only when a model of that provider is first used: importing this module imports neither.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from tunacode_tui.core.provider_table import PROVIDER_NAMES, PROVIDER_TABLE
from tunacode_tui.core.provider_table import PROVIDERS as PROVIDER_INFO
from tunacode_tui.providers.base import ModelRef, Provider
from tunacode_tui.providers.errors import ConfigurationError, MissingApiKey

PROVIDERS: tuple[str, ...] = PROVIDER_NAMES
API_KEY_ENV: dict[str, str] = {e.name: e.key_env for e in PROVIDER_TABLE}
BASE_URL_ENV: dict[str, str] = {e.name: e.base_url_env for e in PROVIDER_TABLE}
DEFAULT_BASE_URLS: dict[str, str] = {e.name: e.default_base_url for e in PROVIDER_TABLE if e.default_base_url}
# Local servers (Ollama, llama.cpp, LM Studio) do not check the key, but the SDK insists on one.
PLACEHOLDER_API_KEY = "not-needed"
# OpenRouter's app attribution headers: requests show up as tunacode in the user's activity page.
_OPENROUTER_HEADERS = {"X-Title": "tunacode", "HTTP-Referer": "https://github.com/tunacode/tunacode-tui"}

_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "codex-")
_ANTHROPIC_PREFIXES = ("claude",)


def parse_model_name(name: str) -> ModelRef:
    """Parse ``provider:model``; a bare ``gpt-…``/``o3…`` means OpenAI, ``claude…`` Anthropic, ``a/b`` OpenRouter.

    Only the first colon separates the provider, so ``openai-compatible:qwen2.5-coder:7b`` keeps its tag.
    """
    text = name.strip()
    if not text:
        raise ConfigurationError(_unknown("An empty model name", example="openai:gpt-4.1"))
    head, sep, rest = text.partition(":")
    if sep:
        provider = head.strip().lower()
        model = rest.strip()
        if provider not in PROVIDERS:
            raise ConfigurationError(
                f"Unknown provider '{head}' in model name '{name}'. Valid providers: {', '.join(PROVIDERS)} "
                f"(for a local model, write openai-compatible:{text})."
            )
        if not model:
            raise ConfigurationError(f"Model name '{name}' has no model after '{provider}:', e.g. {provider}:"
                                     f"{_example_model(provider)}.")
        return ModelRef(provider, model)
    lowered = text.lower()
    if lowered.startswith(_OPENAI_PREFIXES):
        return ModelRef("openai", text)
    if lowered.startswith(_ANTHROPIC_PREFIXES):
        return ModelRef("anthropic", text)
    if "/" in text:
        return ModelRef("openrouter", text)
    raise ConfigurationError(_unknown(f"Cannot tell which provider serves '{name}'", example=f"openai:{text}"))


def _unknown(what: str, *, example: str) -> str:
    return f"{what}: write it as provider:model, e.g. {example}. Valid providers: {', '.join(PROVIDERS)}."


def _example_model(provider: str) -> str:
    return {"anthropic": "claude-sonnet-5", "openrouter": "openai/gpt-4.1",
            "openai-compatible": "qwen2.5-coder:7b"}.get(provider, "gpt-4.1")


def _lookup(values: Mapping[str, str], provider: str, env_names: Mapping[str, str]) -> str:
    """A value keyed by provider name, else by its environment variable's name; blank counts as missing."""
    value = values.get(provider) or values.get(env_names.get(provider, ""), "")
    return value.strip()


def adapter_module(provider: str) -> str:
    """The module that implements ``provider`` (and imports its SDK)."""
    if provider == "anthropic":
        return "tunacode_tui.providers.anthropic_messages"
    return "tunacode_tui.providers.openai_chat"


def preload_adapter(provider: str) -> None:
    """Import a provider's adapter and SDK ahead of the first request. The TUI calls this in a thread
    after its first frame, so neither the first frame nor the first request waits for ``import
    anthropic`` (~1.5 s) or ``import openai`` (~0.6 s)."""
    importlib.import_module(adapter_module(provider))


class ProviderPool:
    """Creates each adapter once and hands the same one out for every request with the same settings."""

    def __init__(self, *, extra_headers: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._providers: dict[tuple[str, str, str, float], Provider] = {}
        self._extra_headers = {name: dict(headers) for name, headers in (extra_headers or {}).items()}

    def __len__(self) -> int:
        return len(self._providers)

    def get(
        self,
        ref: ModelRef,
        *,
        api_keys: Mapping[str, str],
        base_urls: Mapping[str, str],
        timeout: float,
    ) -> Provider:
        """The adapter for ``ref``. ``api_keys``/``base_urls`` are keyed by provider or by env var name.

        Raises ``MissingApiKey`` naming the variable to set, or ``ConfigurationError`` (unknown provider,
        openai-compatible without a base URL).
        """
        provider = ref.provider
        if provider not in PROVIDERS:
            raise ConfigurationError(f"Unknown provider '{provider}'. Valid providers: {', '.join(PROVIDERS)}.")
        base_url = _lookup(base_urls, provider, BASE_URL_ENV) or DEFAULT_BASE_URLS.get(provider, "")
        if not base_url:
            raise ConfigurationError(
                f"openai-compatible:{ref.model} needs the server's base URL: set {BASE_URL_ENV[provider]} "
                "or base_url in the config, e.g. http://localhost:11434/v1 for Ollama."
            )
        api_key = _lookup(api_keys, provider, API_KEY_ENV)
        if not api_key:
            if PROVIDER_INFO[provider].key_required:
                raise MissingApiKey(provider, API_KEY_ENV[provider])
            api_key = PLACEHOLDER_API_KEY
        key = (provider, base_url.rstrip("/"), api_key, float(timeout))
        existing = self._providers.get(key)
        if existing is not None:
            return existing
        created = self._create(provider, base_url=base_url, api_key=api_key, timeout=timeout)
        self._providers[key] = created
        return created

    def _create(self, provider: str, *, base_url: str, api_key: str, timeout: float) -> Provider:
        module = importlib.import_module(adapter_module(provider))
        headers = dict(_OPENROUTER_HEADERS) if provider == "openrouter" else {}
        headers.update(self._extra_headers.get(provider, {}))
        # The adapter modules are imported by name (lazily, see above), so their classes are typed here.
        adapter: Callable[..., Provider]
        if provider == "anthropic":
            adapter = module.AnthropicProvider
            return adapter(
                api_key=api_key, base_url=base_url, provider=provider, timeout=timeout,
                extra_headers=headers or None, key_env=API_KEY_ENV[provider],
            )
        adapter = module.OpenAIChatProvider
        return adapter(
            api_key=api_key, base_url=base_url, provider=provider, timeout=timeout,
            extra_headers=headers or None, key_env=API_KEY_ENV[provider],
        )

    async def aclose(self) -> None:
        """Close every client (and its connections); the pool can be used again afterwards."""
        providers = list(self._providers.values())
        self._providers.clear()
        for provider in providers:
            await provider.aclose()

"""The providers tunacode speaks to, once: their key and base-URL variables, default endpoint and model.

Config reads credentials through it, the provider registry builds clients from it, the setup screen offers
it and bash scrubs its key variables from commands' environments. One table, so the four can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    name: str
    label: str
    key_env: str
    base_url_env: str
    # None: the user must give one (a local or self-hosted server).
    default_base_url: str | None
    # A current model for a new user of this provider; None: no sensible default (local servers).
    default_model: str | None
    # Local servers do not check the key; the SDK still wants one, so a placeholder is sent.
    key_required: bool = True


PROVIDER_TABLE: tuple[ProviderEntry, ...] = (
    ProviderEntry("anthropic", "Anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
                  "https://api.anthropic.com", "anthropic:claude-sonnet-5-5"),
    ProviderEntry("openai", "OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL",
                  "https://api.openai.com/v1", "openai:gpt-5.6-terra"),
    ProviderEntry("openrouter", "OpenRouter", "OPENROUTER_API_KEY", "OPENROUTER_BASE_URL",
                  "https://openrouter.ai/api/v1", "openrouter:anthropic/claude-sonnet-5.5"),
    ProviderEntry("openai-compatible", "OpenAI-compatible (local or self-hosted)", "OPENAI_API_KEY",
                  "OPENAI_BASE_URL", None, None, key_required=False),
)

PROVIDERS: dict[str, ProviderEntry] = {entry.name: entry for entry in PROVIDER_TABLE}
PROVIDER_NAMES: tuple[str, ...] = tuple(PROVIDERS)
# Every variable that holds a credential: masked in logs and exports, never passed to bash.
KEY_VARIABLES: frozenset[str] = frozenset(entry.key_env for entry in PROVIDER_TABLE)
BASE_URL_VARIABLES: frozenset[str] = frozenset(entry.base_url_env for entry in PROVIDER_TABLE)

"""The settings model: what the config file holds and what the environment may override."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

# Environment variables that carry provider credentials or endpoints, in the order they are looked up.
KEY_VARIABLES: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "openai-compatible": "OPENAI_API_KEY",
}
ENV_KEYS = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
)

DEFAULT_MODELS = {
    "anthropic": "anthropic:claude-sonnet-5-5",
    "openai": "openai:gpt-5.6-terra",
    "openrouter": "openrouter:anthropic/claude-sonnet-5.5",
}


def is_secret_variable(name: str) -> bool:
    """A credential by its name: the provider keys, and any ``*_API_KEY`` (what bash never gets)."""
    upper = name.upper()
    return upper in KEY_VARIABLES.values() or upper.endswith("_API_KEY")


def default_max_parallel() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(slots=True)
class Settings:
    max_iterations: int = 40
    context_window: int | None = None
    max_response_tokens: int | None = None
    enable_streaming: bool = True
    max_parallel: int = field(default_factory=default_max_parallel)
    auto_compact_threshold: float = 0.85
    request_timeout: float = 120.0
    max_retries: int = 3
    loop_guard_repeats: int = 3
    allowed_tools: list[str] = field(default_factory=list)
    allowed_dirs: list[str] = field(default_factory=list)
    pass_keys_to_bash: bool = False
    # "low" | "medium" | "high": ask reasoning models to think (shown with /thoughts on); null: default.
    reasoning: str | None = None
    # Start read-only tools while the model is still streaming (off only to measure what it buys).
    early_tool_start: bool = True

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(slots=True)
class Config:
    """Everything tunacode needs to start. ``env`` holds keys/URLs from the file; real env wins."""

    default_model: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    # Where each effective value came from, for `/help` and error messages ("file", "env", "default").
    sources: dict[str, str] = field(default_factory=dict)
    # Keys taken out of the process environment at start (config/key_capture.py); memory only, never saved.
    captured: dict[str, str] = field(default_factory=dict)

    def lookup(self, variable: str) -> str | None:
        """Environment first (as it was at start), then the file's ``env`` section; empty counts as unset."""
        value = os.environ.get(variable) or self.captured.get(variable) or self.env.get(variable)
        return value or None

    @property
    def api_keys(self) -> dict[str, str]:
        keys = {}
        for provider, var in KEY_VARIABLES.items():
            value = self.lookup(var)
            if value:
                keys[provider] = value
        return keys

    @property
    def base_urls(self) -> dict[str, str]:
        urls = {}
        if url := self.lookup("OPENAI_BASE_URL"):
            urls["openai"] = url
            urls["openai-compatible"] = url
        if url := self.lookup("ANTHROPIC_BASE_URL"):
            urls["anthropic"] = url
        return urls

    def has_any_key(self) -> bool:
        return bool(self.api_keys) or bool(self.lookup("OPENAI_BASE_URL"))

    @property
    def model(self) -> str:
        """``TUNACODE_MODEL`` wins, then the file, then a current default for whichever key exists."""
        if env_model := os.environ.get("TUNACODE_MODEL"):
            return env_model
        if self.default_model:
            return self.default_model
        for provider in ("anthropic", "openai", "openrouter"):
            if self.lookup(KEY_VARIABLES[provider]):
                return DEFAULT_MODELS[provider]
        return DEFAULT_MODELS["anthropic"]

    def secrets(self) -> list[str]:
        """Every credential value we know of, so logs and exports can mask them."""
        out = []
        for var in ENV_KEYS:
            if "KEY" in var and (value := self.lookup(var)):
                out.append(value)
        return out

    def to_file_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"settings": self.settings.to_dict(), "env": dict(self.env)}
        if self.default_model:
            data["default_model"] = self.default_model
        return data

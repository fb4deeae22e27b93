"""The settings model: what the config file holds and what the environment may override."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunacode_tui.config.mcp import McpServerConfig

from tunacode_tui.core.provider_table import KEY_VARIABLES, PROVIDER_TABLE, PROVIDERS

# Current defaults for a new user, by provider (local servers have none).
DEFAULT_MODELS: dict[str, str] = {e.name: e.default_model for e in PROVIDER_TABLE if e.default_model}


def is_secret_variable(name: str) -> bool:
    """A credential by its name: the provider keys, and any ``*_API_KEY`` (what bash never gets)."""
    upper = name.upper()
    return upper in KEY_VARIABLES or upper.endswith("_API_KEY")


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
    # Keys the file holds that were ignored or moved, each with file:line and what to do; shown at start-up.
    warnings: list[str] = field(default_factory=list)
    # The user's MCP servers (``"mcp_servers"`` in the file; see config/mcp.py) and entries that were skipped.
    mcp_servers: dict[str, McpServerConfig] = field(default_factory=dict)
    mcp_problems: list[str] = field(default_factory=list)

    def lookup(self, variable: str) -> str | None:
        """Environment first (as it was at start), then the file's ``env`` section; empty counts as unset."""
        value = os.environ.get(variable) or self.captured.get(variable) or self.env.get(variable)
        return value or None

    @property
    def api_keys(self) -> dict[str, str]:
        keys = {}
        for entry in PROVIDER_TABLE:
            if value := self.lookup(entry.key_env):
                keys[entry.name] = value
        return keys

    @property
    def base_urls(self) -> dict[str, str]:
        urls = {}
        for entry in PROVIDER_TABLE:
            if url := self.lookup(entry.base_url_env):
                urls[entry.name] = url
        return urls

    def has_any_key(self) -> bool:
        # A local server needs no key, only its URL.
        local = [e.base_url_env for e in PROVIDER_TABLE if not e.key_required]
        return bool(self.api_keys) or any(self.lookup(var) for var in local)

    @property
    def model(self) -> str:
        """``TUNACODE_MODEL`` wins, then the file, then a current default for whichever key exists."""
        if env_model := os.environ.get("TUNACODE_MODEL"):
            return env_model
        if self.default_model:
            return self.default_model
        for provider, model in DEFAULT_MODELS.items():
            if self.lookup(PROVIDERS[provider].key_env):
                return model
        return DEFAULT_MODELS["anthropic"]

    def secrets(self) -> list[str]:
        """Every credential value we know of, so logs and exports can mask them."""
        return [value for var in sorted(KEY_VARIABLES) if (value := self.lookup(var))]

    def to_file_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"settings": self.settings.to_dict(), "env": dict(self.env)}
        if self.default_model:
            data["default_model"] = self.default_model
        return data

"""Assembling an Agent from the configuration: one place for the CLI, headless mode, the TUI and tests."""

from __future__ import annotations

from pathlib import Path

from tunacode_tui.agent.executor import Spawner
from tunacode_tui.agent.loop import Agent
from tunacode_tui.agent.state import SessionState
from tunacode_tui.config.settings import Config
from tunacode_tui.providers.base import ModelRef, Provider
from tunacode_tui.providers.registry import ProviderPool, parse_model_name


def build_agent(
    config: Config,
    *,
    model: str | None = None,
    root: Path | None = None,
    spawner: Spawner | None = None,
    pool: ProviderPool | None = None,
    state: SessionState | None = None,
) -> Agent:
    """Raises ``ConfigurationError`` for a bad model name; a missing key surfaces on the first request
    (as ``MissingApiKey``), so the UI can still open and offer setup."""
    from tunacode_tui.tools.registry import default_tools

    ref = parse_model_name(model or config.model)
    pool = pool or ProviderPool()

    def factory(target: ModelRef) -> Provider:
        return pool.get(
            target,
            api_keys=config.api_keys,
            base_urls=config.base_urls,
            timeout=config.settings.request_timeout,
        )

    return Agent(
        config=config,
        model=ref,
        provider_factory=factory,
        tools=default_tools(),
        root=(root or Path.cwd()).resolve(),
        state=state,
        spawner=spawner,
    )

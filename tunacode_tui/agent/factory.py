"""Assembling an Agent from the configuration: one place for the CLI, headless mode, the TUI and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tunacode_tui.agent.executor import Spawner
from tunacode_tui.agent.loop import Agent
from tunacode_tui.config.project import read_project_rules
from tunacode_tui.config.settings import Config
from tunacode_tui.core.state import SessionState
from tunacode_tui.providers.base import ModelRef, Provider
from tunacode_tui.providers.registry import ProviderPool, parse_model_name

if TYPE_CHECKING:
    from tunacode_tui.session.journal import SessionJournal
    from tunacode_tui.session.store import LoadedSession


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

    from tunacode_tui.tools.fileio import clean_stale_temps

    root = (root or Path.cwd()).resolve()
    clean_stale_temps(root)  # what a killed write left at the top of the project (our own pattern only)
    agent = Agent(
        config=config,
        model=ref,
        provider_factory=factory,
        tools=default_tools(),
        root=root,
        state=state,
        spawner=spawner,
    )
    rules, agent.startup_warnings = read_project_rules(agent.root)
    agent.state.allowed_tools.update(rules)
    return agent


@dataclass(slots=True)
class SessionBundle:
    """An agent wired to its session journal, ready for the CLI, headless mode or the TUI."""

    agent: Agent
    journal: SessionJournal | None
    resumed: LoadedSession | None = None
    warnings: list[str] = field(default_factory=list)


class SessionChoiceError(Exception):
    """``--resume ID`` or ``--continue`` found nothing to reopen; the message says what exists."""


def open_session_agent(
    config: Config,
    *,
    model: str | None = None,
    root: Path | None = None,
    spawner: Spawner | None = None,
    pool: ProviderPool | None = None,
    resume: str | None = None,
    continue_latest: bool = False,
    journal_enabled: bool = True,
) -> SessionBundle:
    """Build an agent on a new or resumed session. A journal that cannot be created is a warning, not a
    failure: the conversation works, it is just not saved."""
    from tunacode_tui.session.journal import JournalListener, SessionFileError, SessionJournal
    from tunacode_tui.session.store import latest_session, resume_session

    root = (root or Path.cwd()).resolve()
    warnings: list[str] = []
    loaded = None
    journal = None
    if continue_latest and not resume:
        info = latest_session(root)
        if info is None:
            raise SessionChoiceError(f"No saved session for {root} yet: start one with `tunacode`.")
        resume = info.id
    if resume:
        try:
            loaded, journal = resume_session(resume, secrets=config.secrets())
        except SessionFileError as exc:
            raise SessionChoiceError(str(exc)) from exc
        warnings.extend(loaded.warnings)
        model = model or loaded.model or None
    agent = build_agent(config, model=model, root=root, spawner=spawner, pool=pool,
                        state=loaded.state if loaded else None)
    if loaded is not None and loaded.context_report is not None:
        agent.meter.seed(*loaded.context_report)
    warnings.extend(agent.startup_warnings)
    if journal is None and journal_enabled:
        try:
            journal = SessionJournal(root=root, model=agent.model.full_name, secrets=config.secrets())
        except SessionFileError as exc:
            warnings.append(str(exc))
    if journal is not None:
        agent.subscribe(JournalListener(journal, agent.state, report=agent.publish, clock=agent.clock))
    return SessionBundle(agent, journal, loaded, warnings)

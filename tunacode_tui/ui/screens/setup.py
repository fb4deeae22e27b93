"""First run (or ``--setup``): choose a provider, paste a key, pick a model; saved to the config file."""

from __future__ import annotations

import os
from pathlib import Path

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from tunacode_tui.config.settings import DEFAULT_MODELS, Config
from tunacode_tui.core.provider_table import PROVIDER_TABLE
from tunacode_tui.core.provider_table import PROVIDERS as PROVIDER_INFO

PROVIDERS: tuple[tuple[str, str], ...] = tuple((entry.label, entry.name) for entry in PROVIDER_TABLE)
EXAMPLE_MODELS = {"openai-compatible": "openai-compatible:llama3.1"}


def _home_relative(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


class SetupError(ValueError):
    """What is wrong with the form, in words the user can act on."""


def apply_setup(config: Config, provider: str, key: str, model: str, base_url: str) -> str:
    """Put the answers into ``config`` (key in ``env``, ``default_model``); returns the model name."""
    from tunacode_tui.providers.errors import ConfigurationError
    from tunacode_tui.providers.registry import parse_model_name

    key, model, base_url = key.strip(), model.strip(), base_url.strip()
    entry = PROVIDER_INFO.get(provider)
    if entry is None:
        raise SetupError("Choose a provider.")
    if not key and entry.key_required:
        raise SetupError(f"Paste your {provider} API key (it is saved to the config file, readable only by you).")
    if entry.default_base_url is None and not base_url:
        raise SetupError("An OpenAI-compatible endpoint needs its base URL, e.g. http://localhost:11434/v1.")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise SetupError(f"The base URL must start with http:// or https://, got {base_url!r}.")
    if not model:
        raise SetupError("Enter a model, as provider:model.")
    if ":" not in model:
        model = f"{provider}:{model}"
    try:
        parse_model_name(model)
    except ConfigurationError as exc:
        raise SetupError(str(exc)) from None
    if key:
        config.env[entry.key_env] = key
    if base_url:
        config.env[entry.base_url_env] = base_url
    config.default_model = model
    return model


class SetupScreen(Screen[bool]):
    """Dismisses with True once the config is saved, False if the user leaves without saving."""

    CSS_PATH = "setup.tcss"
    AUTO_FOCUS = "#provider"
    BINDINGS = [Binding("escape", "leave", "Quit"), Binding("ctrl+s", "save", "Save")]

    provider = getters.query_one("#provider", Select)
    key = getters.query_one("#key", Input)
    model = getters.query_one("#model", Input)
    base_url = getters.query_one("#base-url", Input)
    problem = getters.query_one("#problem", Static)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        from tunacode_tui.config.paths import config_file

        yield Header()
        with Vertical(id="form"):
            yield Label("Set up TunaCode", id="heading")
            yield Static("Pick a provider and paste an API key. You can change this later with tunacode --setup.",
                         id="intro")
            yield Label("Provider", classes="field")
            yield Select(PROVIDERS, value="anthropic", allow_blank=False, id="provider")
            yield Label("API key", classes="field")
            yield Input(password=True, placeholder="sk-…", id="key")
            yield Static("", id="key-note", classes="note")
            yield Label("Model", classes="field")
            yield Input(DEFAULT_MODELS["anthropic"], id="model")
            yield Label("Base URL (optional; required for OpenAI-compatible)", classes="field")
            yield Input(placeholder="https://…", id="base-url")
            yield Static(Content(f"Written to {_home_relative(config_file())} (mode 0600) when you save."),
                         classes="note", id="where")
            yield Static("", id="problem")
            with Horizontal(id="buttons"):
                yield Button("Save and start", id="save", variant="primary")
                yield Button("Quit", id="leave")
        yield Footer()

    def on_mount(self) -> None:
        self._describe_key("anthropic")

    @on(Select.Changed, "#provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        provider = str(event.value)
        defaults = {*DEFAULT_MODELS.values(), *EXAMPLE_MODELS.values(), ""}
        if self.model.value.strip() in defaults:  # only replace a value the user did not type
            self.model.value = DEFAULT_MODELS.get(provider, "")
        self.model.placeholder = DEFAULT_MODELS.get(provider) or EXAMPLE_MODELS.get(provider, "provider:model")
        required = PROVIDER_INFO[provider].key_required
        self.key.placeholder = "sk-…" if required else "optional for a local server"
        self._describe_key(provider)
        self._clear_problem()  # it was about the previous provider's answers

    def _describe_key(self, provider: str) -> None:
        variable = PROVIDER_INFO[provider].key_env
        note = ""
        if os.environ.get(variable) or self.config.captured.get(variable):
            note = f"{variable} is set in your environment; it takes precedence over a key saved here."
        key_note = self.query_one("#key-note", Static)
        key_note.update(Content(note))
        key_note.set_class(bool(note), "-shown")

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        from tunacode_tui.config.loader import ConfigError, save_config

        try:
            apply_setup(self.config, str(self.provider.value), self.key.value, self.model.value,
                        self.base_url.value)
            save_config(self.config)
        except (SetupError, ConfigError) as exc:
            self._show_problem(str(exc))
            return
        except OSError as exc:
            self._show_problem(f"Could not write the config file: {exc.strerror or exc}. Check the folder's "
                               "permissions, or set TUNACODE_CONFIG to a writable path.")
            return
        from tunacode_tui.config.paths import config_file

        self._clear_problem()
        self.query_one("#where", Static).update(Content(f"Saved to {_home_relative(config_file())} (mode 0600)."))
        self.dismiss(True)

    def _show_problem(self, text: str) -> None:
        self.problem.update(Content(f"✗ {text}"))
        self.problem.add_class("-shown")

    def _clear_problem(self) -> None:
        self.problem.update(Content(""))
        self.problem.remove_class("-shown")

    @on(Button.Pressed, "#leave")
    def action_leave(self) -> None:
        self.dismiss(False)

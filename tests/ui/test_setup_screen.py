"""The setup screen: shown without a key or with --setup; saves an 0600 config; errors are shown, not raised."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.ui.helpers import SIZE, wait_for
from tunacode_tui.config.loader import load_config
from tunacode_tui.config.paths import config_file
from tunacode_tui.config.settings import Config
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.screens.main import MainScreen
from tunacode_tui.ui.screens.setup import SetupError, SetupScreen, apply_setup
from tunacode_tui.ui.widgets.notice_block import NoticeBlock


def test_apply_setup_validates_and_fills_the_config() -> None:
    config = Config()
    assert apply_setup(config, "openai", " sk-abc ", "gpt-4.1", "") == "openai:gpt-4.1"
    assert config.env == {"OPENAI_API_KEY": "sk-abc"} and config.default_model == "openai:gpt-4.1"
    with pytest.raises(SetupError, match="API key"):
        apply_setup(Config(), "anthropic", "", "anthropic:claude-sonnet-4-5", "")
    with pytest.raises(SetupError, match="base URL"):
        apply_setup(Config(), "openai-compatible", "", "openai-compatible:llama3.1", "")
    local = Config()
    apply_setup(local, "openai-compatible", "", "llama3.1", "http://localhost:11434/v1")
    assert local.env == {"OPENAI_BASE_URL": "http://localhost:11434/v1"}
    assert local.default_model == "openai-compatible:llama3.1"


async def test_first_run_saves_the_key_and_opens_the_chat(project: Path) -> None:
    app = make_app(Config(), root=project)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, SetupScreen)
        screen = app.screen
        screen.provider.value = "openai"
        await pilot.pause()
        assert screen.model.value == "openai:gpt-5.6-terra"  # the provider's default replaced the old one
        screen.model.value = "openai:gpt-4.1"
        await pilot.click("#key")
        await pilot.press(*"sk-test-123")
        await pilot.click("#save")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the chat")
        assert app.sub_title == "openai:gpt-4.1"
        await wait_for(pilot, lambda: app.screen.chat.query(NoticeBlock), "the saved notice")
        assert app.screen.chat.query(NoticeBlock).first().text.startswith("Saved your settings to ")
    path = config_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["env"] == {"OPENAI_API_KEY": "sk-test-123"} and saved["default_model"] == "openai:gpt-4.1"
    assert load_config().api_keys == {"openai": "sk-test-123", "openai-compatible": "sk-test-123"}


async def test_a_broken_config_file_is_reported_not_overwritten(project: Path) -> None:
    path = config_file()
    path.parent.mkdir(parents=True)
    path.write_text('{"env": {', encoding="utf-8")
    app = make_app(Config(), root=project, setup=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        await pilot.click("#key")
        await pilot.press(*"sk-ant-1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.problem.has_class("-shown"), "the error")
        assert "line 1" in str(screen.problem.render())
        assert isinstance(app.screen, SetupScreen)
    assert path.read_text(encoding="utf-8") == '{"env": {'


async def test_quitting_setup_exits_cleanly(project: Path) -> None:
    app = make_app(Config(), root=project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.is_running, "the app to exit")
    assert app.return_code == 0
    assert not config_file().exists()
    assert "OPENAI_API_KEY" not in os.environ


async def test_setup_does_not_save_a_one_off_max_parallel(project: Path) -> None:
    """`tunacode --max-parallel 1 --setup` saved max_parallel: 1 for every later run (issue 12, low)."""
    config = Config()
    config.settings.max_parallel = 1
    config.sources["settings.max_parallel"] = "cli"  # what cli.main records for --max-parallel
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        screen.provider.value = "openai"
        await pilot.pause()
        await pilot.click("#key")
        await pilot.press(*"sk-test-123")
        await pilot.click("#save")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the chat")
        # Let the chat finish mounting before the test leaves the app (exiting mid-mount raced the Header).
        await wait_for(pilot, lambda: app.screen.query("#prompt") and app.screen.is_mounted, "the prompt")
        await pilot.pause()
    saved = json.loads(config_file().read_text(encoding="utf-8"))
    assert "max_parallel" not in saved.get("settings", {})
    assert load_config().settings.max_parallel != 1 or os.cpu_count() == 1


async def test_setup_says_saved_only_after_saving_and_drops_a_stale_error(project: Path) -> None:
    app = make_app(Config(), root=project, setup=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        where = str(screen.query_one("#where").render())
        assert "Saved" not in where and "when you save" in where
        await pilot.click("#save")  # no key: an error
        await wait_for(pilot, lambda: screen.problem.has_class("-shown"), "the error")
        assert "Saved" not in str(screen.query_one("#where").render())
        screen.provider.value = "openai-compatible"  # another provider: the old error no longer applies
        await pilot.pause()
        assert not screen.problem.has_class("-shown") and str(screen.problem.render()).strip() == ""
    assert not config_file().exists()

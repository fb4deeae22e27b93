"""The permission dialog: for bash, "always" offers the command's prefix rule; a compound command offers none."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Button

from tunacode_tui.core.events import PermissionDecision
from tunacode_tui.ui.screens.permission import PermissionScreen


async def ask(tool: str, args: dict, key: str) -> tuple[PermissionDecision | None, list[str]]:
    app: App[None] = App()
    decisions: list[PermissionDecision | None] = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PermissionScreen(tool, "", None, args), decisions.append)
        await pilot.pause()
        labels = [str(b.label) for b in app.screen.query(Button)]
        await pilot.press(key)
        await pilot.pause()
        if not decisions:  # the key did nothing: leave with "no"
            await pilot.press("n")
            await pilot.pause()
    return decisions[0], labels


async def test_always_for_bash_is_a_prefix_rule() -> None:
    decision, labels = await ask("bash", {"command": "git status -s"}, "a")
    assert any("git status:*" in label for label in labels)
    assert decision == PermissionDecision(True, always=True, rule="bash(git status:*)")


async def test_a_compound_command_offers_no_always() -> None:
    decision, labels = await ask("bash", {"command": "git status; rm -rf x"}, "a")
    assert not any("always" in label for label in labels)
    assert decision is not None and not decision.allow


async def test_other_tools_keep_always_for_the_session() -> None:
    decision, _ = await ask("write_file", {"file_path": "a.py", "content": "x"}, "a")
    assert decision == PermissionDecision(True, always=True, rule=None)

"""Snapshot tests: each screen and state at a fixed size, fed with synthetic events at fixed times.

Update with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tests.ui.scenes import DIFF, mid_run_events, play, snapshot_app
from tunacode_tui.config.settings import Config
from tunacode_tui.ui.screens.batch_inspector import BatchInspectorScreen
from tunacode_tui.ui.screens.main import MainScreen
from tunacode_tui.ui.screens.permission import PermissionScreen
from tunacode_tui.ui.widgets.context_gauge import ContextGauge

SIZE = (120, 40)
Compare = Callable[..., bool]


@pytest.fixture(autouse=True)
def fixed_config_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # The setup screen shows where it saves; the path must be the same on every machine (nothing is written).
    monkeypatch.setenv("TUNACODE_CONFIG", "/tmp/tunacode-snapshots/tunacode.json")


def test_main_screen_mid_run(snap_compare: Compare) -> None:
    """You should see the chat with the prompt, a first answer line, three collapsed read_file lines and the
    answer streaming below a rate-limit warning; on the right batch #1 (3 calls, PARALLEL, 0.15s, 2.3x, ✓)
    and batch #2 still running with a frozen spinner; the gauge green at 1% with the turn's tokens and cost;
    the prompt's border says "working… Esc cancels"; the footer lists the keys."""

    async def run_before(pilot: Pilot[object]) -> None:
        await play(pilot, mid_run_events())

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_main_screen_at_the_common_sizes(snap_compare: Compare, size: tuple[int, int]) -> None:
    """At 80x24 you should see the chat across the whole width (the answer's first line, 61 characters, on one
    row), the prompt, the gauge as a three-line strip under it, and a footer with Cancel, Clear, Panes and Quit;
    no tool activity pane (it is in the Ctrl+T drawer). At 200x50 the same scene as at 120x40: chat on the left,
    tool activity and the gauge on the right."""

    async def run_before(pilot: Pilot[object]) -> None:
        await play(pilot, mid_run_events())

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


def test_side_drawer_at_80x24(snap_compare: Compare) -> None:
    """You should see the 80x24 scene with the side panes open over the right of the chat as a drawer: tool
    activity (batch #1 done, #2 running) above the bordered gauge."""

    async def run_before(pilot: Pilot[object]) -> None:
        await play(pilot, mid_run_events())
        await pilot.press("ctrl+t")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=run_before)


def test_batch_inspector(snap_compare: Compare) -> None:
    """You should see batch #1's title (3 calls, PARALLEL, wall 0.15s, busy 0.35s, overlap 2.3, done), the
    "Measure speedup" button with a line saying the overlap is not a speedup, a timeline with
    three overlapping bars on one axis (10–130, 12–95, 15–160 ms relative to the batch) and, below, each
    call's JSON arguments and highlighted Python result; the footer lists esc Back and m Measure speedup."""

    async def run_before(pilot: Pilot[object]) -> None:
        await play(pilot, mid_run_events())
        screen = pilot.app.screen
        assert isinstance(screen, MainScreen)
        await pilot.app.push_screen(BatchInspectorScreen(screen.activity_log.batches[1]))
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=run_before)


def test_permission_modal(snap_compare: Compare) -> None:
    """You should see a centred dialog over the chat: "Allow update_file to run?", the path, a red/green
    highlighted diff, a reason input, and the Yes / Yes, always / No buttons with their keys."""

    async def run_before(pilot: Pilot[object]) -> None:
        await play(pilot, mid_run_events())
        await pilot.app.push_screen(PermissionScreen("update_file", "file_path=src/config.py", DIFF))
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=run_before)


def test_setup_screen(snap_compare: Compare) -> None:
    """You should see the setup form: provider Anthropic, an empty password field, the default model, an
    optional base URL, where the file is saved (0600), and Save / Quit buttons."""
    assert snap_compare(snapshot_app(Config()), terminal_size=SIZE)


class GaugeApp(App[None]):
    def __init__(self, used: int) -> None:
        super().__init__()
        self.used = used

    def compose(self) -> ComposeResult:
        yield ContextGauge()

    def on_mount(self) -> None:
        gauge = self.query_one(ContextGauge)
        gauge.show_context(self.used, 200_000)
        gauge.model = "anthropic:claude-sonnet-4-5"
        gauge.show_usage(2_451, 0.0073, 45_234, 0.1357)


@pytest.mark.parametrize(("used", "colour"), [(80_000, "green"), (120_000, "amber"), (180_000, "red")])
def test_context_gauge(snap_compare: Compare, used: int, colour: str) -> None:
    """You should see "Context:" with a bar 40% full in green, 60% in amber (yellow) or 90% in red, the
    token figures, the model, and "Tokens: 2,451 (≈$0.0073) | Total: 45,234 (≈$0.1357)"."""
    assert snap_compare(GaugeApp(used), terminal_size=(60, 5))

"""Regenerate ``screenshots/``: the real app, driven by the pilot against the demo-scripted fake server,
reading this repository's own files. SVGs always; PNGs too when ``cairosvg`` is importable.

    python -m tests.ui.make_screenshots
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from tests.fake_llm_server import FakeLLMServer
from tests.ui.demo_server import script_demo
from tests.ui.scenes import DIFF
from tunacode_tui.config.settings import Config
from tunacode_tui.ui.app import TunaCodeApp, make_app
from tunacode_tui.ui.screens.batch_inspector import BatchInspectorScreen
from tunacode_tui.ui.screens.main import MainScreen
from tunacode_tui.ui.screens.permission import PermissionScreen

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "screenshots"
SIZE = (140, 42)


async def _until(pilot: Pilot[object], condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo did not reach the expected state")
        await pilot.pause(0.05)


def _save(app: TunaCodeApp, name: str) -> Path:
    path = OUT / f"{name}.svg"
    app.save_screenshot(filename=path.name, path=str(OUT))
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        return path
    # The SVG asks for Fira Code from the web; cairosvg cannot fetch it and falls back to a proportional font,
    # which breaks the cell grid. A local monospace font keeps the preview faithful.
    svg = path.read_text(encoding="utf-8").replace("Fira Code", "DejaVu Sans Mono")
    cairosvg.svg2png(bytestring=svg.encode(), write_to=str(path.with_suffix(".png")), output_width=1800)
    return path


async def main_and_inspector(server: FakeLLMServer) -> None:
    config = Config(default_model="openai:gpt-4.1",
                    env={"OPENAI_API_KEY": "sk-demo", "OPENAI_BASE_URL": server.openai_base_url})
    config.settings.max_parallel = 4
    app = make_app(config, root=REPO, journal=False)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.prompt.insert("/thoughts on")
        await pilot.press("enter")
        screen.prompt.insert("How does the config get loaded, and how do env vars override it?")
        await pilot.press("enter")
        await _until(pilot, lambda: server.pending == 0 and not screen.busy)
        await pilot.pause(0.3)
        _save(app, "main")
        screen.activity.focus()
        await pilot.press("enter")
        await pilot.pause(0.3)
        inspector = app.screen
        assert isinstance(inspector, BatchInspectorScreen)
        await pilot.press("m")  # measure the speedup: the batch's reads re-run on this repository's files
        await _until(pilot, lambda: inspector.record.measured is not None and not inspector.measuring)
        await pilot.pause(0.3)
        _save(app, "inspector")
        await pilot.press("escape")
        await app.push_screen(PermissionScreen("update_file", "file_path=src/config.py", DIFF))
        await pilot.pause(0.3)
        _save(app, "permission")


async def small_terminal(server: FakeLLMServer) -> None:
    """The default terminal, 80x24: the chat across the width, the gauge as a strip; then the Ctrl+T drawer."""
    config = Config(default_model="openai:gpt-4.1",
                    env={"OPENAI_API_KEY": "sk-demo", "OPENAI_BASE_URL": server.openai_base_url})
    config.settings.max_parallel = 4
    app = make_app(config, root=REPO, journal=False)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.prompt.insert("How does the config get loaded, and how do env vars override it?")
        await pilot.press("enter")
        await _until(pilot, lambda: server.pending == 0 and not screen.busy)
        await pilot.pause(0.3)
        _save(app, "main-80x24")
        await pilot.press("ctrl+t")
        await pilot.pause(0.3)
        _save(app, "drawer-80x24")


async def setup_screen() -> None:
    # Show the default location the form saves to; the screenshot never saves, so nothing is written there.
    os.environ.pop("TUNACODE_CONFIG", None)
    app = make_app(Config(), root=REPO, journal=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        _save(app, "setup")


async def run() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["TUNACODE_CONFIG"] = str(Path(home) / "tunacode.json")
        os.environ["TUNACODE_DATA_DIR"] = str(Path(home) / "data")
        for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL"):
            os.environ.pop(variable, None)
        with FakeLLMServer() as server:
            script_demo(server, rounds=1)
            await main_and_inspector(server)
            script_demo(server, rounds=1)
            await small_terminal(server)
        await setup_screen()
    print("\n".join(sorted(str(p.relative_to(REPO)) for p in OUT.iterdir())))


if __name__ == "__main__":
    asyncio.run(run())

"""API keys never reach the screen: /dump masks them, as the journal and exports do."""

from __future__ import annotations

from pathlib import Path

from tests.fake_llm_server import FakeLLMServer, text
from tests.ui.helpers import SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import TurnEnded
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.screens.history_dump import HistoryDumpScreen

SECRET = "sk-proj-Secret123456789abcdef"


async def test_dump_masks_the_api_key(llm_server: FakeLLMServer, config: Config, project: Path,
                                      recorder: Recorder) -> None:
    config.env["OPENAI_API_KEY"] = SECRET
    llm_server.add(text(f"Your key is {SECRET}, keep it safe."))
    app = make_app(config, root=project, journal=False)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await send(pilot, f"is {SECRET} my key?")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the answer")
        await send(pilot, "/dump")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryDumpScreen), "the dump")
        await pilot.pause()
        shown = "\n".join(str(body.render()) for body in app.screen.query(".body"))
        assert "(redacted)" in shown and SECRET not in shown
        await pilot.press("escape")
        main_screen(app)

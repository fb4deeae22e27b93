"""Tool calls in the app run as the app's Textual workers, through the spawner the factory was given."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App, ComposeResult
from textual.notifications import SeverityLevel
from textual.worker import Worker

from tests.fake_llm_server import FakeLLMServer, text, tool_call, usage
from tests.ui.helpers import SIZE, Recorder, main_screen, send, wait_for
from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import TurnEnded
from tunacode_tui.ui.app import make_app
from tunacode_tui.ui.spawner import WorkerSpawner


async def test_the_agent_is_built_with_the_apps_spawner_and_tools_run_as_app_workers(
    llm_server: FakeLLMServer, config: Config, project: Path, recorder: Recorder
) -> None:
    llm_server.add(tool_call("read_file", {"file_path": "a.py"}), tool_call("read_file", {"file_path": "b.py"}),
                   usage(input=100, output=10))
    llm_server.add(text("Both print their name."), usage(input=150, output=10))
    app = make_app(config, root=project)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await wait_for(pilot, lambda: main_screen(app).agent is not None, "the main screen")
        screen = main_screen(app)
        assert screen.agent is not None and screen.agent.spawner is app.spawner
        await send(pilot, "what do a and b print?")
        await wait_for(pilot, lambda: recorder.events(TurnEnded), "the turn to end")
        assert recorder.events(TurnEnded)[0].reason == "completed"
        tool_workers = {m.worker for m in recorder.messages
                        if isinstance(m, Worker.StateChanged) and m.worker.group.startswith("batch-")}
        assert len(tool_workers) == 2
        assert all(worker.node is app for worker in tool_workers)


class _Recording(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.notices: list[str] = []

    def compose(self) -> ComposeResult:
        return iter(())

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        self.notices.append(message)


async def test_a_failed_tool_worker_is_reported_and_does_not_raise() -> None:
    """The executor catches tool errors, so a failed worker is a bug: the user hears of it; the turn goes on."""
    async with _Recording().run_test() as pilot:
        app = pilot.app
        assert isinstance(app, _Recording)

        async def broken_tool() -> None:
            raise RuntimeError("boom")

        failing = WorkerSpawner(app).spawn(broken_tool(), batch=1, description="broken")
        await asyncio.wait_for(failing.wait(), 10)
        assert len(app.notices) == 1 and "RuntimeError('boom')" in app.notices[0]

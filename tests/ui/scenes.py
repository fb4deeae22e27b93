"""Deterministic scenes for snapshots and screenshots: the main screen fed with synthetic agent events at
fixed times, so nothing depends on the clock, the network or the machine."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tunacode_tui.config.settings import Config
from tunacode_tui.core.events import (
    AgentEvent,
    AssistantMessageAdded,
    BatchFinished,
    BatchGrew,
    BatchStarted,
    Notice,
    RequestStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    UsageUpdated,
)
from tunacode_tui.core.messages import Message, Usage
from tunacode_tui.ui.app import TunaCodeApp, make_app
from tunacode_tui.ui.messages import AgentEventPosted
from tunacode_tui.ui.screens.main import MainScreen

T0 = 1000.0
ROOT = Path("/work/project")
PROMPT = "Find where the config is loaded and explain how env vars override the file."
FIRST_TEXT = "I'll read the loader, the settings and the paths module together.\n"
LOADER = '''"""Loading and saving tunacode.json."""

def load_config(path: Path | None = None) -> Config:
    path = path or config_file()
    text = path.read_text(encoding="utf-8")
    return apply_environment(parse_config(text, path))
'''
SETTINGS = '''@dataclass(slots=True)
class Settings:
    max_iterations: int = 40
    enable_streaming: bool = True
    max_parallel: int = field(default_factory=default_max_parallel)
'''
ANSWER = """Configuration is loaded in **two layers**:

1. `load_config()` reads `tunacode.json` (path from `TUNACODE_CONFIG` or the platform config dir).
2. `apply_environment()` then lets the environment win:

```python
raw = os.environ.get("TUNACODE_MAX_PARALLEL")
if raw:
    config.settings.max_parallel = int(raw)
```

Keys are looked up *live* by `Config.lookup`, so an exported key always beats the file.
"""

DIFF = """--- a/src/config.py
+++ b/src/config.py
@@ -12,7 +12,8 @@ def load_config(path: Path | None = None) -> Config:
     path = path or config_file()
-    text = path.read_text(encoding="utf-8")
+    # A missing file is an empty config, not an error.
+    text = path.read_text(encoding="utf-8") if path.exists() else ""
     return apply_environment(parse_config(text, path))
"""


def snapshot_app(config: Config | None = None) -> TunaCodeApp:
    """The app with a fake key (never used: no request is made), still spinners and no journal."""
    config = config or Config(default_model="openai:gpt-4.1", env={"OPENAI_API_KEY": "sk-not-used"})
    app = make_app(config, root=ROOT, journal=False)
    app.animation_level = "none"
    return app


def _call(batch: int, n: int, name: str, args: dict[str, object], start: float, end: float, result: str,
          status: str = "done", display: str | None = None) -> tuple[ToolCallStarted, ToolCallFinished]:
    call_id = f"call_{batch}_{n}"
    return (
        ToolCallStarted(batch, call_id, name, args, T0 + start),
        ToolCallFinished(batch, call_id, name, args, status == "done", result, display, T0 + start, T0 + end,
                         status),  # type: ignore[arg-type]
    )


def mid_run_events() -> list[AgentEvent]:
    """A turn in progress: one finished parallel batch, a second one still running, the answer streaming."""
    a = _call(1, 0, "read_file", {"file_path": "tunacode_tui/config/loader.py"}, 0.010, 0.130, LOADER)
    b = _call(1, 1, "read_file", {"file_path": "tunacode_tui/config/settings.py"}, 0.012, 0.095, SETTINGS)
    c = _call(1, 2, "read_file", {"file_path": "tunacode_tui/config/paths.py"}, 0.015, 0.160, "def config_file(): ...")
    g1 = _call(2, 0, "grep", {"pattern": "apply_environment"}, 1.020, 1.210, "loader.py:87: def apply_environment")
    g2 = _call(2, 1, "grep", {"pattern": "TUNACODE_CONFIG"}, 1.022, 1.480, "paths.py:21: override = ...")
    g3 = _call(2, 2, "glob", {"pattern": "tests/**/test_config*.py"}, 1.025, 1.025, "")
    usage = Usage(input_tokens=9_800, output_tokens=420)
    return [
        RequestStarted(1, "openai:gpt-4.1", T0),
        TextDelta(FIRST_TEXT, T0 + 0.005),
        BatchStarted(1, 1, True, T0 + 0.010),
        a[0],
        BatchGrew(1, 2, T0 + 0.012),
        b[0],
        BatchGrew(1, 3, T0 + 0.015),
        c[0],
        b[1],
        a[1],
        c[1],
        BatchFinished(1, 3, True, T0 + 0.010, T0 + 0.160, 0.348),
        AssistantMessageAdded(Message.assistant(FIRST_TEXT), T0 + 0.2),
        UsageUpdated(usage, 0.0228, usage, 0.0228, usage, 0.0228, 10_220, 1_047_576, T0 + 0.2),
        RequestStarted(2, "openai:gpt-4.1", T0 + 1.0),
        BatchStarted(2, 3, True, T0 + 1.020),
        g1[0],
        g2[0],
        g3[0],
        g1[1],
        Notice("warning", "Rate limited by openai (429). Retrying in 1.0s (attempt 2).", T0 + 1.3),
        TextDelta(ANSWER[:160], T0 + 1.5),
    ]


async def play(pilot: Pilot[object], events: list[AgentEvent], *, prompt: str = PROMPT, busy: bool = True) -> None:
    """Show ``prompt`` as sent and feed ``events`` to the main screen, in order."""
    app = pilot.app
    await app.workers.wait_for_complete()  # the start-up context count must not land after our figures
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await screen.chat.add_user(prompt)
    screen.busy = busy
    for event in events:
        await screen.on_agent_event_posted(AgentEventPosted(event))
    await pilot.pause()

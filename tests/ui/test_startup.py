"""Start-up stays light: the first frame comes before any provider SDK is imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from tunacode_tui.config.settings import Config
    from tunacode_tui.ui.app import make_app

    async def main():
        config = Config(default_model="openai:gpt-4.1", env={"OPENAI_API_KEY": "test"})
        app = make_app(config, root=Path(sys.argv[1]), journal=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.screen.__class__.__name__ == "MainScreen", app.screen
            await app.workers.wait_for_complete()  # the SDK preload, started after the first frame
            print(json.loads(Path(sys.argv[2]).read_text())["sdks"], "openai" in sys.modules)

    asyncio.run(main())
    """
)


def test_first_frame_comes_before_the_sdk_which_is_preloaded_after(tmp_path: Path) -> None:
    marker = tmp_path / "first-frame.json"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(marker)], capture_output=True, text=True, timeout=60,
        cwd=REPO,
        env={"TUNACODE_CONFIG": str(tmp_path / "none.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TUNACODE_FIRST_FRAME_FILE": str(marker)},
    )
    assert result.returncode == 0, result.stderr
    # No SDK at the first frame; the OpenAI SDK loaded in the background right after it.
    assert result.stdout.strip().splitlines()[-1] == "[] True"

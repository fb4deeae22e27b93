"""Start-up stays light: the first frame comes before any provider SDK is imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from tunacode_tui.config.settings import Config
    from tunacode_tui.ui.app import make_app

    async def main():
        config = Config(default_model="openai:gpt-4.1", env={"OPENAI_API_KEY": "test"})
        app = make_app(config, root=Path(sys.argv[1]), journal=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.screen.__class__.__name__ == "MainScreen", app.screen
            print(sorted(m for m in ("openai", "anthropic", "httpx") if m in sys.modules))

    asyncio.run(main())
    """
)


def test_no_provider_sdk_before_the_first_request(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=REPO,
        env={"TUNACODE_CONFIG": str(tmp_path / "none.json"), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"

"""With MCP servers configured, the first frame still comes before the ``mcp`` SDK is imported; the servers
start right after it, in the background."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from tunacode_tui.config import load_config
    from tunacode_tui.ui.app import make_app

    async def main():
        config = load_config()
        app = make_app(config, root=Path(sys.argv[1]), journal=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            deadline = time.monotonic() + 60
            while not app.mcp.tools():  # the server's tools arrive in the background
                assert time.monotonic() < deadline, app.mcp.statuses()
                await pilot.pause(0.05)
            print(json.loads(Path(sys.argv[2]).read_text())["sdks"], "mcp" in sys.modules)

    asyncio.run(main())
    """
)


def test_first_frame_comes_before_mcp_which_starts_after(tmp_path: Path) -> None:
    marker = tmp_path / "first-frame.json"
    config = tmp_path / "tunacode.json"
    config.write_text(json.dumps({
        "default_model": "openai:gpt-4.1", "env": {"OPENAI_API_KEY": "test"},
        "mcp_servers": {"time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]}},
    }))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(marker)], capture_output=True, text=True, timeout=120,
        cwd=REPO,
        env={"TUNACODE_CONFIG": str(config), "TUNACODE_DATA_DIR": str(tmp_path / "data"),
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TUNACODE_FIRST_FRAME_FILE": str(marker)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[] True"

"""A fake LLM server scripted with a short demo conversation, for screenshots and trying the app by hand.

    python -m tests.ui.demo_server --config /tmp/demo/tunacode.json

writes a config pointing ``tunacode`` at it (``OPENAI_BASE_URL``, a dummy key, ``openai:gpt-4.1``) and serves
until interrupted. Then, in another terminal::

    TUNACODE_CONFIG=/tmp/demo/tunacode.json TUNACODE_DATA_DIR=/tmp/demo/data tunacode --cwd <project>

and ask anything: the model reads three files in parallel, greps, and answers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from pathlib import Path

from tests.fake_llm_server import FakeLLMServer, text, thinking, tool_call, usage

ANSWER = """Configuration is loaded in **two layers**:

1. `load_config()` reads `tunacode.json`, from `TUNACODE_CONFIG` or the platform's config folder.
2. `apply_environment()` then lets the environment win:

```python
raw = os.environ.get("TUNACODE_MAX_PARALLEL")
if raw:
    config.settings.max_parallel = int(raw)
```

API keys are looked up *live* by `Config.lookup`, so an exported key always beats the file.
"""


def script_demo(server: FakeLLMServer, *, rounds: int = 3) -> None:
    """Queue the demo: three parallel reads and a grep while the model still streams, then an answer."""
    for _ in range(rounds):
        server.add(
            thinking("The loader, the settings and the paths module decide this; read them together."),
            text("I'll read the loader, the settings and the paths module together."),
            tool_call("read_file", {"file_path": "tunacode_tui/config/loader.py"}),
            tool_call("read_file", {"file_path": "tunacode_tui/config/settings.py"}),
            tool_call("read_file", {"file_path": "tunacode_tui/config/paths.py"}),
            tool_call("grep", {"pattern": "TUNACODE_CONFIG", "path": "tunacode_tui"}),
            usage(input=9_800, output=420),
            delay=0.002,
        )
        server.add(text(ANSWER), usage(input=14_200, output=260), chunk_size=8, delay=0.02)


def write_config(path: Path, server: FakeLLMServer) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "default_model": "openai:gpt-4.1",
        "env": {"OPENAI_API_KEY": "sk-demo", "OPENAI_BASE_URL": server.openai_base_url},
        "settings": {"max_parallel": 4},
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    path.chmod(0o600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="where to write the demo config")
    parser.add_argument("--rounds", type=int, default=3, help="how many prompts the script answers")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeLLMServer() as server:
        script_demo(server, rounds=args.rounds)
        write_config(args.config, server)
        print(server.openai_base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()

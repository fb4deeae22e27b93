"""Stream overlap: the local fake provider streams a response with 4 read-only calls spread over ~2 s;
turn time with tools starting as soon as their arguments are complete vs after the whole response.

Run: python -m benchmarks.stream_overlap
The tools are real greps over the generated 20,000-file tree, through the real OpenAI SDK and adapter.
"""

from __future__ import annotations

import asyncio
import os
import time

from benchmarks.tree import make_tree
from tests.fake_llm_server import FakeLLMServer, text, tool_call
from tunacode_tui.agent.factory import build_agent
from tunacode_tui.config.settings import Config
from tunacode_tui.providers.registry import ProviderPool

PATTERNS = ("NEEDLE_MARKER", "cache_config_7", "render_token_3", "delta_stream_9")


async def one_turn(server: FakeLLMServer, root, early: bool) -> tuple[float, float]:
    calls = [tool_call("grep", {"pattern": p, "max_results": 20}) for p in PATTERNS]
    # ~2 s of streaming: each call's arguments arrive in small chunks with a delay between SSE events.
    server.add(*calls, text("Searching done."), delay=0.05, chunk_size=5)
    server.add(text("ok"))
    config = Config()
    config.env = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": server.openai_base_url}
    config.settings.early_tool_start = early
    config.settings.max_parallel = os.cpu_count() or 1
    pool = ProviderPool()
    agent = build_agent(config, model="openai:gpt-4.1", root=root, pool=pool)
    marks: dict[str, float] = {}

    def sink(event) -> None:
        name = type(event).__name__
        if name == "AssistantMessageAdded" and "stream_end" not in marks:
            marks["stream_end"] = time.perf_counter()
        if name == "BatchFinished":
            marks["tools_end"] = max(marks.get("tools_end", 0.0), time.perf_counter())

    start = time.perf_counter()
    await agent.run_turn("find things", sink)
    await pool.aclose()
    return marks["stream_end"] - start, marks["tools_end"] - start


async def main() -> None:
    root = make_tree()
    print(f"cores: {os.cpu_count()}  4 grep calls streamed over ~2 s (best of 3)\n")
    print(f"{'mode':<14} {'stream ends':>12} {'tools done':>11} {'tools after stream':>19}")
    rows = {}
    with FakeLLMServer() as server:
        for early in (False, True):
            runs = [await one_turn(server, root, early) for _ in range(3)]
            stream_end, tools_end = min(runs, key=lambda r: r[1] - r[0])
            rows[early] = tools_end - stream_end
            label = "early start" if early else "after stream"
            print(f"{label:<14} {stream_end:>11.2f}s {tools_end:>10.2f}s {tools_end - stream_end:>18.3f}s")
    saved = rows[False] - rows[True]
    print(f"\nwith early start the turn's tools finish {saved:.3f}s sooner; they end "
          f"{rows[True]:.3f}s after the stream (vs {rows[False]:.3f}s after it without early start)")


if __name__ == "__main__":
    asyncio.run(main())

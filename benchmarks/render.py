"""Render benchmark: the chat pane while a long answer streams, and a long session.

Run: python -m benchmarks.render            (about 3 minutes on 2 cores; ``--quick`` for a short smoke run)

Each run is the real app (``make_app``, no journal, a temp config) headless at 140x45, in its own subprocess so
that one run's peak memory and garbage do not leak into another's figures. Columns are measured in one go:

  legacy       the previous chat: one Markdown widget per answer fed through ``Markdown.get_stream`` (awaited per
               delta, with a ``:last-child`` rule on its blocks), patched in here to be measured side by side
  new          the app as it is
  new+GC       the app with ``gc.freeze()`` and higher collection thresholds applied after start-up: not in the
               app; it shows what the remaining pauses are (full collections of a heap Textual fills with caches)

(a) Streaming. A generated ~5,000-token Markdown answer (headings, paragraphs, nested lists, tables, fenced code)
    arrives as one ``TextDelta`` per token at 300 tokens/s, emitted through the screen's agent sink as the agent
    loop does (``MainScreen.emit`` posts ``AgentEventPosted``), while a key is typed into the prompt every
    35-65 ms (jittered, so keys do not fall in step with the answer's re-renders).
    Keystroke latency: from posting the ``Key`` event (what the terminal driver does) until the first screen
    update painted with the character in the prompt. ``pilot.press`` is not used: it waits for the whole
    process to be idle, twice, so under a busy stream it measures the pilot, not the app. "Painted" means the
    compositor's update turned into escape sequences, as the terminal driver would write them (the headless
    driver skips that step; the benchmark does it, so its cost counts).
    Event-loop lag: a task sleeps 10 ms in a loop; the oversleep is how long the loop was held.
    "chars parsed / answer length": how many times over the Markdown parser read the answer.
    "laid out": widgets Textual arranges on every frame (frozen blocks are mounted but hidden).
(b) Long session. 500 turns, each a prompt, a ~200-token answer and a batch of 3 tool calls with 5 KB results
    (events handled as the screen handles them, ten turns between frames). Peak and current RSS, widgets mounted
    and laid out, and the time to jump from the bottom of the chat to the top and back (``scroll_home`` /
    ``scroll_end``, no animation) until a frame shows the view with no frozen (blank) answer in it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

from tests.ui.helpers import displayed, frozen_in_view

TOKEN = re.compile(r"\s*\S{1,4}|\s+")
SIZE = (140, 45)
RATE = 300.0  # tokens per second
KEY_EVERY = 0.050
LAG_TICK = 0.010

WORDS = re.findall(r"\S+", "the loader reads the file once and the settings object keeps every value the environment "
                   "can override so a test can point the config at a temporary folder without touching the user's "
                   "home directory while the agent streams its answer and the executor runs tools in batches")

PYTHON = '''def load_config(path: Path | None = None) -> Config:
    """Read tunacode.json, then let the environment win."""
    path = path or config_file()
    if not path.exists():
        return apply_environment(Config())
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: {exc.msg} at line {exc.lineno}") from exc

    config = parse_config(raw, path)

    for name, value in os.environ.items():
        if name.startswith("TUNACODE_"):
            config.settings.apply(name.removeprefix("TUNACODE_").lower(), value)
    return apply_environment(config)


class Settings:
    max_iterations: int = 40
    enable_streaming: bool = True
    max_parallel: int = field(default_factory=default_max_parallel)
'''

BASH = '''$ export TUNACODE_MAX_PARALLEL=8
$ tunacode --model openai:gpt-4.1 -p "summarise the loader"

$ rg -n "apply_environment" tunacode_tui/
'''

JSON = '''{
  "default_model": "anthropic:claude-sonnet-4-5",
  "settings": {
    "max_parallel": 4,

    "request_timeout": 60.0
  }
}
'''


# -- the generated answer -------------------------------------------------------------------------
def _sentence(n: int, k: int) -> str:
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(k)]
    words[0] = words[0].capitalize()
    words[min(2, k - 1)] = f"`{words[min(2, k - 1)]}`"
    if k > 5:
        words[5] = f"**{words[5]}**"
    return " ".join(words) + "."


def _paragraph(n: int) -> str:
    return " ".join(_sentence(n + i, 9 + (n + i) % 8) for i in range(4))


def _section(n: int) -> str:
    parts = [f"## Step {n + 1}: {WORDS[n % len(WORDS)]} and {WORDS[(n + 5) % len(WORDS)]}", _paragraph(n)]
    kind = n % 4
    if kind == 0:
        parts.append("\n".join(f"- {_sentence(n + i, 6 + i % 5)}" for i in range(10)))
        parts.append(f"```python\n{PYTHON}```")
    elif kind == 1:
        parts.append("\n".join(f"{i + 1}. {_sentence(n + i, 7)}" for i in range(8)))
        parts.append(f"```bash\n{BASH}```")
        parts.append(_paragraph(n + 3))
    elif kind == 2:
        parts.append(f"```json\n{JSON}```")
        parts.append("\n".join(f"- {_sentence(n + i, 5)}\n  - {_sentence(n + i + 1, 4)}" for i in range(5)))
    else:
        parts.append("| setting | default | env |\n|---|---|---|\n"
                     + "\n".join(f"| `opt_{i}` | {i * 10} | `TUNACODE_OPT_{i}` |" for i in range(6)))
        parts.append(_paragraph(n + 1))
    return "\n\n".join(parts) + "\n"


def answer_markdown(tokens: int) -> str:
    """A Markdown answer of about ``tokens`` tokens: headings, paragraphs, lists, tables, fenced code."""
    sections: list[str] = []
    count = 0
    n = 0
    while count < tokens:
        section = _section(n)
        sections.append(section)
        count += len(tokens_of(section))
        n += 1
    return "\n".join(sections)


def tokens_of(text: str) -> list[str]:
    """Split roughly like a tokenizer: about four characters a token, leading spaces attached."""
    return TOKEN.findall(text)


# -- the legacy implementation, for the side-by-side column ---------------------------------------
def legacy_patches(stack: ExitStack) -> None:
    """The chat as it was: one Markdown widget per answer fed through ``Markdown.get_stream``, awaited
    for every delta, with a ``:last-child`` rule on its blocks."""
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownStream

    from tunacode_tui.ui.widgets.chat_log import ChatLog

    class LegacyAssistantMessage(Markdown):
        DEFAULT_CSS = """
        LegacyAssistantMessage {
            margin: 1 0 0 0;
            padding: 0 1;
            background: transparent;
            & > MarkdownBlock:last-child { margin-bottom: 0; }
        }
        """

        def __init__(self, markdown: str = "") -> None:
            super().__init__(markdown)
            self._stream: MarkdownStream | None = None

        async def write(self, fragment: str) -> None:
            if self._stream is None:
                self._stream = Markdown.get_stream(self)
            await self._stream.write(fragment)

        async def finish(self) -> None:
            stream, self._stream = self._stream, None
            if stream is not None:
                await stream.stop()

    async def append_answer(self: Any, fragment: str) -> None:
        if self._answer is None:
            self._thinking = None
            self._answer = LegacyAssistantMessage()
            await self.add_block(self._answer)
        await self._answer.write(fragment)

    async def end_answer(self: Any) -> None:
        answer, self._answer = self._answer, None
        self._thinking = None
        if answer is not None:
            await answer.finish()

    stack.enter_context(mock.patch.object(ChatLog, "append_answer", append_answer))
    stack.enter_context(mock.patch.object(ChatLog, "end_answer", end_answer))


# -- measuring ------------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def rss_mb() -> tuple[float, float]:
    """Peak RSS (``ru_maxrss``) and current RSS (``VmRSS``), in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return peak, current


class PaintWatch:
    """Wraps ``App._display``: every screen update is serialised to escape sequences (as a terminal
    driver would) and listeners are told it was painted."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.listeners: list[Callable[[float], None]] = []
        self.paints = 0
        self.last = 0.0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
            self.paints += 1
            now = self.last = time.perf_counter()
            for listener in list(self.listeners):
                listener(now)

        app._display = display

    async def next_paint(self, timeout: float = 10.0) -> float:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        def painted(now: float) -> None:
            self.listeners.remove(painted)
            if not future.done():
                future.set_result(now)

        self.listeners.append(painted)
        return await asyncio.wait_for(future, timeout)


def count_parsing(stack: ExitStack) -> list[int]:
    """Count the characters handed to the Markdown parser (markdown-it), wherever it is called from."""
    from markdown_it import MarkdownIt

    parsed = [0, 0]  # characters, calls
    original = MarkdownIt.parse

    def parse(self: MarkdownIt, src: str, env: Any = None) -> Any:
        parsed[0] += len(src)
        parsed[1] += 1
        return original(self, src, env)

    stack.enter_context(mock.patch.object(MarkdownIt, "parse", parse))
    return parsed


def make_bench_app() -> Any:
    from tunacode_tui.config.settings import Config
    from tunacode_tui.ui.app import make_app

    config = Config(default_model="openai:gpt-4.1", env={"OPENAI_API_KEY": "sk-not-used"})
    app = make_app(config, root=Path(tempfile.mkdtemp(prefix="tunacode-render-")), journal=False)
    app.animation_level = "none"
    return app


GC_POLICY = os.environ.get("RENDER_BENCH_GC", "")
GC_THRESHOLDS = {"tuned": (10_000, 10, 100), "freeze": None, "mid": (5_000, 10, 20)}


async def ready(app: Any, pilot: Any) -> Any:
    from tunacode_tui.ui.screens.main import MainScreen

    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    if GC_POLICY:
        # Not in the app yet: what the "new + GC" column measures. Objects alive after start-up (modules, the
        # SDKs, Textual) leave the collector's scans, and full collections, which stop the loop for 100-600 ms
        # once the heap is large, come ten times less often.
        gc.collect()
        gc.freeze()
        if GC_THRESHOLDS[GC_POLICY]:
            gc.set_threshold(*GC_THRESHOLDS[GC_POLICY])
    return screen


# -- (a) streaming ----------------------------------------------------------------------------------
async def stream_scenario(impl: str, tokens: int) -> dict[str, Any]:
    from textual import events

    from tunacode_tui.core.events import AssistantMessageAdded, RequestStarted, TextDelta
    from tunacode_tui.core.messages import Message

    text = answer_markdown(tokens)
    pieces = tokens_of(text)
    with ExitStack() as stack:
        if impl == "legacy":
            legacy_patches(stack)
        app = make_bench_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(app, pilot)
            watch = PaintWatch(app)
            parsed = count_parsing(stack)
            prompt = screen.prompt
            prompt.focus()
            await screen.chat.add_user("Explain the configuration loader step by step.")
            await pilot.pause()

            latencies: list[float] = []
            pending: list[tuple[float, int]] = []  # (sent at, prompt length that shows the key)
            lags: list[float] = []
            streaming = True

            def painted(now: float) -> None:
                length = len(prompt.text)
                while pending and length >= pending[0][1]:
                    latencies.append(now - pending.pop(0)[0])

            watch.listeners.append(painted)

            async def monitor_lag() -> None:
                while streaming:
                    start = time.perf_counter()
                    await asyncio.sleep(LAG_TICK)
                    lags.append(time.perf_counter() - start - LAG_TICK)

            async def type_keys() -> None:
                jitter = random.Random(7)  # keys are not typed in step with the answer's re-renders
                typed = 0
                while streaming:
                    char = "abcdefghijklmnopqrstuvwxyz"[typed % 26]
                    typed += 1
                    key = events.Key(char, char)
                    key.set_sender(app)
                    pending.append((time.perf_counter(), typed))
                    app.post_message(key)
                    await asyncio.sleep(KEY_EVERY * jitter.uniform(0.6, 1.4))

            lag_task = asyncio.create_task(monitor_lag())
            key_task = asyncio.create_task(type_keys())
            screen.emit(RequestStarted(1, "openai:gpt-4.1", time.time()))
            start = time.perf_counter()
            cpu_start = time.process_time()
            sent = 0
            while sent < len(pieces):  # one event per token, on schedule; late ones go out in a burst
                due = min(len(pieces), int((time.perf_counter() - start) * RATE) + 1)
                while sent < due:
                    screen.emit(TextDelta(pieces[sent], time.time()))
                    sent += 1
                await asyncio.sleep(0.002)
            stream_time = time.perf_counter() - start
            cpu = (time.process_time() - cpu_start) / stream_time
            streaming = False
            await asyncio.gather(lag_task, key_task)
            # Catching up: until the last token is on screen (the stream's flush).
            screen.emit(AssistantMessageAdded(Message.assistant(text), time.time()))
            while screen.chat.answering or pending:
                await asyncio.sleep(0.005)
            await pilot.pause()  # the last update painted; nothing more to do
            catch_up = watch.last - start - stream_time
            await settle(pilot, 0.5)
            answer = screen.chat.blocks[-1]
            rendered = len(list(answer.walk_children(with_self=True)))
            laid_out = 1 + displayed(answer)
    return {
        "impl": impl, "tokens": len(pieces), "chars": len(text), "stream_s": stream_time, "catch_up_s": catch_up,
        "keys": len(latencies), "latency_ms": [x * 1000 for x in latencies], "lag_ms": [x * 1000 for x in lags],
        "parsed_x": parsed[0] / len(text), "parses": parsed[1], "paints": watch.paints, "cpu": cpu, "widgets": rendered,
        "laid_out": laid_out,
    }


async def settle(pilot: Any, seconds: float = 1.0) -> None:
    """Let timers run (the chat freezes what is far from the view a moment after it moves)."""
    await pilot.pause()
    await asyncio.sleep(seconds)
    await pilot.pause()




async def jump(chat: Any, watch: PaintWatch, to_top: bool) -> float:
    """Scroll to the top or the bottom; seconds until the view holds no frozen (blank) answer and is painted."""
    target = 0 if to_top else chat.max_scroll_y
    start = time.perf_counter()
    if to_top:
        chat.scroll_home(animate=False, immediate=True)
    else:
        chat.scroll_end(animate=False, immediate=True)
    while round(chat.scroll_y) != round(target) or frozen_in_view(chat):
        if time.perf_counter() - start > 10:
            raise TimeoutError("the view was not thawed within 10 s")
        await asyncio.sleep(0.001)
    if watch.last > start and round(chat.scroll_y) == round(target) and watch.last >= time.perf_counter() - 0.001:
        return watch.last - start
    chat.refresh()  # the frame that shows it (or, if it was painted already, one more)
    return await watch.next_paint() - start


# -- (b) long session -------------------------------------------------------------------------------
def turn_events(turn: int, answer: list[str], result: str) -> list[Any]:
    from tunacode_tui.core.events import (
        AssistantMessageAdded,
        BatchFinished,
        BatchStarted,
        RequestStarted,
        TextDelta,
        ToolCallFinished,
        ToolCallStarted,
        TurnEnded,
    )
    from tunacode_tui.core.messages import Message, Usage

    t = 1000.0 + turn * 10
    events: list[Any] = [RequestStarted(1, "openai:gpt-4.1", t)]
    events += [TextDelta(piece, t) for piece in answer]
    batch = turn + 1
    events.append(BatchStarted(batch, 3, True, t))
    calls = [(f"c{turn}_{n}", {"file_path": f"src/module_{n}.py"}) for n in range(3)]
    events += [ToolCallStarted(batch, call_id, "read_file", args, t) for call_id, args in calls]
    events += [ToolCallFinished(batch, call_id, "read_file", args, True, result, None, t, t + 0.1)
               for call_id, args in calls]
    events.append(BatchFinished(batch, 3, True, t, t + 0.1, 0.3))
    events.append(AssistantMessageAdded(Message.assistant("".join(answer)), t + 0.2))
    events.append(TurnEnded("".join(answer), 1, Usage(), 0.0, "completed", t=t + 0.3))
    return events


async def session_scenario(turns: int, impl: str = "new") -> dict[str, Any]:
    from tunacode_tui.ui.messages import AgentEventPosted
    from tunacode_tui.ui.widgets import chat_log

    if impl == "legacy":  # no freezing: every block keeps its widgets, as before
        chat_log.FREEZE_SCREENS = 1_000_000

    answer = tokens_of(answer_markdown(200))[:200]
    code = PYTHON.splitlines()
    result = "\n".join(f"{n:>4}  {code[n % len(code)]}" for n in range(200))[:5000]
    app = make_bench_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        watch = PaintWatch(app)
        start = time.perf_counter()
        for turn in range(turns):
            # A turn's events, handled as the screen handles them, without painting in between (a real turn is
            # spread over seconds; here 500 must fit in the benchmark). Frames and freezing happen every ten turns.
            with app.batch_update():
                await screen.chat.add_user(f"Prompt {turn}: read the three modules and summarise them.")
                for event in turn_events(turn, answer, result):
                    await screen.on_agent_event_posted(AgentEventPosted(event))
            if turn % 10 == 9:  # as if some time passed: frames, and the chat freezing what scrolled away
                await asyncio.sleep(0.25)
        feed_s = time.perf_counter() - start
        chat = screen.chat
        await settle(pilot)
        widgets_at_bottom = len(list(chat.walk_children()))
        laid_out_at_bottom = displayed(chat)
        scroll_ms: list[float] = []
        for _ in range(10):
            for to_top in (True, False):
                scroll_ms.append(await jump(chat, watch, to_top) * 1000)
        peak, current = rss_mb()
        return {
            "turns": turns, "feed_s": feed_s, "scroll_ms": scroll_ms, "rss_peak_mb": peak, "rss_now_mb": current,
            "widgets": len(list(screen.walk_children())), "chat_widgets": widgets_at_bottom,
            "chat_laid_out": laid_out_at_bottom, "screen_laid_out": displayed(screen),
            "chat_blocks": len(chat.blocks), "pruned": chat.pruned,
        }


# -- the table --------------------------------------------------------------------------------------
STREAM_COLUMNS = {"legacy": ("legacy", ""), "new": ("new", ""), "new+GC": ("new", "mid")}
SESSION_COLUMNS = {"no freezing": ("legacy", ""), "new": ("new", "")}
COMPARED_TURNS = 100
"""Turns for the "no freezing" column: the chat keeps 200 blocks (40 turns) either way, so what is mounted and
laid out is the same after 100 turns as after 500, and the run stays short."""


def run_child(*args: str, gc_policy: str = "") -> dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="tunacode-render-env-")
    env = {**os.environ, "TUNACODE_CONFIG": f"{folder}/config/tunacode.json", "TUNACODE_DATA_DIR": f"{folder}/data",
           "RENDER_BENCH_GC": gc_policy}
    out = subprocess.run([sys.executable, "-m", "benchmarks.render", "--child", *args], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def table(rows: dict[str, dict[str, Any]], judged: list[str]) -> Callable[..., None]:
    """A printer of lines: one figure per column, the target, and yes/NO for the ``judged`` columns."""

    def line(label: str, key: Callable[[dict[str, Any]], float], fmt: str, target: str = "",
             ok: Callable[[float], bool] | None = None) -> None:
        cells = " ".join(f"{format(key(row), fmt):>12}" for row in rows.values())
        verdicts = "/".join(met(ok(key(rows[name]))) for name in judged) if ok else ""
        print(f"{label:<30} {cells} {target:>8}  {verdicts}")

    print(f"{'':<30} " + " ".join(f"{name:>12}" for name in rows) + f" {'target':>8}  met ({'/'.join(judged)})")
    return line


def report(tokens: int, turns: int) -> None:
    print(f"cores: {os.cpu_count()}  terminal {SIZE[0]}x{SIZE[1]}  Textual {textual_version()}  "
          f"GC column: gc.freeze() + gc.set_threshold{GC_THRESHOLDS['mid']} after start-up\n")
    rows = {name: run_child("stream", impl, str(tokens), gc_policy=gc_policy)
            for name, (impl, gc_policy) in STREAM_COLUMNS.items()}
    first = rows["new"]
    print(f"(a) streaming a {first['tokens']:,}-token answer ({first['chars']:,} chars) at {RATE:.0f} tokens/s, "
          f"a key every ~{KEY_EVERY * 1000:.0f} ms")
    line = table(rows, ["new", "new+GC"])
    line("keystroke latency p50 ms", lambda r: statistics.median(r["latency_ms"]), ".1f")
    line("keystroke latency p95 ms", lambda r: percentile(r["latency_ms"], 95), ".1f", "< 50", lambda v: v < 50)
    line("keystroke latency max ms", lambda r: max(r["latency_ms"]), ".1f")
    line("event-loop lag p50 ms", lambda r: statistics.median(r["lag_ms"]), ".1f")
    line("event-loop lag p95 ms", lambda r: percentile(r["lag_ms"], 95), ".1f")
    line("event-loop lag max ms", lambda r: max(r["lag_ms"]), ".1f")
    line("CPU busy while streaming %", lambda r: r["cpu"] * 100, ".0f")
    line("keystrokes measured", lambda r: r["keys"], "d")
    line("last token on screen after s", lambda r: r["catch_up_s"], ".2f")
    line("screen updates painted", lambda r: r["paints"], "d")
    line("Markdown parser calls", lambda r: r["parses"], "d")
    line("chars parsed / answer length", lambda r: r["parsed_x"], ".1f")
    line("answer widgets mounted", lambda r: r["widgets"], "d")
    line("answer widgets laid out", lambda r: r["laid_out"], "d")

    sessions = {name: run_child("session", str(turns if impl == "new" else min(turns, COMPARED_TURNS)), impl,
                                gc_policy=gc_policy)
                for name, (impl, gc_policy) in SESSION_COLUMNS.items()}
    print(f"\n(b) long session: {turns} turns (prompt, ~200-token answer, 3 tool calls with 5 KB results)")
    line = table(sessions, ["new"])
    line("turns", lambda r: r["turns"], "d")
    line("peak RSS (ru_maxrss) MB", lambda r: r["rss_peak_mb"], ".0f", "< 400", lambda v: v < 400)
    line("current RSS (VmRSS) MB", lambda r: r["rss_now_mb"], ".0f", "< 400", lambda v: v < 400)
    line("chat blocks mounted", lambda r: r["chat_blocks"], "d")
    line("chat blocks pruned", lambda r: r["pruned"], "d")
    line("chat widgets mounted", lambda r: r["chat_widgets"], "d")
    line("chat widgets laid out", lambda r: r["chat_laid_out"], "d")
    line("screen widgets laid out", lambda r: r["screen_laid_out"], "d")
    line("jump top/bottom p50 ms", lambda r: statistics.median(r["scroll_ms"]), ".1f")
    line("jump top/bottom p95 ms", lambda r: percentile(r["scroll_ms"], 95), ".1f", "< 100", lambda v: v < 100)
    line("jump top/bottom max ms", lambda r: max(r["scroll_ms"]), ".1f")


def textual_version() -> str:
    from importlib.metadata import version

    return version("textual")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 tokens and 100 turns: a smoke run")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "stream":
            result = asyncio.run(stream_scenario(rest[0], int(rest[1])))
        else:
            result = asyncio.run(session_scenario(int(rest[0]), *rest[1:]))
        print(json.dumps(result))
        return
    report(1000 if args.quick else 5000, 100 if args.quick else 500)


if __name__ == "__main__":
    main()

"""Streamed answers: rendered in small deltas they look exactly like the answer rendered at once by Textual's own
Markdown widget, only the open block is parsed again, and freezing answers far from the view changes nothing on
screen. Counted, never timed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from markdown_it import MarkdownIt
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Markdown

from tests.ui.helpers import displayed, frozen_in_view, wait_for
from tunacode_tui.ui.widgets import chat_log
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage, FrozenBlocks
from tunacode_tui.ui.widgets.chat_log import ChatLog

FENCE = "```"
ANSWER = f"""# Loading the configuration

The loader reads `tunacode.json` **once**, then lets the environment win. It keeps
a second line in the same paragraph.

1. Find the file: `TUNACODE_CONFIG` or the platform folder.

2. Parse it, reporting the line of any error.

3. Apply the environment.

10. A tenth step widens the numbers.

- first bullet
  - nested bullet, with `code`
- second bullet

  continued after a blank line, still in the item

{FENCE}python
def load_config(path: Path | None = None) -> Config:
    path = path or config_file()


    text = path.read_text(encoding="utf-8")
    return apply_environment(parse_config(text, path))
{FENCE}

Setext heading
--------------

> A quote that goes on
> over two lines.

    indented code

    after a blank line, same block

| setting | default |
|---|---|
| `max_parallel` | cores |
| `request_timeout` | 60 |

***

{FENCE}
unclosed at first: the fence spans many deltas
- not a list
# not a heading
{FENCE}

Done: *everything* above came from one stream."""


class Oracle(Markdown):
    """Textual's Markdown widget given the whole text at once, styled like an answer."""

    DEFAULT_CSS = """
    Oracle {
        margin: 1 0 0 0;
        padding: 0 1;
        background: transparent;
        & > MarkdownBlock:last-child { margin-bottom: 0; }
    }
    """


class ChatApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChatLog(id="chat")


def screen_text(pilot: Pilot[Any]) -> list[str]:
    """What the terminal shows, line by line."""
    return [strip.text.rstrip() for strip in pilot.app.screen._compositor.render_strips()]


def pieces(text: str, seed: int = 3) -> Iterator[str]:
    """``text`` in deltas of 1 to 6 characters, as a model would send it."""
    rng = random.Random(seed)
    at = 0
    while at < len(text):
        size = rng.randint(1, 6)
        yield text[at:at + size]
        at += size


def largest_two_blocks(text: str) -> int:
    """The longest stretch of ``text`` from the start of a top-level block to the end of the next one: at most
    what a render parses (the open block, and the partial line after it)."""
    lines = text.splitlines(keepends=True)
    starts = [t.map[0] for t in MarkdownIt("gfm-like").parse(text) if t.level == 0 and t.nesting >= 0 and t.map]
    bounds = [*starts, len(lines)]
    return max(len("".join(lines[a:b])) for a, b in zip(bounds, bounds[2:], strict=False))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every text handed to the Markdown parser."""
    seen: list[int] = []
    original = MarkdownIt.parse

    def parse(self: MarkdownIt, src: str, env: Any = None) -> Any:
        seen.append(len(src))
        return original(self, src, env)

    monkeypatch.setattr(MarkdownIt, "parse", parse)
    return seen


async def oracle_screens(prefixes: list[str], size: tuple[int, int]) -> list[list[str]]:
    screens = []
    async with ChatApp().run_test(size=size) as pilot:
        chat = pilot.app.query_one(ChatLog)
        oracle = Oracle()
        await chat.add_block(oracle)
        for prefix in prefixes:
            await oracle.update(prefix)
            await pilot.pause()
            screens.append(screen_text(pilot))
    return screens


async def test_streamed_answer_looks_like_the_whole_answer_at_every_step(parses: list[int]) -> None:
    size = (100, 160)
    deltas = list(pieces(ANSWER))
    checkpoints = {len(deltas) // 5, len(deltas) // 3, len(deltas) // 2, 2 * len(deltas) // 3, len(deltas) - 2}
    rng = random.Random(5)
    streamed: list[list[str]] = []
    prefixes: list[str] = []
    renders = 0
    async with ChatApp().run_test(size=size) as pilot:
        chat = pilot.app.query_one(ChatLog)
        written = ""
        for index, delta in enumerate(deltas):
            await chat.append_answer(delta)
            written += delta
            if rng.random() < 0.3 or index in checkpoints:
                answer = chat.query_one(AssistantMessage)
                before = len(parses)
                await answer.flush()
                renders += len(parses) - before
                if index in checkpoints:
                    await pilot.pause()
                    streamed.append(screen_text(pilot))
                    prefixes.append(written)
        during = list(parses)
        await chat.end_answer()
        await pilot.pause()
        streamed.append(screen_text(pilot))
        prefixes.append(ANSWER)
        assert chat.query_one(AssistantMessage).source == ANSWER

    # What was on screen after each render is what Textual shows for the same text at once.
    assert streamed == await oracle_screens(prefixes, size)
    # One parse per render, never per delta, and each of only the unsettled text: the open block and the
    # partial line after it, not the answer so far.
    assert renders <= len(deltas) * 0.3 + len(checkpoints) + 1
    assert max(during) <= largest_two_blocks(ANSWER)
    assert sum(during) < 40 * len(ANSWER)  # re-parsing the whole answer on each render would be ~100x


async def test_a_burst_of_deltas_is_parsed_once(parses: list[int]) -> None:
    async with ChatApp().run_test(size=(100, 60)) as pilot:
        chat = pilot.app.query_one(ChatLog)
        for delta in pieces(ANSWER):
            await chat.append_answer(delta)  # no pause: the render timer cannot fire in between
        await chat.end_answer()
        await pilot.pause()
        assert chat.query_one(AssistantMessage).source == ANSWER
    assert len(parses) == 1


async def test_answers_far_from_the_view_are_frozen_and_come_back_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    size = (80, 24)
    answers = [ANSWER.replace("Loading", f"Loading, part {n}") for n in range(6)]

    async def fill(pilot: Pilot[Any]) -> ChatLog:
        chat = pilot.app.query_one(ChatLog)
        for n, answer in enumerate(answers):
            await chat.add_user(f"Question {n}")
            await chat.add_answer(answer)
        await pilot.pause()
        return chat

    async def views(pilot: Pilot[Any], chat: ChatLog) -> list[list[str]]:
        shown = []
        for y in (0, chat.max_scroll_y // 3, chat.max_scroll_y // 2, chat.max_scroll_y):
            chat.scroll_to(y=y, animate=False, immediate=True)
            await wait_for(pilot, lambda: not frozen_in_view(chat), "the view to be thawed")
            await pilot.pause()
            shown.append(screen_text(pilot))
        return shown

    with monkeypatch.context() as never_freeze:
        never_freeze.setattr(chat_log, "FREEZE_SCREENS", 10_000)
        async with ChatApp().run_test(size=size) as pilot:
            chat = await fill(pilot)
            expected = await views(pilot, chat)
            laid_out = displayed(chat)

    async with ChatApp().run_test(size=size) as pilot:
        chat = await fill(pilot)
        chat.scroll_end(animate=False, immediate=True)
        await wait_for(pilot, lambda: len(chat.query(FrozenBlocks)) >= 5, "the answers above to freeze")
        assert displayed(chat) < laid_out / 2  # only the last answer or two are laid out on each frame
        assert await views(pilot, chat) == expected



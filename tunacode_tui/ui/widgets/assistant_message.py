"""One assistant answer as Markdown, streamed so that each finished block is parsed and mounted once.

While the model writes, only the open tail (the last top-level block, plus any partial line) is parsed again,
at most ``FLUSH_INTERVAL`` apart; Textual's ``Markdown.append`` would be incremental too, but it treats a
partial line as final (``"2"`` before ``". item"`` ends an ordered list) and restyles every block on each
mount when a ``:last-child`` rule is in play, which made long answers stall the event loop.

Blocks far from the view can be frozen: hidden (``display: none``) behind one blank spacer of the same height,
and shown again when they come back near the view, so that Textual, which lays out every displayed widget on
each frame, does not lay out thousands of them while an answer streams into a long conversation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from textual.await_complete import AwaitComplete
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

from tunacode_tui.ui.textual_compat import parse_markdown_blocks, update_block_in_place

FLUSH_INTERVAL = 0.1
"""Seconds between re-renders while streaming, however fast the deltas come. Each re-render costs a layout of
the screen; at 20 a second, keystrokes waited behind them (benchmarks/render.py measures both)."""


def _open_block(tokens: Sequence[Token], complete_lines: int) -> tuple[int, int]:
    """Where the open top-level block starts: ``(token index, line)``; ``(0, 0)`` when nothing is final.

    A block is final once a later block has started on a complete line: CommonMark reads blocks line by line and
    never reopens a closed one. A block that starts on the partial last line does not count, since that line may
    still turn into a continuation (``"2"`` becoming ``"2. item"`` in an ordered list).
    """
    found = (0, 0)
    for index, token in enumerate(tokens):
        if token.level == 0 and token.nesting >= 0 and token.map is not None and token.map[0] < complete_lines:
            found = (index, token.map[0])
    return found


def _line_offset(text: str, line: int) -> int:
    """The index in ``text`` where line number ``line`` (0-based) starts."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


class FrozenBlocks(Widget):
    """Stands in for the blocks that are frozen: blank, exactly as tall as they were."""

    DEFAULT_CSS = """
    FrozenBlocks { width: 1fr; height: 0; }
    """


class AssistantMessage(Markdown):
    """An answer from the model (or command output): written whole, or streamed with ``write`` and ``finish``.

    Blocks before the open one are settled: mounted once and never touched again. The blocks are Textual's own
    (``Markdown._parse_markdown``, as ``Markdown.append`` uses, reached through ``ui/textual_compat.py``),
    children of this one widget, so the answer looks exactly as ``Markdown`` would show it whole
    (tests/ui/test_streaming_render.py compares the screens).
    """

    DEFAULT_CSS = """
    AssistantMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        background: transparent;
        &.-command-output { border-left: outer $secondary; background: $secondary 8%; }
    }
    """

    def __init__(self, markdown: str = "") -> None:
        super().__init__(markdown)
        self._text = ""  # what has been rendered or is being rendered
        self._pending: list[str] = []  # written since the last render
        self._settled_chars = 0  # the prefix of _text whose blocks are mounted for good
        self._settled_lines = 0
        # Blocks of the open part, replaced on each render (after ``update``, frozen stand-ins too).
        self._tail: list[MarkdownBlock | FrozenBlocks] = []
        self._tail_sources: list[str] = []  # the Markdown each tail block was built from
        self._last_block: MarkdownBlock | None = None
        self._parser: MarkdownIt | None = None
        self._timer: Timer | None = None
        self._flushing = False
        self._last_flush = 0.0
        self._frozen: list[MarkdownBlock] = []  # hidden, the spacer standing in for them
        self._marks: list[int] = []  # for each frozen block, where its slot starts
        self._spacer: FrozenBlocks | None = None
        self._frozen_height = 0

    @property
    def source(self) -> str:
        """All the Markdown received, including what is not rendered yet."""
        if self._pending:
            self._text += "".join(self._pending)
            self._pending.clear()
        return self._text

    # -- streaming ----------------------------------------------------------------------------
    def write(self, fragment: str) -> None:
        """Add text at the end; it shows within ``FLUSH_INTERVAL``. Cheap: call it for every delta."""
        if not fragment:
            return
        self._pending.append(fragment)
        if self._timer is None and not self._flushing:
            delay = max(0.001, self._last_flush + FLUSH_INTERVAL - time.monotonic())  # 0 breaks Timer
            self._timer = self.set_timer(delay, self._flush_text, name="render answer")

    async def _flush_text(self) -> None:
        self._timer = None
        self._flushing = True
        self._last_flush = time.monotonic()
        try:
            await self._render_text(final=False)
        finally:
            self._flushing = False
        if self._pending and self._timer is None:
            delay = max(0.001, self._last_flush + FLUSH_INTERVAL - time.monotonic())  # 0 breaks Timer
            self._timer = self.set_timer(delay, self._flush_text, name="render answer")

    async def flush(self) -> None:
        """Render what has been written so far now, rather than at the next tick."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        await self._render_text(final=False)

    async def finish(self) -> None:
        """The answer is complete: render what is pending and settle the open tail."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        await self._render_text(final=True)

    def update(self, markdown: str) -> AwaitComplete:
        """Replace the whole document (also how the text given to the constructor is shown)."""
        self._pending = [markdown] if markdown else []
        self._text = ""
        self._settled_chars = self._settled_lines = 0
        self._tail = [block for block in self.children if isinstance(block, MarkdownBlock | FrozenBlocks)]
        self._tail_sources = [""] * len(self._tail)
        self._frozen, self._marks, self._spacer, self._frozen_height = [], [], None, 0
        return AwaitComplete(self._render_text(final=True))

    # -- freezing -----------------------------------------------------------------------------
    @property
    def frozen_height(self) -> int:
        """Lines at the top of this message that are frozen (blank until thawed); 0 when none are."""
        return self._frozen_height

    async def freeze_above(self, y: int) -> None:
        """Freeze the settled blocks that end above ``y`` (a line of this message's content)."""
        async with self.lock:
            blocks = [child for child in self.children if isinstance(child, MarkdownBlock) and child.display]
            count = 0
            for block in blocks:
                region = block.virtual_region
                if block in self._tail or not region or region.bottom + block.styles.margin.bottom > y:
                    break
                count += 1
            if not count:
                return
            # Where each block's slot starts: a spacer that tall, then the block, lays out exactly as before.
            self._marks += [block.virtual_region.y - block.styles.margin.top for block in blocks[:count]]
            if count < len(blocks):
                first = blocks[count]
                height = first.virtual_region.y - first.styles.margin.top
            else:
                height = self.size.height
            self._frozen += blocks[:count]
            with self.app.batch_update():
                for block in blocks[:count]:
                    block.display = False
                await self._set_spacer(height)

    async def thaw_below(self, y: int = 0) -> None:
        """Show the frozen blocks again, from the one at line ``y`` of this message's content down (all by default)."""
        async with self.lock:
            if not self._frozen:
                return
            first = 0
            for index, top in enumerate(self._marks):
                if top > y:
                    break
                first = index
            with self.app.batch_update():
                for block in self._frozen[first:]:
                    block.display = True
                await self._set_spacer(self._marks[first] if first else 0)
            del self._frozen[first:], self._marks[first:]

    async def _set_spacer(self, height: int) -> None:
        self._frozen_height = height
        if self._spacer is None:
            if not height:
                return
            self._spacer = FrozenBlocks()
            await self.mount(self._spacer, before=0)
        self._spacer.styles.height = height
        self._spacer.display = bool(height)

    # -- rendering ----------------------------------------------------------------------------
    def _parse_text(self, text: str) -> list[Token]:
        if self._parser is None:
            self._parser = MarkdownIt("gfm-like")  # Markdown's default; this widget takes no parser_factory
        return self._parser.parse(text)

    def _build_blocks(self, tokens: Sequence[Token], line_offset: int) -> list[MarkdownBlock]:
        blocks = parse_markdown_blocks(self, tokens)
        for block in blocks:
            start, end = block.source_range
            block.source_range = (start + line_offset, end + line_offset)
        return blocks

    async def _render_text(self, final: bool) -> None:
        async with self.lock:
            if not self._pending and not (final and self._tail):
                return
            text = self.source
            unsettled = text[self._settled_chars:]
            tokens = self._parse_text(unsettled)
            if final:
                split, settled_lines = len(tokens), unsettled.count("\n")
                settled_chars = len(unsettled)
            else:
                split, settled_lines = _open_block(tokens, unsettled.count("\n"))
                settled_chars = _line_offset(unsettled, settled_lines)
            offset = self._settled_lines
            settled = self._build_blocks(tokens[:split], offset)
            tail = self._build_blocks(tokens[split:], offset)
            lines = unsettled.splitlines(keepends=True)
            sources = ["".join(lines[start - offset:end - offset]) for start, end in
                       (block.source_range for block in settled + tail)]
            self._settled_chars += settled_chars
            self._settled_lines += settled_lines
            await self._replace_tail(settled, tail, sources)

    async def _replace_tail(self, settled: list[MarkdownBlock], tail: list[MarkdownBlock], sources: list[str]) -> None:
        """Swap the old tail's blocks for ``settled`` and ``tail``, in one batch (no half-done frame).

        Both start at the same line. Old blocks whose source is unchanged are kept, and the block still being written
        (usually a paragraph or a fence, a little longer) is updated in place: mounting new widgets on every render
        costs more, and leaves much more garbage to collect.
        """
        blocks = settled + tail
        old_tail, old_sources = self._tail, self._tail_sources
        with self.app.batch_update():
            reused = 0
            for old, new, old_source, source in zip(old_tail, blocks, old_sources, sources, strict=False):
                if not isinstance(old, MarkdownBlock) or type(old) is not type(new) or not old.display:
                    break
                if old_source != source:
                    if not self._updates_in_place(old, new):
                        break
                    await update_block_in_place(old, new)
                old.source_range = new.source_range
                blocks[reused] = old
                reused += 1
            self._tail, self._tail_sources = list(blocks[len(settled):]), sources[len(settled):]
            if old_tail[reused:]:
                await self.remove_children(old_tail[reused:])
            mounted = self.mount_all(blocks[reused:])  # styles are applied now; the mount completes when awaited
            if blocks:
                self._set_last(blocks[-1])
            elif self._last_block is not None and not self._last_block.is_attached:
                remaining = [child for child in self.children if isinstance(child, MarkdownBlock)]
                self._set_last(remaining[-1] if remaining else None)
            await mounted

    def _set_last(self, block: MarkdownBlock | None) -> None:
        """The answer's last block has no bottom margin (like ``:last-child``, which would restyle every block
        on each mount): an inline margin, so that moving it restyles two widgets, not their descendants."""
        previous, self._last_block = self._last_block, block
        if previous is block:
            return
        if previous is not None and previous.is_attached:
            previous.styles.clear_rule("margin")
            previous.refresh(layout=True)
        if block is not None:
            top, right, _, left = block.styles.margin
            block.styles.margin = (top, right, 0, left)

    def _updates_in_place(self, old: MarkdownBlock, new: MarkdownBlock) -> bool:
        """Textual updates paragraphs and fences in place (``update_block_in_place``); other blocks it removes and
        mounts again at the end of the document (tables too, while they have no body), so those are remounted."""
        in_place = tuple(self.get_block_class(name) for name in ("paragraph_open", "fence"))
        return type(old) is type(new) and isinstance(old, in_place)

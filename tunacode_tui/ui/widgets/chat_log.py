"""The chat pane: prompts, streamed answers, thinking, tool calls and notices, newest at the bottom.

Only the last ``max_blocks`` blocks stay mounted; older ones leave the DOM (the conversation itself
stays in the agent's state, and ``/dump`` shows all of it), so a long session stays responsive.
Answers, or their first blocks, more than ``FREEZE_SCREENS`` screens away from the view are frozen (their
Markdown widgets hidden behind a blank of the same height) and shown again as they come near it: Textual lays
out every displayed widget on each frame, so what is displayed, not what is on screen, sets the cost of a frame
while an answer streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.widgets.markdown import MarkdownFence

from tunacode_tui.core.events import AttachedFile
from tunacode_tui.ui.activity import CallRecord
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage
from tunacode_tui.ui.widgets.notice_block import NoticeBlock, NoticeLevel
from tunacode_tui.ui.widgets.thinking_block import ThinkingBlock
from tunacode_tui.ui.widgets.tool_call_entry import ToolCallEntry
from tunacode_tui.ui.widgets.user_message import UserMessage

MAX_BLOCKS = 200
FREEZE_SCREENS = 1
"""Answers (or their first blocks) further than this many screens from the view are frozen."""
THAW_SCREENS = 0.5
"""Frozen answers closer than this many screens to the view are shown again."""
VIRTUALIZE_DELAY = 0.25
"""How long after blocks come or an answer grows to freeze what they pushed away (after a scroll: at once)."""


class ChatLog(VerticalScroll):
    """Appends blocks and keeps the view pinned to the bottom until the user scrolls up.

    With the chat focused, ``y`` copies the lowest answer in view and ``c`` its last code block, whole and as
    Markdown source (no borders, gutters or wrapping), through the terminal's clipboard (OSC 52, so over SSH too).
    """

    BINDINGS = [
        Binding("y", "copy_answer", "Copy answer", tooltip="Copy the lowest answer in view, as Markdown"),
        Binding("c", "copy_code", "Copy code", tooltip="Copy the lowest code block in view"),
    ]

    DEFAULT_CSS = """
    ChatLog {
        height: 1fr;
        padding: 0 1 1 1;
        scrollbar-size-vertical: 1;
        & > .chat-log--pruned { color: $text-muted; text-style: italic; padding: 0 1; }
    }
    """

    pruned: reactive[int] = reactive(0)
    """How many blocks were removed from the top to keep the DOM small."""

    def __init__(self, *, max_blocks: int = MAX_BLOCKS, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_blocks = max_blocks
        self._answer: AssistantMessage | None = None
        self._thinking: ThinkingBlock | None = None
        self._pruned_note: Static | None = None
        self._virtualize_timer: Timer | None = None
        self._virtualize_now = False
        self._width = 0

    def on_mount(self) -> None:
        self.anchor()

    # -- freezing what is far from the view -----------------------------------------------------
    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)  # moves the scrollbar and repaints
        # Before the next frame: positions in the scrolled content do not move, and thawing inside a batch means
        # the frame after a jump shows the answers, not their blank stand-ins.
        self._schedule_virtualize(0.0)

    async def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:  # frozen heights were measured at the old width
            self._width = event.size.width
            answers = [block for block in self.blocks if isinstance(block, AssistantMessage) and block.frozen_height]
            with self.app.batch_update():
                await asyncio.gather(*(answer.thaw_below() for answer in answers))

    def _schedule_virtualize(self, delay: float = VIRTUALIZE_DELAY) -> None:
        """Freeze and thaw in ``delay`` seconds, or for 0 (the view moved) right after the current message."""
        if not self.is_mounted:
            return
        if delay == 0.0:
            if not self._virtualize_now:
                self._virtualize_now = True
                self.call_next(self._virtualize)
        elif self._virtualize_timer is None:
            self._virtualize_timer = self.set_timer(delay, self._virtualize, name="freeze far answers")

    async def _virtualize(self) -> None:
        if self._virtualize_timer is not None:
            self._virtualize_timer.stop()
            self._virtualize_timer = None
        self._virtualize_now = False
        screen = self.scrollable_content_region.height
        if not screen:
            return
        top, bottom = self.scroll_y, self.scroll_y + screen
        near_top, near_bottom = top - THAW_SCREENS * screen, bottom + THAW_SCREENS * screen
        far_top, far_bottom = top - FREEZE_SCREENS * screen, bottom + FREEZE_SCREENS * screen
        thaws: list[Awaitable[None]] = []
        freezes: list[Awaitable[None]] = []
        unplaced = False
        for block in self.blocks:
            if not isinstance(block, AssistantMessage):
                continue
            if not (region := block.virtual_region):
                unplaced = True  # not laid out yet
                continue
            frozen_bottom = region.y + block.frozen_height
            if block.frozen_height and frozen_bottom > near_top and region.y < near_bottom:
                thaws.append(block.thaw_below(int(near_top) - region.y))
            elif region.bottom < far_top or region.y > far_bottom:
                freezes.append(block.freeze_above(region.height + 1))
            elif region.y < far_top and frozen_bottom < far_top:
                freezes.append(block.freeze_above(int(far_top) - region.y))
        if thaws or freezes:
            with self.app.batch_update():
                await asyncio.gather(*thaws, *freezes)
        if thaws or unplaced:  # what was shown again may be frozen again in part, once it is laid out
            self._schedule_virtualize()

    @property
    def blocks(self) -> list[Widget]:
        return [child for child in self.children if child is not self._pruned_note]

    async def add_block(self, block: Widget) -> Widget:
        await self.mount(block)
        await self._prune()
        self._schedule_virtualize()
        return block

    async def _prune(self) -> None:
        blocks = self.blocks
        excess = len(blocks) - self.max_blocks
        if excess <= 0:
            return
        doomed = [b for b in blocks[:excess] if b is not self._answer and b is not self._thinking]
        self.pruned += len(doomed)
        await self.remove_children(doomed)
        text = Content(f"… {self.pruned} earlier blocks hidden to keep the view fast (/dump shows everything)")
        if self._pruned_note is None:
            self._pruned_note = Static(text, classes="chat-log--pruned")
            await self.mount(self._pruned_note, before=0)
        else:
            self._pruned_note.update(text)

    # -- copying ------------------------------------------------------------------------------
    def _in_view(self, widget: Widget) -> bool:
        region = widget.virtual_region_with_margin if widget.parent is self else widget.virtual_region
        if widget.parent is not self and isinstance(widget.parent, Widget):  # a block inside an answer
            region = region.translate(widget.parent.virtual_region.offset)
        top, bottom = self.scroll_y, self.scroll_y + self.scrollable_content_region.height
        return bool(region) and region.y < bottom and region.bottom > top

    def answers_in_view(self) -> list[AssistantMessage]:
        return [block for block in self.blocks if isinstance(block, AssistantMessage) and self._in_view(block)]

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        lines = text.count("\n") + 1
        self.notify(f"Copied {what} ({lines} line{'s' if lines != 1 else ''}).", timeout=2)

    def action_copy_answer(self) -> None:
        answers = self.answers_in_view()
        if not answers:
            self.notify("No answer in view to copy.", severity="warning", timeout=2)
            raise SkipAction()
        self._copy(answers[-1].source.strip("\n"), "the answer")

    def action_copy_code(self) -> None:
        for answer in reversed(self.answers_in_view()):
            fences = [fence for fence in answer.query_children(MarkdownFence) if fence.display]
            shown = [fence for fence in fences if self._in_view(fence)] or fences
            if shown:
                self._copy(shown[-1].code.rstrip("\n"), "the code block")
                return
        self.notify("No code block in view to copy.", severity="warning", timeout=2)

    # -- the conversation ---------------------------------------------------------------------
    async def add_user(self, prompt: str) -> None:
        await self.end_answer()
        await self.add_block(UserMessage(prompt))

    def show_attachments(self, files: list[AttachedFile]) -> None:
        """The files the last prompt attached with ``@``, as chips under it."""
        prompts = self.query(UserMessage)
        if prompts:
            prompts.last().show_attachments(files)

    async def append_answer(self, fragment: str) -> None:
        """A text delta: buffered by the answer, which re-renders at most every ``FLUSH_INTERVAL``."""
        if self._answer is None:
            self._end_thinking()
            self._answer = AssistantMessage()
            await self.add_block(self._answer)
        self._answer.write(fragment)
        self._schedule_virtualize()  # the view follows the answer: no scroll event says what it pushed away

    async def end_answer(self) -> None:
        """The model finished (or paused for tools): render the rest; the next text starts a new block."""
        answer, self._answer = self._answer, None
        self._end_thinking()
        if answer is not None:
            await answer.finish()

    def _end_thinking(self) -> None:
        thinking, self._thinking = self._thinking, None
        if thinking is not None:
            thinking.flush()

    async def add_answer(self, markdown: str) -> None:
        """A whole answer at once (streaming off)."""
        await self.end_answer()
        await self.add_block(AssistantMessage(markdown))

    @property
    def answering(self) -> bool:
        return self._answer is not None

    async def append_thinking(self, fragment: str) -> None:
        """A thinking delta: buffered by the block, which re-renders at most every ``FLUSH_INTERVAL``."""
        if self._thinking is None:
            await self.end_answer()
            self._thinking = ThinkingBlock()
            await self.add_block(self._thinking)
        self._thinking.append(fragment)

    async def add_tool_call(self, call: CallRecord) -> None:
        await self.end_answer()
        await self.add_block(ToolCallEntry(call))

    async def add_notice(self, text: str, level: NoticeLevel = "info") -> None:
        await self.add_block(NoticeBlock(text, level))

    async def add_markdown(self, markdown: str) -> None:
        """Command output (``/help``, ``/analytics``): Markdown, not attributed to the model."""
        await self.end_answer()
        await self.add_block(AssistantMessage(markdown).add_class("-command-output"))

    async def clear_blocks(self) -> None:
        await self.end_answer()
        self._pruned_note = None
        self.pruned = 0
        await self.remove_children()

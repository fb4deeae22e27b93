"""The chat pane: prompts, streamed answers, thinking, tool calls and notices, newest at the bottom.

Only the last ``max_blocks`` blocks stay mounted; older ones leave the DOM (the conversation itself
stays in the agent's state, and ``/dump`` shows all of it), so a long session stays responsive.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tunacode_tui.ui.activity import CallRecord
from tunacode_tui.ui.widgets.assistant_message import AssistantMessage
from tunacode_tui.ui.widgets.notice_block import NoticeBlock, NoticeLevel
from tunacode_tui.ui.widgets.thinking_block import ThinkingBlock
from tunacode_tui.ui.widgets.tool_call_entry import ToolCallEntry
from tunacode_tui.ui.widgets.user_message import UserMessage

MAX_BLOCKS = 200


class ChatLog(VerticalScroll):
    """Appends blocks and keeps the view pinned to the bottom until the user scrolls up."""

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

    def on_mount(self) -> None:
        self.anchor()

    @property
    def blocks(self) -> list[Widget]:
        return [child for child in self.children if child is not self._pruned_note]

    async def add_block(self, block: Widget) -> Widget:
        await self.mount(block)
        await self._prune()
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

    # -- the conversation ---------------------------------------------------------------------
    async def add_user(self, prompt: str) -> None:
        await self.end_answer()
        await self.add_block(UserMessage(prompt))

    async def append_answer(self, fragment: str) -> None:
        if self._answer is None:
            self._thinking = None
            self._answer = AssistantMessage()
            await self.add_block(self._answer)
        await self._answer.write(fragment)

    async def end_answer(self) -> None:
        """The model finished (or paused for tools): flush the stream; the next text starts a new block."""
        answer, self._answer = self._answer, None
        self._thinking = None
        if answer is not None:
            await answer.finish()

    async def add_answer(self, markdown: str) -> None:
        """A whole answer at once (streaming off)."""
        await self.end_answer()
        await self.add_block(AssistantMessage(markdown))

    @property
    def answering(self) -> bool:
        return self._answer is not None

    async def append_thinking(self, fragment: str) -> None:
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

"""One assistant answer: a Markdown widget fed through a ``MarkdownStream`` while the model writes."""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream


class AssistantMessage(Markdown):
    """Streamed answers are appended, never re-rendered whole; code fences are highlighted by Markdown."""

    DEFAULT_CSS = """
    AssistantMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        background: transparent;
        & > MarkdownBlock:last-child { margin-bottom: 0; }
        &.-command-output { border-left: outer $secondary; background: $secondary 8%; }
    }
    """

    def __init__(self, markdown: str = "") -> None:
        super().__init__(markdown)
        self._stream: MarkdownStream | None = None

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    async def write(self, fragment: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(fragment)

    async def finish(self) -> None:
        """Flush what is pending and stop the stream; the widget keeps its text."""
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.stop()

"""Every use of a Textual private, in one place (Textual is pinned to ``>=8.2.8,<8.3``).

The streaming chat builds Textual's own Markdown blocks and updates them in place, which Textual exposes only
through underscore methods; a tool call's row shows only the title of a ``Collapsible`` until it is first
opened. Nothing else in ``ui/`` touches an underscore name of Textual (watchers and key handlers use the public
``watch_``/``on_`` names).

``PRIVATES`` lists each one with where it lives; ``tests/ui/test_textual_compat.py`` checks them all, so a
Textual release that renames or removes one fails that test with the name, instead of breaking the chat at run
time. When it fails: read the new Textual source for the replacement, change the function here, and widen the
pin in ``pyproject.toml``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.widgets import Collapsible, Markdown
from textual.widgets.markdown import MarkdownBlock

if TYPE_CHECKING:
    from markdown_it.token import Token
    from textual.widgets.collapsible import CollapsibleTitle

PRIVATES: tuple[tuple[type, str, str], ...] = (
    (Markdown, "_parse_markdown", "method: markdown-it tokens -> the MarkdownBlock widgets Markdown would mount"),
    (MarkdownBlock, "_update_from_block", "method: update a paragraph or fence block in place from a new one"),
    (Collapsible, "_title", "instance attribute: the CollapsibleTitle the collapsible toggles and relabels"),
)
"""(Textual class, private name, what it is and why it is used)."""


def parse_markdown_blocks(markdown: Markdown, tokens: Iterable[Token]) -> list[MarkdownBlock]:
    """The blocks ``markdown`` would mount for ``tokens`` (styled by its ``get_block_class``)."""
    return list(markdown._parse_markdown(tokens))


async def update_block_in_place(old: MarkdownBlock, new: MarkdownBlock) -> None:
    """Give ``old`` the content of ``new`` without remounting it (Textual does so for paragraphs and fences)."""
    await old._update_from_block(new)


def collapsible_title(collapsible: Collapsible) -> CollapsibleTitle:
    """The title widget of ``collapsible``: yielded alone when its contents are mounted lazily."""
    return collapsible._title

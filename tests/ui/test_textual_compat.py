"""The Textual privates the UI relies on still exist and still work, and only ``ui/textual_compat.py`` uses them.

A Textual release that renames one fails here, naming it, rather than in the middle of a streamed answer.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import io
import itertools
import pkgutil
import re
import tokenize
from importlib.metadata import version
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from textual.app import App, ComposeResult
from textual.widgets import Collapsible, Markdown
from textual.widgets.collapsible import CollapsibleTitle

import tunacode_tui.ui
from tunacode_tui.ui import textual_compat
from tunacode_tui.ui.textual_compat import (
    PRIVATES,
    collapsible_title,
    parse_markdown_blocks,
    update_block_in_place,
)

TEXTUAL = version("textual")


def _has(cls: type, name: str) -> bool:
    if hasattr(cls, name):
        return True
    try:
        return hasattr(cls(), name)  # an instance attribute (Collapsible._title)
    except Exception:
        return False


@pytest.mark.parametrize(("cls", "name", "what"), PRIVATES, ids=[f"{c.__name__}.{n}" for c, n, _ in PRIVATES])
def test_each_private_still_exists(cls: type, name: str, what: str) -> None:
    if not _has(cls, name):
        pytest.fail(
            f"Textual {TEXTUAL} has no {cls.__name__}.{name} ({what}). tunacode_tui/ui/textual_compat.py depends "
            "on it: find its replacement in this Textual release, update textual_compat.py, then the textual pin "
            "in pyproject.toml.")


class _Page(App[None]):
    def compose(self) -> ComposeResult:
        yield Markdown(id="doc")
        yield Collapsible(title="a title")


async def test_the_compat_functions_work_on_this_textual() -> None:
    app = _Page()
    async with app.run_test() as pilot:
        doc = app.query_one(Markdown)
        parser = MarkdownIt("gfm-like")
        blocks = parse_markdown_blocks(doc, parser.parse("# Title\n\nfirst text\n"))
        assert [type(b) for b in blocks] == [doc.get_block_class("h1"), doc.get_block_class("paragraph_open")], (
            f"Markdown._parse_markdown on Textual {TEXTUAL} no longer yields one block per top-level element")
        await doc.mount_all(blocks)
        paragraph = blocks[1]
        (newer,) = parse_markdown_blocks(doc, parser.parse("second text\n"))
        await update_block_in_place(paragraph, newer)
        await pilot.pause()
        assert paragraph.is_attached and "second text" in str(paragraph.content), (
            f"MarkdownBlock._update_from_block on Textual {TEXTUAL} no longer updates a paragraph in place")

        collapsible = app.query_one(Collapsible)
        title = collapsible_title(collapsible)
        assert isinstance(title, CollapsibleTitle) and title.parent is collapsible, (
            f"Collapsible._title on Textual {TEXTUAL} is not the title widget the collapsible mounts")


@functools.cache
def _assigned_names(base: type) -> frozenset[str]:
    """The ``self.<name> = ...`` attributes a Textual class's source sets."""
    try:
        source = inspect.getsource(base)
    except (OSError, TypeError):
        return frozenset()
    return frozenset(re.findall(r"self\.(_\w+)\s*(?::[^=\n]*)?=(?!=)", source))


def _textual_owned(cls: type, name: str) -> bool:
    """Whether a Textual class in ``cls``'s MRO defines ``name`` (as a class attribute or ``self.name = ...``)."""
    return any(name in vars(base) or name in _assigned_names(base)
               for base in cls.__mro__ if base.__module__.startswith("textual"))


def test_no_ui_module_but_the_compat_one_touches_a_textual_private() -> None:
    """Every ``self._x``/``super()._x``/``def _x`` in a Textual subclass under ui/ is our own name, not Textual's
    (which would also be a silent override); Textual's private ``_watch_``/``_on_`` hooks are not used either."""
    found: list[str] = []
    for info in pkgutil.walk_packages(tunacode_tui.ui.__path__, "tunacode_tui.ui."):
        module = importlib.import_module(info.name)
        if module is textual_compat:
            continue
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != info.name:
                continue
            if not any(base.__module__.startswith("textual") for base in cls.__mro__):
                continue
            body = inspect.getsource(cls)
            found += [f"{info.name}: {cls.__name__}.{m}" for m in re.findall(r"def (_(?:watch|on)_\w+)\(self", body)]
            names = set(re.findall(r"(?:self|super\(\))\.(_[a-z]\w*)", body))
            names |= set(re.findall(r"def (_[a-z]\w*)", body))
            found += [f"{info.name}: {cls.__name__}.{name}" for name in sorted(names) if _textual_owned(cls, name)]
    assert not found, ("Textual privates used outside tunacode_tui/ui/textual_compat.py (move them there, or "
                       f"rename our attribute if it merely shadows one): {found}")


def _attributes_in_code(text: str) -> set[str]:
    """``_name`` in ``<expr>._name`` in code (not in strings or comments)."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
              if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)]
    return {b.string for a, b in itertools.pairwise(tokens)
            if a.type == tokenize.OP and a.string == "." and b.type == tokenize.NAME and b.string.startswith("_")}


def test_no_ui_module_but_the_compat_one_reaches_into_a_textual_object() -> None:
    """``widget._x`` on some other object: flagged when ``_x`` is a name Textual defines and ui/ does not."""
    import textual

    textual_names: set[str] = set()
    for path in Path(textual.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        textual_names |= set(re.findall(r"def (_[a-z]\w*)", text))
        textual_names |= set(re.findall(r"self\.(_[a-z]\w*)\s*(?::[^=\n]*)?=", text))
    ui_root = Path(tunacode_tui.ui.__file__).parent
    sources = {path: path.read_text(encoding="utf-8") for path in ui_root.rglob("*.py")}
    ours: set[str] = set()
    for text in sources.values():
        ours |= set(re.findall(r"def (_[a-z]\w*)", text)) | set(re.findall(r"\.(_[a-z]\w*)\s*(?::[^=\n]*)?=", text))
    found = [f"{path.relative_to(ui_root)}: .{name}"
             for path, text in sorted(sources.items()) if path.name != "textual_compat.py"
             for name in sorted(_attributes_in_code(text))
             if name in textual_names and name not in ours]
    assert not found, f"Textual privates used outside tunacode_tui/ui/textual_compat.py: {found}"

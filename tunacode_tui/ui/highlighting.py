"""Syntax highlighting for tool arguments and results: JSON, diffs, and file contents by extension."""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

from pygments.token import Token
from textual.content import Content
from textual.highlight import HighlightTheme, highlight


# Textual's theme leaves diff tokens plain; a diff without red and green is hard to read.
class ToolHighlightTheme(HighlightTheme):
    STYLES = {
        **HighlightTheme.STYLES,
        Token.Generic.Inserted: "$text-success",
        Token.Generic.Deleted: "$text-error",
        Token.Generic.Subheading: "$text-accent",
        Token.Generic.Heading: "$text-primary bold",
    }


# read_file numbers its lines ("    12\tcode"); the numbers are not code and must not be lexed as code.
_NUMBERED = re.compile(r"^( *\d+)\t")


def _highlight(code: str, language: str) -> Content:
    # Pygments expands tabs while lexing, which would shift every later span off its text: expand them first.
    return highlight(code.expandtabs(8), language=language, theme=ToolHighlightTheme)


def highlight_numbered(text: str, language: str) -> Content:
    """Highlight the code of numbered lines as one text (so multi-line strings lex right), numbers dimmed."""
    lines = text.split("\n")
    prefixes, code = [], []
    for line in lines:
        match = _NUMBERED.match(line)
        prefixes.append(match.group(1) + "  " if match else "")
        code.append(line[match.end():] if match else line)
    highlighted = _highlight("\n".join(code), language).split("\n", allow_blank=True)
    width = max((len(p) for p in prefixes), default=0)
    out = [
        Content.assemble((prefix.rjust(width) if prefix else " " * width, "$text-muted"), body)
        for prefix, body in zip(prefixes, highlighted, strict=False)
    ]
    return Content("\n").join(out)


def looks_like_diff(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith(("--- ", "diff ", "@@ ")) or "\n@@ " in head or "\n+++ " in head


def highlight_json(value: Any) -> Content:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return _highlight(text, "json")


def highlight_diff(text: str) -> Content:
    return _highlight(text, "diff")


def _path_of(args: dict[str, Any]) -> str | None:
    for key in ("file_path", "path"):
        value = args.get(key)
        if isinstance(value, str) and PurePath(value).suffix:
            return value
    return None


def highlight_result(name: str, args: dict[str, Any], text: str) -> Content:
    """A diff as a diff; a file read as its language (by extension only: guessing from content is slow
    and often wrong); anything else as plain text."""
    if looks_like_diff(text):
        return highlight_diff(text)
    path = _path_of(args)
    if name == "read_file" and path is not None:
        from pygments.lexers import get_lexer_for_filename
        from pygments.util import ClassNotFound

        try:
            language = get_lexer_for_filename(path).aliases[0]
        except (ClassNotFound, IndexError):
            return Content(text)
        return highlight_numbered(text, language)
    return Content(text)


def _plus_minus(prefix: str, text: str, limit: int = 200) -> list[str]:
    lines = text.splitlines() or [""]
    shown = [prefix + line for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"{prefix}… {len(lines) - limit} more lines")
    return shown


def describe_request(name: str, args: dict[str, Any], preview: str | None) -> Content:
    """What a permission request will do. The tool's own preview (a real diff) when it has one; otherwise
    the change reconstructed from the arguments, so the user never approves blind."""
    if preview:
        return highlight_diff(preview) if looks_like_diff(preview) else Content(preview)
    path = str(args.get("file_path", ""))
    if name == "update_file" and isinstance(args.get("old_text"), str) and isinstance(args.get("new_text"), str):
        lines = [f"--- {path}", f"+++ {path}", *_plus_minus("-", args["old_text"]), *_plus_minus("+", args["new_text"])]
        return highlight_diff("\n".join(lines))
    if name == "write_file" and isinstance(args.get("content"), str):
        return highlight_diff("\n".join([f"+++ {path} (new file)", *_plus_minus("+", args["content"])]))
    if name == "bash" and isinstance(args.get("command"), str):
        return _highlight(args["command"], "bash")
    return highlight_json(args)

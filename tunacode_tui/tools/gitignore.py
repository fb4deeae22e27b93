"""Glob-to-regex translation and a small .gitignore matcher for the pure-Python grep and glob.

Covers what real ignore files use: ``*.ext``, ``dir/``, ``/anchored``, ``**``, ``!negation``,
character classes and escapes. Not covered: git's global excludes and ``.git/info/exclude``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILES = (".gitignore", ".ignore", ".rgignore")


def translate_glob(pattern: str) -> str:
    """Regex source for a path glob: ``*``/``?`` stay within one segment, ``**`` spans folders."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i) and (i == 0 or pattern[i - 1] == "/"):
                after = i + 2
                if after == n:
                    out.append(".*")
                    i = after
                    continue
                if pattern[after] == "/":
                    out.append("(?:.*/)?")
                    i = after + 1
                    continue
            while i < n and pattern[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            end = _class_end(pattern, i)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    j = start + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    end = pattern.find("]", j)
    return end


def expand_braces(pattern: str) -> list[str]:
    """``*.{ts,tsx}`` -> ``['*.ts', '*.tsx']`` (ripgrep and shells accept braces; fnmatch does not)."""
    match = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    expanded: list[str] = []
    for option in match.group(1).split(","):
        expanded.extend(expand_braces(head + option + tail))
    return expanded


def compile_glob(pattern: str) -> re.Pattern[str]:
    """One regex for a glob with braces, matched against a POSIX relative path."""
    alternatives = [translate_glob(p) for p in expand_braces(pattern)]
    return re.compile("(?:" + "|".join(alternatives) + r")\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """One line of an ignore file; ``base`` is its folder relative to the walk root ('' at the root)."""

    regex: re.Pattern[str]
    negated: bool
    dir_only: bool
    anchored: bool
    base: str

    def matches(self, rel: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not rel.startswith(self.base + "/"):
                return False
            rel = rel[len(self.base) + 1 :]
        target = rel if self.anchored else rel.rsplit("/", 1)[-1]
        return self.regex.fullmatch(target) is not None


def parse_ignore(lines: Iterable[str], base: str) -> list[IgnoreRule]:
    rules: list[IgnoreRule] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        while line.endswith(" ") and not line.endswith("\\ "):
            line = line[:-1]
        negated = line.startswith("!")
        if negated or line.startswith(("\\!", "\\#")):  # "\\!" and "\\#" escape a literal ! or #
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        try:
            regex = re.compile(translate_glob(line.lstrip("/")), re.DOTALL)
        except re.error:
            continue  # git ignores lines it cannot parse; so do we
        rules.append(IgnoreRule(regex, negated, dir_only, anchored, base))
    return rules


def read_ignore_rules(folder: Path, base: str) -> list[IgnoreRule]:
    """Rules from the ignore files directly in ``folder``."""
    rules: list[IgnoreRule] = []
    for name in IGNORE_FILES:
        try:
            text = (folder / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        rules.extend(parse_ignore(text.splitlines(), base))
    return rules


def is_ignored(rules: Iterable[IgnoreRule], rel: str, is_dir: bool) -> bool:
    """Last matching rule wins, as in git; a negated match re-includes."""
    verdict = False
    for rule in rules:
        if rule.matches(rel, is_dir):
            verdict = not rule.negated
    return verdict

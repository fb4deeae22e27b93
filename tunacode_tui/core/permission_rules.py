"""Permission rules: which tool calls run without asking.

A rule is a tool name (``write_file``: every call of that tool) or, for bash, a command rule:
``bash(git status:*)`` allows ``git status`` and anything after it as arguments, ``bash(npm test)`` allows
exactly ``npm test``. The same form is used by ``settings.allowed_tools`` and the permission dialog's "always"
choice (kept per project in the data folder; a repository's own files never grant permissions).

Matching is deliberately strict, as Claude Code's is: a command rule never matches a command holding shell
metacharacters (``;``, ``&&``, ``|``, ``$(...)``, backticks, redirections, newlines), so ``bash(git status:*)``
cannot be stretched into ``git status; rm -rf x``. Such commands always ask.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Characters that chain, substitute, redirect or background commands in a POSIX shell (or start a new line).
SHELL_METACHARACTERS = frozenset(";&|`$<>()\n\r\\{}*?[]~!#")
_RULE = re.compile(r"^(?P<tool>[A-Za-z_][\w.-]*)(?:\((?P<body>.*)\))?$", re.S)
COMMAND_TOOLS = frozenset({"bash"})
# Programs that run the rest of their arguments as another command: a prefix rule on "sudo rm" or "env git"
# would allow every command behind it, so the dialog offers only the exact command for them.
WRAPPERS = frozenset({"sudo", "doas", "env", "nice", "time", "timeout", "nohup", "xargs", "command", "exec", "sh",
                      "bash", "zsh", "dash", "eval", "builtin", "stdbuf", "ionice", "chroot", "su", "watch",
                      "setsid", "strace", "flock", "nsenter", "unshare", "runuser"})


class RuleError(ValueError):
    """A rule that cannot be read; the message shows the accepted forms."""


@dataclass(slots=True, frozen=True)
class PermissionRule:
    """``tool`` alone, or ``tool(words)`` for an exact command, or ``tool(words:*)`` for a command prefix."""

    tool: str
    words: tuple[str, ...] | None = None  # None: every call of the tool
    prefix: bool = False

    def __str__(self) -> str:
        if self.words is None:
            return self.tool
        return f"{self.tool}({' '.join(self.words)}{':*' if self.prefix else ''})"

    def allows(self, name: str, args: Mapping[str, Any]) -> bool:
        if name != self.tool:
            return False
        if self.words is None:
            return True
        words = command_words(args.get("command"))
        if words is None:
            return False
        if self.prefix:
            # ``git log:*`` must not stretch to ``git log --output=FILE``, a write anywhere.
            rest = words[len(self.words):]
            return tuple(words[: len(self.words)]) == self.words and not any(_writes_output(w) for w in rest)
        return tuple(words) == self.words


def _writes_output(word: str) -> bool:
    """An argument that names a file the command writes (``--output``, ``--output=FILE``, ``--output-file``)."""
    return word.startswith("--output") or word.startswith("--out=") or word.startswith("--log-file")


def parse_rule(text: str) -> PermissionRule:
    text = text.strip()
    match = _RULE.match(text)
    if match is None:
        raise RuleError(f"{text!r} is not a permission rule: write a tool name (write_file) or a bash command "
                        "rule, bash(git status:*) for a prefix or bash(npm test) for one exact command.")
    tool, body = match.group("tool"), match.group("body")
    if tool.lower() in COMMAND_TOOLS:
        tool = tool.lower()  # Bash(git status:*), as Claude Code writes it, means the same
    if body is None:
        return PermissionRule(tool)
    if tool not in COMMAND_TOOLS:
        raise RuleError(f"{text!r}: only bash takes a command in parentheses; write {tool} alone to allow it.")
    prefix = body.rstrip().endswith(":*")
    command = body.rstrip()[:-2] if prefix else body
    words = command_words(command)
    if not words:
        raise RuleError(f"{text!r}: the command must be plain words, without shell operators such as ; && | $( "
                        "or redirections.")
    return PermissionRule(tool, tuple(words), prefix)


def command_words(command: object) -> list[str] | None:
    """The words of a simple command, or None when it is not one (empty, unparsable, or holding anything a
    shell would treat as more than words)."""
    if not isinstance(command, str) or not command.strip():
        return None
    if any(ch in SHELL_METACHARACTERS for ch in command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:  # an unclosed quote
        return None
    return words or None


def allowed(rules: Iterable[str], name: str, args: Mapping[str, Any]) -> bool:
    """Whether any of ``rules`` allows this call. Unreadable rules allow nothing (the loader warns of them)."""
    for text in rules:
        try:
            rule = parse_rule(text)
        except RuleError:
            continue
        if rule.allows(name, args):
            return True
    return False


def suggest_rule(name: str, args: Mapping[str, Any]) -> str | None:
    """What the dialog's "always" should remember for this call: the tool for most tools; for bash, a prefix
    rule on the program and its subcommand (``git status:*``, ``npm test:*``), else the exact command (a
    program alone, ``find:*`` or ``git:*``, would allow ``find -delete`` or ``git -c ...``; a wrapper such as
    ``sudo rm:*`` or ``env git:*`` or an assignment ``FOO=1 npm:*`` would allow anything); None when the
    command is not a simple one (then "always" is not offered: a compound command is asked about each time)."""
    if name not in COMMAND_TOOLS:
        return name
    words = command_words(args.get("command"))
    if words is None:
        return None
    if "=" in words[0] or words[0].rsplit("/", 1)[-1] in WRAPPERS or any(_writes_output(w) for w in words):
        return str(PermissionRule(name, tuple(words)))  # FOO=1 npm test, sudo rm -rf build: exactly this
    if len(words) > 1 and re.fullmatch(r"[A-Za-z][\w-]*", words[1]):
        return str(PermissionRule(name, tuple(words[:2]), prefix=True))  # git status, npm test, cargo build
    return str(PermissionRule(name, tuple(words)))

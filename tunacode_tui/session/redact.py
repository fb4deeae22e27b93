"""Secret masking for everything tunacode writes to disk (journals, exports).

Known credential values (``Config.secrets()``) are masked wherever they appear, and so are strings shaped like
common API keys, because a key the model echoes or a user pastes is just as secret as the configured one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

REDACTED = "…(redacted)"

# A configured "secret" shorter than this is not a real credential (an empty or placeholder value); masking it
# would shred ordinary text, so it is left alone.
MIN_SECRET_LENGTH = 6

# Not inside a longer word: "task-management-system" must not look like an "sk-" key.
_B = r"(?<![A-Za-z0-9_])"
# A key body: key characters only, at least ``n`` of them, one a digit (prose like "sk-learn-style" has none).
_TOKEN = r"(?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9_\-]{{{n},}}"
# Key shapes seen in the wild. The recognisable prefix is kept so a reader can tell which kind of key was there.
_KEY_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"sk-ant-", _B + r"sk-ant-" + _TOKEN.format(n=16)),
    (r"sk-", _B + r"sk-" + _TOKEN.format(n=20)),
    (r"Bearer ", _B + r"(?i:bearer)[ \t]+" + r"(?=[A-Za-z0-9_\-.=+/~]*\d)[A-Za-z0-9_\-.=+/~]{16,}"),
    (r"gh_", _B + r"gh[pousr]_[A-Za-z0-9]{30,}"),
    (r"AKIA", _B + r"AKIA[0-9A-Z]{16}(?![0-9A-Z])"),
    (r"AIza", _B + r"AIza[0-9A-Za-z_\-]{35}"),
    (r"xai-", _B + r"xai-" + _TOKEN.format(n=20)),
)


def _shape_prefix(value: str) -> str:
    """The prefix to keep when masking ``value``: its key-kind marker, never any of the secret part."""
    for prefix, _ in _KEY_PATTERNS:
        if prefix == "Bearer ":
            if value[:6].lower() == "bearer" and value[6:7].isspace():
                return "Bearer "
        elif prefix == "gh_":
            if re.match(r"gh[pousr]_", value):
                return value[:4]
        elif value.startswith(prefix):
            return prefix
    return ""


@lru_cache(maxsize=32)
def _compile(secrets: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so a secret that contains another is masked whole.
    known = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    alternatives = [re.escape(s) for s in known] + [pattern for _, pattern in _KEY_PATTERNS]
    return re.compile("|".join(alternatives))


def _replace(match: re.Match[str]) -> str:
    return _shape_prefix(match.group(0)) + REDACTED


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every key-shaped string replaced by ``<prefix>…(redacted)``."""
    if not text:
        return text
    return _compile(tuple(secrets)).sub(_replace, text)


def mask_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """``mask_secrets`` applied to every string (keys included) inside JSON-like data.

    Masking the decoded strings rather than the encoded JSON matters: a secret containing a quote or a
    backslash is escaped in JSON and would slip past a match on the raw line.
    """
    pattern = _compile(tuple(secrets))

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(_replace, item) if item else item
        if isinstance(item, dict):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [walk(v) for v in item]
        return item

    return walk(value)

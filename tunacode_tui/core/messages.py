"""The provider-neutral conversation model every adapter translates to and from.

One shape for OpenAI, Anthropic and OpenAI-compatible endpoints, so the agent loop, the session
journal and the UI never see an SDK object.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True)
class TextPart:
    text: str
    kind: Literal["text"] = "text"


@dataclass(slots=True)
class ThinkingPart:
    """Model reasoning. Anthropic requires ``signature`` (or ``redacted_data``) back verbatim."""

    text: str
    signature: str | None = None
    redacted_data: str | None = None
    kind: Literal["thinking"] = "thinking"


@dataclass(slots=True)
class ToolCallPart:
    """A tool call as the model made it.

    ``arguments`` is the decoded object; ``raw_arguments`` keeps the exact text so a malformed call
    can be reported back to the model and still replayed to the provider unchanged.
    """

    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = ""
    parse_error: str | None = None
    kind: Literal["tool_call"] = "tool_call"


@dataclass(slots=True)
class ToolResultPart:
    tool_call_id: str
    name: str
    content: str
    is_error: bool = False
    kind: Literal["tool_result"] = "tool_result"


Part = TextPart | ThinkingPart | ToolCallPart | ToolResultPart


@dataclass(slots=True)
class Usage:
    """Token usage of one request, as the provider reported it."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def prompt_tokens(self) -> int:
        """Everything the request sent, cached or not: what fills the context window."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass(slots=True)
class Message:
    role: Role
    parts: list[Part] = field(default_factory=list)

    @classmethod
    def system(cls, text: str) -> Message:
        return cls("system", [TextPart(text)])

    @classmethod
    def user(cls, text: str) -> Message:
        return cls("user", [TextPart(text)])

    @classmethod
    def assistant(cls, text: str) -> Message:
        return cls("assistant", [TextPart(text)])

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if isinstance(p, ToolCallPart)]

    @property
    def tool_results(self) -> list[ToolResultPart]:
        return [p for p in self.parts if isinstance(p, ToolResultPart)]

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "parts": [part_to_dict(p) for p in self.parts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """Also repairs text that is not valid UTF-8 (a journal written before ``clean_text`` existed)."""
        return clean_message(cls(data["role"], [part_from_dict(p) for p in data.get("parts", [])]))


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    # U+DC80..U+DCFF is how Python carries an undecodable byte (a file name like caf\xe9.txt listed by
    # os.scandir, an argv byte): show the byte as \xNN. Any other lone surrogate has no byte behind it.
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "\ufffd"


def clean_text(text: str) -> str:
    """``text`` made encodable as UTF-8, so it can cross the wire and the journal.

    A lone surrogate in one message makes every later request fail to encode, for good; every text that
    enters the history goes through here. Undecodable bytes become ``\\xNN`` escapes, other lone
    surrogates U+FFFD. Text that is already valid is returned as is (the common, fast case).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub(_escape_surrogate, text)
    return text


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: _clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    return value


def clean_message(message: Message) -> Message:
    """``message`` with every text field (tool-call arguments included) passed through ``clean_text``;
    the same object when nothing needed it."""
    parts: list[Part] = []
    changed = False
    for part in message.parts:
        fields = {f.name: getattr(part, f.name) for f in dataclasses.fields(part)}
        cleaned = {name: _clean_value(value) for name, value in fields.items()}
        if cleaned != fields:
            changed = True
            parts.append(type(part)(**cleaned))
        else:
            parts.append(part)
    return Message(message.role, parts) if changed else message


def part_to_dict(part: Part) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(part)


_PART_TYPES: dict[str, Callable[..., Part]] = {
    "text": TextPart,
    "thinking": ThinkingPart,
    "tool_call": ToolCallPart,
    "tool_result": ToolResultPart,
}


def part_from_dict(data: dict[str, Any]) -> Part:
    kind = data.get("kind", "text")
    return _PART_TYPES[kind](**data)


def decode_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Decode streamed tool-call arguments; never raises.

    Returns the object and ``None``, or ``{}`` and a message the model can act on.
    """
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON ({exc.msg} at position {exc.pos}): {raw[:200]!r}"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}: {raw[:200]!r}"
    return value, None


@dataclass(slots=True)
class ToolSpec:
    """What the model is told about a tool: a name, a description, a JSON schema."""

    name: str
    description: str
    parameters: dict[str, Any]

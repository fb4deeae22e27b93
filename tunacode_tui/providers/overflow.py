"""Recognising "the prompt does not fit in the context window", whichever server says it, and the numbers it gives.

Every server family phrases the refusal differently and most send a plain 400, so the only reliable signal
is the text. Each marker below is taken from the server's own source or documentation (the test fixtures in
``tests/providers/test_overflow_shapes.py`` quote each one with where it comes from):

- OpenAI: error code ``context_length_exceeded``, "This model's maximum context length is N tokens. …"
- Anthropic: "prompt is too long: N tokens > M maximum"; "input length and `max_tokens` exceed context limit"
- OpenRouter: "This endpoint's maximum context length is N tokens. However, you requested about M tokens …"
- llama.cpp server: type ``exceed_context_size_error``, "request (N tokens) exceeds the available context size
  (M tokens), try increasing it" (and "input (N tokens) is larger than the max context size (M tokens)")
- vLLM: "This model's maximum context length is M tokens. However, your request has N input tokens. …"
- SGLang: "The input (N tokens) is longer than the model's context length (M tokens)."
- Ollama: "the input length exceeds the context length"
- LM Studio: "Trying to keep the first N tokens when context the overflows. However, the model is loaded with
  context length of only M tokens, which is not enough. …"
- TGI: "Input validation error: `inputs` tokens + `max_new_tokens` must be <= M. Given: N `inputs` tokens and K
  `max_new_tokens`" (and "`inputs` must have less than M tokens. Given: N")
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Lower-case substrings; any one of them in the error body or message means "context overflow".
MARKERS = (
    "context_length_exceeded",  # OpenAI
    "maximum context length",  # OpenAI, vLLM, OpenRouter
    "context window",  # generic wording of several proxies
    "too many input tokens",
    "prompt is too long",  # Anthropic
    "exceed context limit",  # Anthropic, input + max_tokens
    "exceed_context_size_error",  # llama.cpp error type
    "exceeds the available context size",  # llama.cpp
    "larger than the max context size",  # llama.cpp, context shift disabled
    "longer than the model's context length",  # SGLang
    "input length exceeds the context length",  # Ollama
    "context length of only",  # LM Studio
    "when context the overflows",  # LM Studio (sic)
    "when context overflows",  # LM Studio, later wording
    "`max_new_tokens` must be <=",  # TGI, input + output
    "`inputs` must have less than",  # TGI, input alone
)

# (pattern, which group is the window, which is the prompt size); the first that matches wins.
_NUMBER_PATTERNS: tuple[tuple[re.Pattern[str], int | None, int | None], ...] = (
    (re.compile(r"request \((\d+) tokens\) exceeds the available context size \((\d+) tokens\)"), 2, 1),
    (re.compile(r"input \((\d+) tokens\) is larger than the max context size \((\d+) tokens\)"), 2, 1),
    (re.compile(r"input \((\d+) tokens\) is longer than the model's context length \((\d+) tokens\)"), 2, 1),
    (re.compile(r"maximum context length is (\d+) tokens\. however, your request has (\d+) input tokens"), 1, 2),
    (re.compile(r"maximum context length is (\d+) tokens\. however, your messages resulted in (\d+) tokens"), 1, 2),
    (re.compile(r"maximum context length is (\d+) tokens"), 1, None),
    (re.compile(r"prompt is too long: (\d+) tokens > (\d+) maximum"), 2, 1),
    (re.compile(r"keep the first (\d+) tokens.*?context length of only (\d+) tokens"), 2, 1),
    (re.compile(r"must be <= (\d+)\. given: (\d+) `inputs` tokens"), 1, 2),
    (re.compile(r"`inputs` must have less than (\d+) tokens\. given: (\d+)"), 1, 2),
)


def is_overflow(text: str) -> bool:
    """Whether ``text`` (an error body flattened to text, any case) says the prompt did not fit."""
    lowered = text.lower()
    return any(marker in lowered for marker in MARKERS)


def numbers(body: object, message: str) -> tuple[int | None, int | None]:
    """(window, prompt tokens) as the server stated them; either may be None.

    llama.cpp's structured ``n_ctx``/``n_prompt_tokens`` win; otherwise the numbers are read from the sentence.
    """
    fields = _error_fields(body)
    window = _positive(fields.get("n_ctx"))
    prompt = _positive(fields.get("n_prompt_tokens"))
    if window is not None:
        return window, prompt
    lowered = message.lower()
    for pattern, window_group, prompt_group in _NUMBER_PATTERNS:
        match = pattern.search(lowered)
        if match is None:
            continue
        window = int(match.group(window_group)) if window_group else None
        prompt = prompt or (int(match.group(prompt_group)) if prompt_group else None)
        break
    return window, prompt


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _error_fields(body: object) -> Mapping[str, object]:
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
        return body
    return {}

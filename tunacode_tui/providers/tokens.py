"""Local token counting for context estimates, offline.

tiktoken downloads its encodings at run time, which fails without internet, so the cl100k_base file ships
with the package and is verified against tiktoken's published SHA-256 before use. If that fails, counts
fall back to a clearly marked estimate (``is_exact`` False) instead of crashing. Provider-reported usage
always wins over these counts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import resources

# tiktoken_ext/openai_public.py: the published hash of cl100k_base.tiktoken.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

_lock = threading.Lock()
_encoder: Callable[[str], int] | None = None
_exact = False
_failure: str | None = None


def _heuristic(text: str) -> int:
    # About four characters a token for English and code; good enough for a gauge, marked as an estimate.
    return (len(text) + 3) // 4


def _build() -> None:
    global _encoder, _exact, _failure
    try:
        import hashlib

        import tiktoken

        data = resources.files("tunacode_tui.providers").joinpath("data/cl100k_base.tiktoken").read_bytes()
        if hashlib.sha256(data).hexdigest() != CL100K_SHA256:
            raise ValueError("bundled cl100k_base.tiktoken does not match tiktoken's published hash")
        import base64

        ranks = {
            base64.b64decode(token): int(rank)
            for token, rank in (line.split() for line in data.splitlines() if line)
        }
        enc = tiktoken.Encoding(
            name="cl100k_base",
            pat_str=_PATTERN,
            mergeable_ranks=ranks,
            special_tokens={
                "<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276,
            },
        )

        def count(text: str) -> int:
            return len(enc.encode_ordinary(text))

        _encoder, _exact, _failure = count, True, None
    except Exception as exc:  # any failure: degrade visibly, never crash
        _encoder, _exact, _failure = _heuristic, False, f"{type(exc).__name__}: {exc}"


def _get() -> Callable[[str], int]:
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _build()
    assert _encoder is not None
    return _encoder


def count_tokens(text: str) -> int:
    return _get()(text) if text else 0


def is_exact() -> bool:
    """False when counts are the ~4 chars/token estimate (tokenizer unavailable)."""
    _get()
    return _exact


def tokenizer_status() -> str:
    _get()
    return "tiktoken cl100k_base (bundled)" if _exact else f"estimate (~4 chars/token): {_failure}"

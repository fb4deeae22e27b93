"""Typed provider errors whose text tells the user what happened and what to do."""

from __future__ import annotations

import re


class ProviderError(Exception):
    """Base class. ``str(err)`` is one line a user can act on; ``retryable`` drives the retry loop."""

    retryable = False

    def __init__(self, message: str, *, provider: str = "", status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class MissingApiKey(ProviderError):
    def __init__(self, provider: str, variable: str) -> None:
        super().__init__(
            f"No API key for {provider}: set {variable} in your environment or run `tunacode --setup`.",
            provider=provider,
        )
        self.variable = variable


class AuthenticationFailed(ProviderError):
    """401/403: the key is wrong, revoked, or lacks access."""


class ModelNotFound(ProviderError):
    """404: the model name does not exist for this endpoint or account."""


class BadRequest(ProviderError):
    """400/422: the request was rejected; the provider's message says why."""


class ContextOverflow(BadRequest):
    """The prompt is larger than the model's context window.

    ``window`` and ``prompt_tokens`` are what the server said, when it said it (llama.cpp sends ``n_ctx`` and
    ``n_prompt_tokens``; vLLM, SGLang, TGI, LM Studio and Anthropic put the numbers in the sentence): the agent
    uses them to correct the window it assumed and its own token estimate.
    """

    def __init__(self, message: str, *, window: int | None = None, prompt_tokens: int | None = None,
                 **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.window = window
        self.prompt_tokens = prompt_tokens


class RateLimited(ProviderError):
    retryable = True


class QuotaExhausted(ProviderError):
    """429 that retrying cannot fix (billing / quota): fail fast."""


class ServerError(ProviderError):
    retryable = True


class ProviderTimeout(ProviderError):
    retryable = True


class ProviderConnectionError(ProviderError):
    retryable = True


class StreamInterrupted(ProviderError):
    """The connection dropped mid-response. Retried only if nothing had been streamed yet."""

    retryable = True


class ConfigurationError(Exception):
    """A bad model name, an unknown provider, a missing base URL: fix the config, do not retry."""


# user:password@ in a URL (a proxy or a self-hosted server behind basic auth).
_URL_PASSWORD_RE = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*):(?P<password>[^/\s@]+)@")


def mask_url_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL replaced by ``***``: base
    URLs appear in errors and in stream-json, and a password in one is as secret as a key."""
    if "@" not in text:
        return text
    return _URL_PASSWORD_RE.sub(lambda m: f"{m['head']}:***@", text)

"""Turn SDK and transport exceptions into the typed errors of ``errors.py``, with messages a user can act on.

Both SDKs share the exception shapes (``APIStatusError`` with ``status_code``/``response``/``body``,
``APITimeoutError``, ``APIConnectionError``), so the mapping is written once against those shapes. The SDK
modules are looked up in ``sys.modules`` and never imported here: this module is loaded at start-up by the
registry and must not pay for ``import anthropic`` (~1.5 s) when only OpenAI is in use.
"""

from __future__ import annotations

import email.utils
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tunacode_tui.providers import overflow
from tunacode_tui.providers.errors import (
    AuthenticationFailed,
    BadRequest,
    ContextOverflow,
    ModelNotFound,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
    ServerError,
    StreamInterrupted,
)

_LABELS = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "openrouter": "OpenRouter",
}
# The hosts a provider's name stands for; pointed anywhere else, messages name the endpoint instead
# ("OpenAI rejected the request" is wrong, and unhelpful, for a llama.cpp server on localhost).
_OFFICIAL_HOSTS = {
    "openai": "api.openai.com",
    "anthropic": "api.anthropic.com",
    "openrouter": "openrouter.ai",
}

_MAX_DETAIL = 300

_QUOTA_MARKERS = ("insufficient_quota", "billing", "credit")
# Keys that look like provider secrets, in case a provider echoes one back in an error.
_SECRET_PATTERN = re.compile(r"\b(sk|sk-ant|sk-or|sk-proj)-[A-Za-z0-9_\-*]{6,}")


@dataclass(slots=True, frozen=True)
class ErrorContext:
    """What an error message may mention: the provider, model, endpoint and the key's variable name.

    ``api_key`` is only used to scrub the secret out of messages; it is never shown.
    """

    provider: str
    model: str
    base_url: str
    key_env: str | None = None
    timeout: float | None = None
    api_key: str | None = None

    @property
    def label(self) -> str:
        """The provider's name at its official endpoint, otherwise the endpoint itself."""
        official = _OFFICIAL_HOSTS.get(self.provider)
        if official is not None and urlsplit(self.base_url).hostname == official:
            return _LABELS[self.provider]
        if self.provider == "openai-compatible" or official is not None:
            return f"the server at {self.base_url}"
        return _LABELS.get(self.provider, self.provider)

    @property
    def where(self) -> str:
        """The label with the endpoint, said once: "OpenAI at https://…", "the server at http://…"."""
        label = self.label
        return label if self.base_url and self.base_url in label else f"{label} at {self.base_url}"

    @property
    def subject(self) -> str:
        """The label at the start of a sentence."""
        return self.label[:1].upper() + self.label[1:]


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``retry-after`` (seconds or an HTTP date); None if absent."""
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _honour_should_retry(err: ProviderError, exc: BaseException) -> ProviderError:
    """Anthropic (and OpenAI) send ``x-should-retry: false`` when a retry cannot help, whatever the
    status says; the SDKs obey it, and so does our retry loop."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    if str(headers.get("x-should-retry", "")).strip().lower() == "false":
        err.retryable = False
    return err


def map_error(exc: BaseException, ctx: ErrorContext, *, mid_stream: bool = False) -> ProviderError:
    """Map any exception raised while talking to a provider to a ``ProviderError``.

    ``mid_stream`` says the response had started: a dropped connection then becomes ``StreamInterrupted``
    rather than a failure to connect.
    """
    if isinstance(exc, ProviderError):
        return exc
    status = getattr(exc, "status_code", None)
    # A status below 400 on an APIStatusError is Anthropic's error event inside a 200 stream.
    if isinstance(status, int) and status >= 400 and _is_sdk_error(exc, "APIStatusError"):
        return _honour_should_retry(_map_status(exc, status, ctx), exc)
    if _is_sdk_error(exc, "APITimeoutError") or _is_transport_error(exc, "TimeoutException"):
        return _timeout(ctx, mid_stream)
    if _is_sdk_error(exc, "APIConnectionError") or _is_transport_error(exc, "TransportError"):
        cause = exc.__cause__ or exc
        if mid_stream:
            return StreamInterrupted(
                f"The connection to {ctx.label} dropped mid-response ({_describe(cause)}).",
                provider=ctx.provider,
            )
        return ProviderConnectionError(
            f"Could not reach {ctx.where} ({_describe(cause)}). "
            "Check your network connection and the base URL.",
            provider=ctx.provider,
        )
    if _is_sdk_error(exc, "APIError"):
        # An error event inside a 200 stream (OpenRouter, Anthropic overload): judge it by its body.
        return _map_stream_error_event(exc, ctx)
    return ProviderError(
        f"Unexpected error from {ctx.label}: {_clean(_describe(exc), ctx)}", provider=ctx.provider
    )


def _map_status(exc: BaseException, status: int, ctx: ErrorContext) -> ProviderError:
    body = getattr(exc, "body", None)
    detail = _clean(_provider_message(body) or str(getattr(exc, "message", "") or exc), ctx)
    said = f" Provider said: {detail}" if detail else ""
    haystack = f"{_flatten(body)} {detail}".lower()
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    retry_after = parse_retry_after(headers)
    common: dict[str, Any] = {"provider": ctx.provider, "status": status}
    key_hint = f"Check {ctx.key_env}" if ctx.key_env else "Check the API key"

    if status == 401:
        return AuthenticationFailed(
            f"{ctx.subject} rejected the API key (401). {key_hint} or run `tunacode --setup`.{said}", **common
        )
    if status == 403:
        return AuthenticationFailed(
            f"{ctx.subject} refused access (403): the key may lack permission for model '{ctx.model}'. "
            f"{key_hint}.{said}",
            **common,
        )
    if status == 404:
        hint = ""
        if ctx.provider == "openai-compatible":
            hint = " If the model exists, check the base URL (it usually ends in /v1)."
        return ModelNotFound(
            f"Model '{ctx.model}' was not found at {ctx.base_url} (404): check the name with /model.{hint}{said}",
            **common,
        )
    if overflow.is_overflow(haystack) or status == 413:
        window, prompt = overflow.numbers(body, detail)
        return ContextOverflow(
            f"The conversation no longer fits in the context window of '{ctx.model}' ({status}). "
            f"Run /compact or start a new session.{said}",
            window=window,
            prompt_tokens=prompt,
            **common,
        )
    # 402 is OpenRouter's "out of credits"; Anthropic says "credit balance is too low" with a 400.
    if status == 402 or (status in (400, 429) and any(marker in haystack for marker in _QUOTA_MARKERS)):
        return QuotaExhausted(
            f"{ctx.subject} says the account is out of quota or credit ({status}); retrying will not help. "
            f"Check billing for the key in {ctx.key_env or 'your config'}.{said}",
            **common,
        )
    if status == 429:
        wait = f" Suggested wait: {retry_after:g} s." if retry_after is not None else ""
        return RateLimited(
            f"{ctx.subject} is rate-limiting requests (429).{wait}{said}", retry_after=retry_after, **common
        )
    if status == 408:
        return ProviderTimeout(
            f"{ctx.subject} timed out handling the request (408); it may succeed on retry.{said}",
            retry_after=retry_after,
            **common,
        )
    if status >= 500 or status == 409:
        what = "is overloaded" if status == 529 else "had a server error"
        return ServerError(
            f"{ctx.subject} {what} ({status}); retrying may help.{said}", retry_after=retry_after, **common
        )
    if status in (400, 422):
        return BadRequest(f"{ctx.subject} rejected the request ({status}).{said}", **common)
    return ProviderError(f"{ctx.subject} answered with HTTP {status}.{said}", **common)


def _map_stream_error_event(exc: BaseException, ctx: ErrorContext) -> ProviderError:
    body = getattr(exc, "body", None)
    detail = _clean(_provider_message(body) or str(getattr(exc, "message", "") or exc), ctx)
    haystack = f"{_flatten(body)} {detail}".lower()
    said = f" Provider said: {detail}" if detail else ""
    if overflow.is_overflow(haystack):
        window, prompt = overflow.numbers(body, detail)
        return ContextOverflow(
            f"The conversation no longer fits in the context window of '{ctx.model}'. "
            f"Run /compact or start a new session.{said}",
            provider=ctx.provider,
            window=window,
            prompt_tokens=prompt,
        )
    if "rate_limit" in haystack:
        return RateLimited(f"{ctx.subject} is rate-limiting requests.{said}", provider=ctx.provider)
    if any(marker in haystack for marker in _QUOTA_MARKERS):
        return QuotaExhausted(f"{ctx.subject} says the account is out of quota or credit.{said}",
                              provider=ctx.provider)
    if "invalid_request" in haystack:
        return BadRequest(f"{ctx.subject} rejected the request.{said}", provider=ctx.provider)
    # Overloads and upstream failures reported inside the stream: provider-side, worth a retry.
    return ServerError(f"{ctx.subject} reported an error mid-stream.{said}", provider=ctx.provider)


def _timeout(ctx: ErrorContext, mid_stream: bool) -> ProviderTimeout:
    after = f" after {ctx.timeout:g} s" if ctx.timeout else ""
    what = "stopped sending data" if mid_stream else "did not answer"
    return ProviderTimeout(
        f"{ctx.subject} {what}{after} (model '{ctx.model}'). "
        "If this keeps happening, raise the request timeout in the config.",
        provider=ctx.provider,
    )


def _is_sdk_error(exc: BaseException, name: str) -> bool:
    for module_name in ("openai", "anthropic"):
        module = sys.modules.get(module_name)
        cls = getattr(module, name, None) if module is not None else None
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False


def _is_transport_error(exc: BaseException, name: str) -> bool:
    for module_name in ("httpx2", "httpx"):
        module = sys.modules.get(module_name)
        cls = getattr(module, name, None) if module is not None else None
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False


def _provider_message(body: object) -> str:
    """The human-readable message inside an error body of either API (OpenAI unwraps ``error``, Anthropic not)."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping | str):
            found = _provider_message(inner)
            if found:
                return found
        message = body.get("message")
        if isinstance(message, str):
            return message
        return ""
    if isinstance(body, str):
        return body.strip()
    return ""


def _flatten(body: object) -> str:
    if isinstance(body, Mapping):
        return " ".join(f"{key} {_flatten(value)}" for key, value in body.items())
    if isinstance(body, list | tuple):
        return " ".join(_flatten(item) for item in body)
    return "" if body is None else str(body)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _clean(text: str, ctx: ErrorContext) -> str:
    """One line, no secrets, at most ~300 characters."""
    text = " ".join(text.split())
    if ctx.api_key and len(ctx.api_key) >= 6:
        text = text.replace(ctx.api_key, "***")
    text = _SECRET_PATTERN.sub(lambda m: f"{m.group(1)}-***", text)
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1].rstrip() + "…"
    return text

"""What the SDK adapters share: identity, the error context, and closing the pooled client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from tunacode_tui.core.stream import StreamEvent
from tunacode_tui.providers.error_map import ErrorContext
from tunacode_tui.providers.errors import ProviderTimeout, mask_url_passwords

_END = object()


class SdkAdapter:
    """Holds one SDK client for one (provider, base URL, key, timeout). Subclasses set ``_client``."""

    _client: Any

    def __init__(self, *, api_key: str, base_url: str, provider: str, timeout: float, key_env: str | None) -> None:
        self.name = provider
        self.base_url = base_url
        self._key_env = key_env
        self._api_key = api_key
        self._timeout = timeout

    def _client_options(self, timeout_type: Any, extra_headers: Any) -> dict[str, Any]:
        """Constructor options both SDKs take: our retry loop is the only retry, so every retry is visible."""
        return {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "timeout": timeout_type(self._timeout, connect=min(self._timeout, 15.0)),
            "max_retries": 0,
            "default_headers": dict(extra_headers) if extra_headers else None,
        }

    async def context_window(self, model: str) -> int | None:
        """The window the endpoint accepts for ``model``, if it reports one (see ``context_window.py``)."""
        from tunacode_tui.providers.context_window import discover

        async def get(url: str) -> object:
            return await self._client.get(url, cast_to=object, options={"timeout": 5.0})

        async def post(url: str, body: dict[str, Any]) -> object:
            return await self._client.post(url, cast_to=object, body=body, options={"timeout": 5.0})

        return await discover(model, base_url=self.base_url, get=get, post=post)

    async def aclose(self) -> None:
        await self._client.close()

    def _context(self, model: str) -> ErrorContext:
        return ErrorContext(
            provider=self.name,
            model=model,
            base_url=mask_url_passwords(self.base_url),  # errors quote it; a password in it must not show
            key_env=self._key_env,
            timeout=self._timeout,
            api_key=self._api_key,
        )

    async def _progressing(
        self, raw: AsyncIterator[Any], feed: Callable[[Any], list[StreamEvent]], ctx: ErrorContext
    ) -> AsyncIterator[StreamEvent]:
        """The neutral events of ``raw``, abandoned after ``timeout`` seconds without progress.

        The SDK's own timeout is per read, so a server that sends keep-alives (SSE comments such as
        OpenRouter's ``: OPENROUTER PROCESSING``, Anthropic ``ping`` events) but never an answer would
        hold a request open forever. Only chunks that produce neutral events (text, thinking, tool calls,
        usage, the end) count as progress here.
        """
        loop = asyncio.get_running_loop()
        iterator = aiter(raw)
        last_progress = loop.time()
        while True:
            remaining = last_progress + self._timeout - loop.time()
            try:
                # asyncio.timeout, not wait_for: no task per chunk, so buffered chunks still arrive
                # back to back (read-only tools start together, as early start intends).
                async with asyncio.timeout(max(remaining, 0.001)):
                    chunk = await anext(iterator, _END)
            except TimeoutError:
                raise ProviderTimeout(
                    f"{ctx.subject} made no progress for {self._timeout:g} s (model '{ctx.model}'): nothing but "
                    "keep-alives arrived, or nothing at all. Raise settings.request_timeout for a model that "
                    "thinks silently for longer.",
                    provider=self.name,
                ) from None
            if chunk is _END:
                return
            events = feed(chunk)
            if events:
                last_progress = loop.time()
            for event in events:
                yield event

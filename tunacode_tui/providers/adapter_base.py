"""What the SDK adapters share: identity, the error context, and closing the pooled client."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from tunacode_tui.core.messages import Message, TextPart, ToolCallPart, ToolResultPart, ToolSpec
from tunacode_tui.core.stream import StreamEvent
from tunacode_tui.providers.base import ChatRequest
from tunacode_tui.providers.error_map import ErrorContext
from tunacode_tui.providers.errors import ProviderTimeout, mask_url_passwords

_END = object()


def _sample_request() -> ChatRequest:
    """A request with every kind of message and a tool, to warm the SDK's body checks."""
    call = ToolCallPart("call_1", "read_file", {"file_path": "a.py"}, '{"file_path": "a.py"}')
    return ChatRequest(
        model="warm-up", system="You are a coding agent.",
        messages=[Message.user("hello"), Message("assistant", [TextPart("reading"), call]),
                  Message("user", [ToolResultPart("call_1", "read_file", "print('a')")])],
        tools=[ToolSpec("read_file", "Read a file.",
                        {"type": "object", "properties": {"file_path": {"type": "string"}}})],
        max_tokens=100,
    )


class SdkAdapter:
    """Holds one SDK client for one (provider, base URL, key, timeout). Subclasses set ``_client``."""

    _client: Any
    _warm_path: tuple[str, ...] = ()
    """Attributes from the client to the resource requests use; the SDKs import them lazily on first access."""
    _warm_modules: tuple[str, ...] = ("concurrent.futures.thread",)
    """Modules the first request imports: asyncio's resolver thread pool, and what each SDK adds."""
    _warm_params: tuple[str, str] = ("", "")
    """The SDK module and TypedDict its ``create`` checks the body against (the first check reads type hints)."""

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

    def warm(self) -> None:
        """Import what the first request would import (``client.chat.completions`` loads the resource modules, a few
        hundred ms): the TUI calls this from a background thread after its first frame, so Enter does not wait."""
        target = self._client
        for name in self._warm_path:
            target = getattr(target, name)
        # The HTTP stack's async primitives: anyio imports each on first use, inside the first request.
        import anyio

        for name in getattr(anyio, "__all__", ()):
            getattr(anyio, name, None)
        importlib.import_module("anyio._backends._asyncio")
        for module_name in self._warm_modules:
            with contextlib.suppress(ImportError):  # optional dependencies of the SDK
                importlib.import_module(module_name)
        # The SDK checks the body against its TypedDicts, evaluating their type hints once (cached): ~40 ms on the
        # first request otherwise. A private helper, so any failure only means the first request pays for it.
        module, name = self._warm_params
        build = getattr(self, "build_params", None)
        if module and build is not None:
            with contextlib.suppress(Exception):
                sdk = importlib.import_module(module.split(".")[0] + "._utils")
                params = build(_sample_request())
                sdk.maybe_transform({**params, "stream": True}, getattr(importlib.import_module(module), name))

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

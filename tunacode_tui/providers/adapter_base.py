"""What the SDK adapters share: identity, the error context, and closing the pooled client."""

from __future__ import annotations

from typing import Any

from tunacode_tui.providers.error_map import ErrorContext


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
            base_url=self.base_url,
            key_env=self._key_env,
            timeout=self._timeout,
            api_key=self._api_key,
        )

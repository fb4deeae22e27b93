"""The one retry loop for provider requests: visible, bounded, and never duplicating streamed output.

SDK clients are built with ``max_retries=0`` so this is the only place a request is repeated, and every
retry is reported through ``on_retry`` (the UI shows "rate limited, retrying in 2 s"). Once any event has
reached the caller, a failure is raised as ``StreamInterrupted`` instead of retried: replaying the request
would show text twice or start the same tool twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing

from tunacode_tui.core.stream import StreamEvent
from tunacode_tui.providers.errors import ProviderError, StreamInterrupted

OnRetry = Callable[[ProviderError, float, int], None]
"""Called before each retry with the error, the delay in seconds and the retry number (1 = first retry)."""

BASE_DELAY = 0.5
MAX_DELAY = 20.0


def backoff_delay(retry_number: int, *, base: float = BASE_DELAY, cap: float = MAX_DELAY,
                  rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: about base·2ⁿ⁻¹ seconds, ±20 %, so clients do not retry in lockstep."""
    raw = min(cap, base * (2.0 ** (retry_number - 1)))
    return raw * (0.8 + 0.4 * rng())


async def stream_with_retry(
    open_stream: Callable[[], AsyncIterator[StreamEvent]],
    *,
    max_attempts: int = 4,
    max_total_seconds: float = 60.0,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
) -> AsyncIterator[StreamEvent]:
    """Yield the events of ``open_stream()``, opening it again after a retryable failure.

    Retried: errors whose ``retryable`` is true (429, 5xx, timeouts, connection errors, a stream that
    dropped before its first event), at most ``max_attempts`` attempts and never past
    ``max_total_seconds`` (counting the planned wait). ``retry_after`` from the provider is honoured as is.
    """
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        yielded = False
        try:
            async with aclosing(_as_async_generator(open_stream())) as events:
                async for event in events:
                    yielded = True
                    yield event
            return
        except ProviderError as err:
            if yielded:
                if not err.retryable:
                    raise
                raise _interrupted(err) from err
            if not err.retryable or attempt >= max_attempts:
                raise
            delay = err.retry_after if err.retry_after is not None else backoff_delay(attempt, rng=rng)
            if clock() - started + delay > max_total_seconds:
                raise
            if on_retry is not None:
                on_retry(err, delay, attempt)
            await sleep(delay)


def _interrupted(err: ProviderError) -> StreamInterrupted:
    if isinstance(err, StreamInterrupted):
        message = err.message
    else:
        message = f"The response stopped part-way: {err.message}"
    return StreamInterrupted(
        f"{message} It was not retried automatically because part of it had already arrived.",
        provider=err.provider,
        status=err.status,
        retry_after=err.retry_after,
    )


async def _as_async_generator(events: AsyncIterator[StreamEvent]) -> AsyncGenerator[StreamEvent, None]:
    """Wrap any async iterator so ``aclosing`` can close it (and the HTTP response under it) early."""
    try:
        async for event in events:
            yield event
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()

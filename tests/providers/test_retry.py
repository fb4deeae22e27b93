"""stream_with_retry: what is retried, how long it waits, and that nothing streamed is ever repeated."""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator, Callable

import pytest

from tests.providers.helpers import collect
from tunacode_tui.core.messages import Message, Usage
from tunacode_tui.core.stream import StreamEnded, StreamEvent, TextChunk
from tunacode_tui.providers.error_map import parse_retry_after
from tunacode_tui.providers.errors import (
    AuthenticationFailed,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from tunacode_tui.providers.retry import backoff_delay, stream_with_retry

END = StreamEnded("end_turn", Message.assistant("ok"), Usage())


def scripted(*outcomes: ProviderError | list[StreamEvent] | tuple[list[StreamEvent], ProviderError]
             ) -> tuple[Callable[[], AsyncIterator[StreamEvent]], list[int]]:
    """An ``open_stream`` whose n-th call raises, yields, or yields then raises, as scripted."""
    opened: list[int] = []

    def open_stream() -> AsyncIterator[StreamEvent]:
        outcome = outcomes[len(opened)]
        opened.append(len(opened))

        async def events() -> AsyncIterator[StreamEvent]:
            if isinstance(outcome, ProviderError):
                raise outcome
            items, error = outcome if isinstance(outcome, tuple) else (outcome, None)
            for item in items:
                yield item
            if error is not None:
                raise error

        return events()

    return open_stream, opened


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_retryable_errors_are_retried_until_success() -> None:
    open_stream, opened = scripted(ServerError("boom"), ProviderTimeout("slow"), [TextChunk("hi"), END])
    sleep = Sleeps()
    seen: list[tuple[str, float, int]] = []

    events = await collect(stream_with_retry(open_stream, sleep=sleep, rng=lambda: 0.5,
                                             on_retry=lambda e, d, n: seen.append((type(e).__name__, d, n))))

    assert events == [TextChunk("hi"), END]
    assert len(opened) == 3
    assert seen == [("ServerError", 0.5, 1), ("ProviderTimeout", 1.0, 2)]
    assert sleep.delays == [0.5, 1.0]


async def test_non_retryable_errors_fail_at_once() -> None:
    open_stream, opened = scripted(AuthenticationFailed("bad key"))
    sleep = Sleeps()

    with pytest.raises(AuthenticationFailed):
        await collect(stream_with_retry(open_stream, sleep=sleep))

    assert len(opened) == 1 and sleep.delays == []


async def test_attempts_are_bounded() -> None:
    open_stream, opened = scripted(*[ServerError(f"boom {i}") for i in range(5)])

    with pytest.raises(ServerError, match="boom 2"):
        await collect(stream_with_retry(open_stream, max_attempts=3, sleep=Sleeps()))

    assert len(opened) == 3


async def test_retry_after_is_honoured_and_total_time_bounded() -> None:
    open_stream, opened = scripted(RateLimited("slow down", retry_after=2.5), RateLimited("later", retry_after=120),
                                   [END])
    sleep = Sleeps()

    with pytest.raises(RateLimited, match="later"):
        await collect(stream_with_retry(open_stream, sleep=sleep, max_total_seconds=60))

    assert sleep.delays == [2.5]  # the 120 s wait would blow the 60 s budget: give up instead
    assert len(opened) == 2


async def test_elapsed_time_counts_against_the_budget() -> None:
    now = [0.0]
    open_stream, opened = scripted(ServerError("a"), ServerError("b"), [END])

    async def slow_sleep(delay: float) -> None:
        now[0] += 59.5  # the clock runs far ahead of the planned delay

    with pytest.raises(ServerError, match="b"):
        await collect(stream_with_retry(open_stream, sleep=slow_sleep, clock=lambda: now[0],
                                        max_total_seconds=60))
    assert len(opened) == 2


async def test_failure_after_output_is_interrupted_not_retried() -> None:
    open_stream, opened = scripted(([TextChunk("partial")], ServerError("upstream died")), [END])
    seen: list[StreamEvent] = []

    with pytest.raises(StreamInterrupted) as info:
        async for event in stream_with_retry(open_stream, sleep=Sleeps()):
            seen.append(event)

    assert seen == [TextChunk("partial")]
    assert len(opened) == 1
    assert "upstream died" in str(info.value) and "not retried" in str(info.value)
    assert isinstance(info.value.__cause__, ServerError)


async def test_non_retryable_failure_after_output_is_raised_as_is() -> None:
    open_stream, _ = scripted(([TextChunk("partial")], AuthenticationFailed("revoked")))

    with pytest.raises(AuthenticationFailed):
        await collect(stream_with_retry(open_stream, sleep=Sleeps()))


async def test_drop_before_any_event_is_retried() -> None:
    open_stream, opened = scripted(StreamInterrupted("dropped"), [END])

    assert await collect(stream_with_retry(open_stream, sleep=Sleeps())) == [END]
    assert len(opened) == 2


async def test_closing_early_closes_the_underlying_stream() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[StreamEvent]:
        try:
            yield TextChunk("a")
            yield TextChunk("b")
        finally:
            closed.append(True)

    stream = stream_with_retry(events)
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]

    assert closed == [True]


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_delay(n, rng=lambda: 0.5) for n in range(1, 10)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == 20.0
    assert backoff_delay(1, rng=lambda: 0.0) == pytest.approx(0.4)
    assert backoff_delay(1, rng=lambda: 1.0) == pytest.approx(0.6)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == pytest.approx(30.0)
    assert parse_retry_after({"retry-after": "-5"}) == 0.0

"""Run blocking file work in a thread so that a cancel can never leave it half-reported.

``asyncio.to_thread`` cannot stop its thread: a cancelled await returns at once while the write goes on
and lands later, so the user, the journal and ``/undo`` would all be told "cancelled" about a change that
happened. Here a cancel instead raises a flag the work checks at its safe points (``atomic_write`` checks
it between chunks and right before the rename) and then waits for the thread to settle:

- the work stopped at a safe point (``WriteCancelled``): nothing changed, and the cancel goes on;
- the work had already passed its last safe point: the change is real, so its result is returned and the
  call is reported (and journaled, and undoable) as done.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from tunacode_tui.tools.fileio import WriteCancelled

T = TypeVar("T")


async def settle_in_thread(work: Callable[[threading.Event], T]) -> T:
    """Run ``work(stop)`` in a thread; see the module docstring for what a cancel does."""
    stop = threading.Event()
    future = asyncio.ensure_future(asyncio.to_thread(work, stop))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        while not future.done():
            try:
                await asyncio.wait([future])
            except asyncio.CancelledError:  # cancelled again (a second Ctrl+C): still wait, it is short
                continue
        if future.cancelled() or isinstance(future.exception(), WriteCancelled):
            raise
        return future.result()  # it finished (or failed on its own): report what really happened

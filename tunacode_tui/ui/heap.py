"""Garbage collection kept out of the user's way: collect at idle moments, and freeze what survives.

CPython's full collections scan every tracked object; with Textual's caches, the chat's widgets and the provider
SDKs that is over a million objects, and a full collection stopped the event loop for 130-220 ms (2 cores) in
the middle of a stream or a scroll, the p95 of both latency figures (``benchmarks/render.py``). So:

- after start-up, and after every turn once the app is idle, ``settle`` collects, then ``gc.freeze()``\\ s the
  survivors: the automatic collections that run while the user types or the model writes only scan what is
  newer, a few thousand objects;
- frozen objects are never collected, so every ``REFREEZE_EVERY`` settles the freeze is lifted first, and what
  died since (pruned chat blocks, closed screens) goes in that collection, at an idle moment;
- the young generation is collected every 5,000 allocations instead of 700, and full collections come ten times
  less often, as the benchmark's "new+GC" column measured.

Only the real app (``run_app``) and the benchmark turn this on: a test process that builds hundreds of apps keeps
Python's defaults.
"""

from __future__ import annotations

import gc
import time

THRESHOLDS = (5_000, 10, 20)
REFREEZE_EVERY = 10
SETTLE_DELAY = 1.0
"""Seconds of idleness after a turn before settling, so that it does not land on the answer's last frames."""


class HeapKeeper:
    """Counts settles; ``settle`` is the only thing that freezes or unfreezes."""

    def __init__(self, *, refreeze_every: int = REFREEZE_EVERY) -> None:
        self.refreeze_every = refreeze_every
        self.enabled = False
        self.settles = 0
        self.last_pause = 0.0  # seconds the last settle held the event loop

    def enable(self) -> None:
        self.enabled = True
        gc.set_threshold(*THRESHOLDS)

    def settle(self) -> None:
        """Collect now (the caller knows the app is idle) and freeze the survivors."""
        if not self.enabled:
            return
        start = time.perf_counter()
        self.settles += 1
        if self.settles % self.refreeze_every == 0:
            gc.unfreeze()  # what died since the last freezes is collected this time
        gc.collect()
        gc.freeze()
        self.last_pause = time.perf_counter() - start


KEEPER = HeapKeeper()
"""The process's one heap policy (garbage collection is process-wide)."""

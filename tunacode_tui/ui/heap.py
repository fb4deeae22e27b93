"""Garbage collection kept out of the user's way: collect at idle moments, and freeze what survives.

CPython's full collections scan every tracked object; with Textual's caches, the chat's widgets and the provider
SDKs that is over a million objects, and a full collection stopped the event loop for 130-220 ms (2 cores) in
the middle of a stream or a scroll, the p95 of both latency figures (``benchmarks/render.py``). So:

- after start-up everything is frozen (``gc.freeze()``, no collection, so no pause while the user starts typing);
- after every turn, once the app has been idle ``SETTLE_DELAY``, ``settle`` collects what is newer than the last
  freeze (the turn's garbage: a short pause) and freezes the survivors: the automatic collections that run while
  the user types or the model writes only scan what is newer than that;
- frozen objects are never collected, and chat blocks are frozen long before they are pruned, so once
  ``FULL_AFTER_PRUNED`` blocks have been pruned since the last full settle the freeze is lifted first and the
  collection is a full one (longer, still at an idle moment). Lifting it only every ten settles, whatever was
  pruned, let the 500-turn benchmark peak at 590 MB instead of 240 MB;
- the young generation is collected every 5,000 allocations instead of 700; older generations keep Python's
  counts (10, 10): with (10, 20) the 500-turn benchmark peaked at 406 MB instead of 350 MB, over its 400 MB
  target, for no gain in the latency figures.

Only the real app (``run_app``) and the benchmark turn this on: a test process that builds hundreds of apps keeps
Python's defaults.
"""

from __future__ import annotations

import gc
import time

THRESHOLDS = (5_000, 10, 10)
FULL_AFTER_PRUNED = 40
"""Chat blocks pruned (about eight turns) after which a settle lifts the freeze and collects in full."""
SETTLE_DELAY = 1.0
"""Seconds of idleness after a turn before settling, so that it does not land on the answer's last frames."""


class HeapKeeper:
    """Counts settles; ``settle`` is the only thing that freezes or unfreezes."""

    def __init__(self) -> None:
        self.enabled = False
        self.settles = 0
        self.full_settles = 0
        self.max_pause = 0.0  # the longest a settle held the event loop, seconds

    def enable(self) -> None:
        self.enabled = True
        gc.set_threshold(*THRESHOLDS)

    def freeze(self) -> None:
        """Start-up is done: take what exists out of the automatic collections, without collecting (no pause)."""
        if self.enabled:
            gc.freeze()

    def settle(self, *, full: bool = False) -> None:
        """Collect now (the caller knows the app is idle) and freeze the survivors; ``full`` lifts the freeze first,
        so that what died after being frozen is collected too."""
        if not self.enabled:
            return
        start = time.perf_counter()
        self.settles += 1
        if full:
            self.full_settles += 1
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.max_pause = max(self.max_pause, time.perf_counter() - start)


KEEPER = HeapKeeper()
"""The process's one heap policy (garbage collection is process-wide)."""

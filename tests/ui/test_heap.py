"""The heap policy (ui/heap.py): settling freezes what survives, and a later settle lifts the freeze so that what
died since is collected; off (the default, as in tests) it touches nothing."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tunacode_tui.ui.heap import HeapKeeper


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.collect()


def test_settle_freezes_survivors_and_a_later_settle_collects_what_died() -> None:
    keeper = HeapKeeper()
    keeper.enable()
    node = Node()
    alive = weakref.ref(node)
    keeper.settle()
    assert gc.get_freeze_count() > 0
    del node
    keeper.settle()  # frozen: the dead cycle stays
    assert alive() is not None
    keeper.settle(full=True)  # the freeze is lifted first, so the cycle goes
    assert alive() is None


def test_off_by_default_it_changes_nothing() -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    keeper = HeapKeeper()
    keeper.settle()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds

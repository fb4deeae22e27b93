"""update_file on a big file peaked at ~22x the file's size in RSS (858 MB for 39 MB; issue 12, low).
The measurement is benchmarks/edit_memory.py, run in a fresh process per case."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.edit_memory import measure

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self/clear_refs").exists(),
    reason="peak RSS is read from /proc (Linux)",
)


@pytest.mark.parametrize("with_checkpoint", [False, True], ids=["tool", "tool+checkpoint"])
def test_big_edit_peaks_under_three_times_the_file(with_checkpoint: bool) -> None:
    result = measure(24, with_checkpoint=with_checkpoint)
    assert result["ratio"] <= 3.0, f"peak {result['extra'] / 2**20:.0f} MB above baseline for a 24 MB file"

"""A kill -9 during a write leaves the old content or the new one, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WRITER = r"""
import sys
from pathlib import Path
from tunacode_tui.tools.fileio import atomic_write
path = Path(sys.argv[1])
big_a = b"A" * 4_000_000
big_b = b"B" * 4_000_000
print("ready", flush=True)
i = 0
while True:
    atomic_write(path, big_a if i % 2 else big_b)
    i += 1
"""


def test_kill_during_writes_never_leaves_a_mix(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"A" * 4_000_000)
    for round_ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.03 * round_)  # land the kill at different points of a write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        data = target.read_bytes()
        assert len(data) == 4_000_000
        assert data in (b"A" * 4_000_000, b"B" * 4_000_000)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "file.bin"]
    # Temp files of a killed writer may remain beside the target, but they never replace it.
    assert all(name.startswith(".") for name in leftovers), leftovers

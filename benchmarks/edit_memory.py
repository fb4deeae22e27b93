"""Peak memory of ``update_file`` on a big file, measured as resident set size above the baseline.

Run: python -m benchmarks.edit_memory [MiB ...]   (default: 39, the size the issue-12 probe used)
Target (issue 12): at most 3x the file's size. Each size runs in a fresh process: the baseline is the RSS
after imports and after writing the file (in chunks), the peak is VmHWM after the edit, reset just before
it through /proc/self/clear_refs (Linux only). Two kinds of edit: the tool alone, and the tool through
the agent's executor with its /undo checkpoint (which keeps the old bytes for the turn).
"""

from __future__ import annotations

import json
import subprocess
import sys

_CHILD = r"""
import asyncio, json, sys, tempfile
from pathlib import Path

from tunacode_tui.agent.checkpoints import Checkpoints
from tunacode_tui.tools.base import ToolContext
from tunacode_tui.tools.update_file import UpdateFileTool

size_mib, with_checkpoint = int(sys.argv[1]), sys.argv[2] == "1"
root = Path(tempfile.mkdtemp())
big = root / "big.py"
line = "value = compute(1, 2, 3)  # a typical line of code\n"
with big.open("w") as out:
    lines = size_mib * 1024 * 1024 // len(line)
    for _ in range(lines // 1000):
        out.write(line * 1000)
    out.write("TARGET = 1\n")

def status(field: str) -> int:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith(field + ":"):
            return int(row.split()[1]) * 1024
    raise KeyError(field)

async def edit() -> None:
    ctx = ToolContext(root=root)
    args = {"file_path": "big.py", "old_text": "TARGET = 1", "new_text": "TARGET = 2"}
    checkpoints = Checkpoints() if with_checkpoint else None
    touched = checkpoints.before_change("update_file", args, ctx) if checkpoints else None
    await UpdateFileTool().run(args, ctx)
    if checkpoints:
        checkpoints.after_change(touched)
    global kept
    kept = checkpoints

baseline = status("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
asyncio.run(edit())
peak = status("VmHWM")
assert big.read_text().endswith("TARGET = 2\n")
print(json.dumps({"size": big.stat().st_size, "baseline": baseline, "peak": peak}))
"""


def measure(size_mib: int, *, with_checkpoint: bool) -> dict[str, float]:
    """One fresh process; returns the file size, the peak above baseline, and their ratio."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(size_mib), "1" if with_checkpoint else "0"],
                          capture_output=True, text=True, check=True, timeout=300)
    data = json.loads(proc.stdout)
    extra = data["peak"] - data["baseline"]
    return {"size": data["size"], "extra": extra, "ratio": extra / data["size"]}


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [39]
    print(f"{'file':>8} {'edit':>22} {'peak above baseline':>20} {'x file size':>12}")
    for size in sizes:
        for with_checkpoint in (False, True):
            r = measure(size, with_checkpoint=with_checkpoint)
            kind = "tool + /undo checkpoint" if with_checkpoint else "update_file alone"
            print(f"{r['size'] / 2**20:>6.1f}MB {kind:>22} {r['extra'] / 2**20:>18.1f}MB {r['ratio']:>11.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])

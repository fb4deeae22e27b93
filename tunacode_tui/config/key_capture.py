"""Take the provider keys out of the process environment once they are read, so bash cannot read them.

Scrubbing the keys from bash's own environment is not enough: ``/proc/$PPID/environ`` shows the parent's
*initial* environment, the bytes the kernel placed on its stack at exec, and ``del os.environ[...]`` only
drops libc's pointer to them. So the keys are copied into the config (memory only, never saved), their
bytes in that initial block are overwritten, and only then are they unset.

The keys still live in this process's memory. On Linux the process is then marked not dumpable
(``PR_SET_DUMPABLE`` 0), so another process of the same (non-root) user, such as a bash command, can neither
read ``/proc/$PPID/mem`` nor attach a debugger to it. Root can.

What bash can still reach, by design (it runs as the user): files the user can read, including a config
file that holds keys, and the environment of other processes of the same user, such as the shell that
started tunacode if the key was exported there.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

from tunacode_tui.config.environment import CAPTURED
from tunacode_tui.config.settings import Config, is_secret_variable


def capture_keys(config: Config) -> list[str]:
    """Move every secret variable from ``os.environ`` into ``config.captured``; returns their names."""
    names = [name for name in os.environ if is_secret_variable(name)]
    for name in names:
        config.captured[name] = CAPTURED[name] = os.environ[name]
    _wipe_initial_environment(set(names))
    for name in names:
        del os.environ[name]
    if names:
        _forbid_memory_reads()
    return names


PR_SET_DUMPABLE = 4


def _forbid_memory_reads() -> None:
    """Keep same-user processes (a bash command) out of this process's memory, where the keys now are.
    Children are unaffected: exec makes them dumpable again."""
    if not sys.platform.startswith("linux"):
        return
    # No prctl in this C library: the environment is still wiped.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _wipe_initial_environment(names: set[str]) -> None:
    """Overwrite ``NAME=value`` values in libc's ``environ`` strings in place (best effort: only where a
    C library exposes ``environ``; /proc exists only on Linux anyway)."""
    if not names or sys.platform == "win32":
        return
    try:
        libc = ctypes.CDLL(None)
        environ = ctypes.POINTER(ctypes.c_void_p).in_dll(libc, "environ")
    except (OSError, ValueError, AttributeError):
        return
    index = 0
    while environ[index]:
        address = environ[index]
        entry = ctypes.string_at(address)
        name, sep, value = entry.partition(b"=")
        if sep and os.fsdecode(name) in names:
            ctypes.memset(address + len(name) + 1, 0, len(value))
        index += 1

"""Writing a small JSON file that only its owner may read, without ever leaving half of it on disk.

The config file, remembered permission rules and project MCP approvals all hold choices (and sometimes
keys) of one user: each is written to a temp file created 0600 beside it, synced, then renamed over it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def save_private_json(path: Path, data: Any) -> Path:
    """Atomically replace ``path`` with ``data`` as indented JSON, mode 0600; the folder is created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".json", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)  # mkstemp's mode, made explicit: a umask never widens it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path

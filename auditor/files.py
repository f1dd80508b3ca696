"""Atomic file writes: a reader sees the old file or the whole new one, never a half-written one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write through a synced temporary file in the same folder, then rename it into place."""
    # The temporary file must be on the same filesystem as the target for the rename to be atomic.
    # mkstemp creates it owner-only, and the file keeps that: reports list the weaknesses of an estate.
    path.parent.mkdir(parents=True, exist_ok=True)
    # A lone surrogate (possible in JSON from an API) cannot be UTF-8: write '?' rather than fail.
    data = content.encode("utf-8", "replace") if isinstance(content, str) else content
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    finally:
        # After a successful rename the temporary name is gone; after a failure it must not linger.
        temporary.unlink(missing_ok=True)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # Persist the rename itself; directories cannot be opened for fsync on Windows, where NTFS journals it.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

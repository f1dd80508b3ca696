"""A run's report folder, replaced whole or not at all: written in a hidden folder beside it, then swapped in.

Every file of a run goes into ``.<name>.staging-XXXX`` in the same parent (so the final rename stays on one
filesystem). When the run succeeds, the staging folder takes the report folder's name in one rename (on
Linux an atomic exchange, so the name never points at nothing) and the previous folder is removed only
then. When the run stops for any reason, an interrupt included, the staging folder is removed and the
previous folder is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path, PurePosixPath

from auditor.interrupts import deferred

STAGING_MARK = ".staging-"
PREVIOUS_MARK = ".previous-"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# Filesystems and kernels without the exchange flag say so with one of these; the two-rename swap serves them.
_NO_EXCHANGE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})


class StagingError(ValueError):
    """A report folder that cannot be staged or replaced, with the folder and the reason."""


@contextlib.contextmanager
def staged_folder(out: Path, owned: Collection[str]) -> Iterator[Path]:
    """A fresh hidden folder beside ``out`` that replaces it when the block ends without an exception.

    ``owned`` names the files a run writes at the top of the folder: an existing ``out`` holding anything
    else (apart from what its manifest lists) is refused, so a mistyped ``--out`` never deletes other work.
    """
    target = _target(out, owned)
    staging: Path | None = None
    try:
        with deferred():
            staging = _create_staging(out, target)
        yield staging
        with deferred():
            _swap(staging, target)
    except BaseException:
        if staging is not None:
            with deferred():
                _discard(staging)
        raise


def check_replaceable(out: Path, owned: Collection[str]) -> None:
    """Refuse, before any work, a report folder that ``staged_folder`` would refuse after it."""
    target = _target(out, owned)
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StagingError(f"{out}: cannot create a folder beside it for the reports: {ancestor} is not a folder")


def _target(out: Path, owned: Collection[str]) -> Path:
    """The folder to replace: ``out``, or the folder it links to; refused when it is not a report folder."""
    target = out.resolve()
    if target.exists() and not target.is_dir():
        raise StagingError(f"{out}: exists and is not a folder")
    if out.is_symlink() and not target.exists():
        raise StagingError(f"{out}: a symbolic link to {target}, which does not exist")
    if not target.name or Path.cwd().is_relative_to(target):
        raise StagingError(f"{out}: is the current folder or one above it; give a folder of its own for reports")
    if target.is_dir():
        foreign = next(_foreign_files(target, owned), None)
        if foreign is not None:
            raise StagingError(
                f"{out}: holds {foreign!r}, which no run of the auditor wrote; give a new or empty folder, "
                "or one a previous run wrote, so replacing it deletes nothing else"
            )
    return target


def _create_staging(out: Path, target: Path) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING_MARK}", dir=target.parent))
    except OSError as exc:
        raise StagingError(f"{out}: cannot create a folder beside it for the reports: {exc.strerror or exc}") from None


def _foreign_files(folder: Path, owned: Collection[str]) -> Iterator[str]:
    """Files below the folder that neither a run writes nor its manifest lists, lazily: the first one decides."""
    listed = _manifest_paths(folder)
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        relative = PurePosixPath(*path.relative_to(folder).parts).as_posix()
        if not (relative in owned or relative in listed or _stale_temporary(relative, owned)):
            yield relative


def _manifest_paths(folder: Path) -> frozenset[str]:
    """The paths the folder's manifest.json lists; none when there is no readable manifest."""
    try:
        document = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, list):
        return frozenset()
    return frozenset(e["path"] for e in files if isinstance(e, dict) and isinstance(e.get("path"), str))


def _stale_temporary(relative: str, owned: Collection[str]) -> bool:
    # A half-written ".report.html.abc123.tmp" left by an atomic write that was killed (SIGKILL, power loss).
    return any(relative.startswith(f".{name}.") and relative.endswith(".tmp") for name in owned)


def _swap(staging: Path, target: Path) -> None:
    """Put the staging folder in the target's place; the previous folder goes only once the new one is in."""
    _copy_mode(staging, target)
    if not target.exists():
        _rename(staging, target)
    elif _exchange(staging, target):
        # The staging name now holds the previous folder.
        _discard(staging)
    else:
        previous = target.with_name(f".{target.name}{PREVIOUS_MARK}{secrets.token_hex(4)}")
        _rename(target, previous)
        try:
            _rename(staging, target)
        except StagingError:
            previous.rename(target)
            raise
        _discard(previous)
    _sync_directory(target.parent)


def _copy_mode(staging: Path, target: Path) -> None:
    # mkdtemp makes the folder owner-only; the report folder keeps the mode it had, or gets the usual one.
    if target.is_dir():
        mode = stat.S_IMODE(target.stat().st_mode)
    else:
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o777 & ~umask
    staging.chmod(mode)


def _rename(source: Path, destination: Path) -> None:
    try:
        source.rename(destination)
    except OSError as exc:
        raise StagingError(f"{destination}: cannot put the new reports in place: {exc.strerror or exc}") from None


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with renameat2(RENAME_EXCHANGE); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28, or not glibc
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise StagingError(f"{second}: cannot put the new reports in place: {os.strerror(code)}")


def _discard(folder: Path) -> None:
    """Remove a staging or previous folder; one already gone is fine."""
    if folder.exists():
        shutil.rmtree(folder)


def _sync_directory(directory: Path) -> None:
    # Persist the renames themselves; directories cannot be opened for fsync on Windows.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

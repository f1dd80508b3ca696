"""Checks of command-line values made before anything is collected: output targets, URLs, ids and numbers.

Each check returns the value in canonical form or raises UsageError with one line that names the option,
the value and the form expected, so a run that would fail while writing fails before it starts.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from auditor.input_files import MAX_SMALL_FILE_BYTES, InputFileError, read_bytes


class UsageError(Exception):
    """A problem with the command line or its inputs, reported in one line with exit code 2."""


# The longest name the writers add beside a target: ".NAME.XXXXXXXX.tmp" for an atomic write, and room for a
# staging folder named after the report folder.
_TEMPORARY_NAME_ROOM = 16
_STAGING_NAME_ROOM = 40
_DEFAULT_NAME_MAX = 255
_DEFAULT_PATH_MAX = 4096
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Azure resource group names: 1-90 letters, digits, underscores, hyphens, periods and parentheses, and not
# ending in a period.
_RESOURCE_GROUP = re.compile(r"^[-\w.()]{0,89}[-\w()]$")


def output_folder(path: Path, option: str, file_names: Iterable[str]) -> Path:
    """A folder the run can create or write into, with no folder where one of ``file_names`` goes."""
    where = f"{option} {path}"
    names = list(file_names)
    _check_lengths(path, where, room=_STAGING_NAME_ROOM, inner=max((len(n) for n in names), default=0))
    kind = _kind(path)
    if kind == "dangling":
        raise UsageError(f"{where}: a symbolic link to nothing; expected a folder to write the reports into")
    if kind == "missing":
        _check_creatable(path, where, "folder")
        return path
    if kind != "folder":
        raise UsageError(f"{where}: {_described(kind)}, expected a folder to write the reports into")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the folder is not writable")
    for name in names:
        inner = _kind(path / name)
        if inner not in {"missing", "file"}:
            raise UsageError(f"{where}: {path / name} is {_described(inner)} where the report file {name} goes")
    return path


def output_file(path: Path, option: str) -> Path:
    """A file path the run can create or replace: not a folder, device or dangling link, in a writable folder."""
    where = f"{option} {path}"
    _check_lengths(path, where, room=_TEMPORARY_NAME_ROOM, inner=0)
    kind = _kind(path)
    if kind == "dangling":
        raise UsageError(f"{where}: a symbolic link to nothing; expected a file path")
    if kind not in {"missing", "file"}:
        raise UsageError(f"{where}: {_described(kind)}, expected a file path")
    parent = path.parent
    if _kind(parent) == "missing":
        _check_creatable(parent, where, "file's folder")
    elif _kind(parent) != "folder":
        raise UsageError(f"{where}: {parent} is not a folder")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the folder {parent} is not writable")
    return path


def ca_bundle(path: Path, option: str = "--ca-bundle") -> Path:
    """A PEM file holding at least one X.509 certificate."""
    from cryptography import x509  # noqa: PLC0415 - keeps `--help` fast

    try:
        data = read_bytes(path, option, limit=MAX_SMALL_FILE_BYTES)
    except InputFileError as exc:
        raise UsageError(str(exc)) from None
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        raise UsageError(f"{option} {path}: not a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)") from None
    return path


def https_url(text: str, option: str) -> str:
    """An https:// URL with a host and nothing but an optional path."""
    expected = "expected an https:// URL such as https://management.azure.com"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UsageError(f"{option} {text!r}: {expected}") from None
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"{option} {text!r}: {expected}")
    if parts.username or parts.password or parts.query or parts.fragment or (port is not None and port < 1):
        raise UsageError(f"{option} {text!r}: {expected}, without credentials, query or fragment")
    return text.rstrip("/")


def subscription_id(text: str, option: str = "--subscription") -> str:
    """A subscription id: a GUID."""
    if not _GUID.match(text.strip()):
        raise UsageError(
            f"{option} {text!r}: expected a subscription id, a GUID such as 00000000-0000-0000-0000-000000000000"
        )
    return text.strip().lower()


def resource_group(text: str, option: str = "--resource-group") -> str:
    """A resource group name as Azure allows it."""
    if not _RESOURCE_GROUP.match(text):
        raise UsageError(
            f"{option} {text!r}: expected a resource group name (1-90 letters, digits, '_', '-', '.', '(', ')', "
            "not ending in '.')"
        )
    return text


def bounded_int(value: int, option: str, low: int, high: int) -> int:
    """An integer within [low, high]."""
    if not low <= value <= high:
        raise UsageError(f"{option} {value}: expected a whole number from {low} to {high}")
    return value


def _kind(path: Path) -> str:
    """missing, dangling, folder, file or the kind of special file a path is (following symlinks)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "dangling" if path.is_symlink() else "missing"
    except NotADirectoryError:
        return "under-a-file"
    except OSError:
        return "unreadable"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special"


def _described(kind: str) -> str:
    return {
        "folder": "a folder",
        "file": "an existing file",
        "device": "a device",
        "special": "a socket or pipe",
        "under-a-file": "a path below a file",
        "unreadable": "a path that cannot be inspected",
        "dangling": "a symbolic link to nothing",
    }.get(kind, kind)


def _check_creatable(path: Path, where: str, what: str) -> None:
    """The nearest existing ancestor must be a writable folder, so the missing folders can be made."""
    ancestor = path
    while _kind(ancestor) in {"missing", "dangling"} and ancestor != ancestor.parent:
        if _kind(ancestor) == "dangling":
            raise UsageError(f"{where}: {ancestor} is a symbolic link to nothing")
        ancestor = ancestor.parent
    kind = _kind(ancestor)
    if kind != "folder":
        raise UsageError(f"{where}: the {what} cannot be created: {ancestor} is {_described(kind)}, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the {what} cannot be created: {ancestor} is not writable")


def _check_lengths(path: Path, where: str, *, room: int, inner: int) -> None:
    """Every name in the path, and the path with the longest file name added, within the filesystem's limits."""
    name_max, path_max = _limits(path)
    parts = path.parts
    for index, part in enumerate(parts):
        size = len(os.fsencode(part))
        # Only the last name gets company: temporary files, or the staging folder beside the report folder.
        if size + (room if index == len(parts) - 1 else 0) > name_max:
            raise UsageError(
                f"{where}: a name in the path is {size} bytes; the filesystem allows {name_max}, less {room} "
                "for the names written beside the last one"
            )
    total = len(os.fsencode(str(path.absolute()))) + inner + _TEMPORARY_NAME_ROOM + 2
    if total > path_max:
        raise UsageError(f"{where}: the path is too long for the files written into it (limit {path_max} bytes)")


def _limits(path: Path) -> tuple[int, int]:
    existing = path.absolute()
    while not existing.is_dir() and existing != existing.parent:
        existing = existing.parent
    try:
        return os.pathconf(existing, "PC_NAME_MAX"), os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        return _DEFAULT_NAME_MAX, _DEFAULT_PATH_MAX

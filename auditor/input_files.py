"""Reading every input file within bounds: size, encoding, nesting depth and integer length, in one place.

Baselines, estates, snapshots, attestations, waivers, findings, manifests, keys and run configurations all
come through here, so a hostile or broken file is refused with one clear line instead of a traceback, a
RecursionError deep in a parser, or an integer that takes minutes to convert.
"""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path
from typing import Any

# Large enough for a snapshot of a big tenant, small enough that a mistaken path (a disk image) is refused.
MAX_FILE_BYTES = 512 * 1024 * 1024
# Keys, CA bundles and configuration files are small; anything bigger is not what the option expects.
MAX_SMALL_FILE_BYTES = 4 * 1024 * 1024
# Real inputs nest a dozen levels; 64 leaves room and stays far from the interpreter's recursion limit.
MAX_DEPTH = 64
# Python refuses to convert longer decimal strings by default; say so in our words, before it does.
MAX_INT_DIGITS = 4300


class InputFileError(ValueError):
    """An input file that cannot be read within bounds; the message names the file and the reason."""


def read_bytes(path: Path, what: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file no larger than ``limit``."""
    where = _where(what, path)
    try:
        info = path.stat()
    except OSError as exc:
        raise InputFileError(f"{where}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(f"{where}: is a folder, expected a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(f"{where}: not a regular file (a device, socket or pipe), expected a file")
    if info.st_size > limit:
        raise InputFileError(f"{where}: {info.st_size} bytes, larger than the {limit} bytes this input may have")
    try:
        with path.open("rb") as handle:
            # Read one byte past the limit: a file that grew after stat() is still caught.
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputFileError(f"{where}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputFileError(f"{where}: larger than the {limit} bytes this input may have")
    return data


def read_text(path: Path, what: str, *, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a file (a byte-order mark is allowed and dropped)."""
    return decode_utf8(read_bytes(path, what, limit=limit), _where(what, path))


def decode_utf8(data: bytes, where: str) -> str:
    """Bytes as UTF-8 text (a byte-order mark is allowed and dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{where}: not UTF-8 text (byte {exc.start})") from None


def parse_json(text: str, where: str) -> Any:
    """A JSON document within the depth and integer bounds; InputFileError naming ``where`` otherwise."""
    try:
        document = json.loads(text, parse_int=_bounded_int(where), parse_constant=_reject_constant(where))
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputFileError(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    check_depth(document, where)
    return document


def read_json(path: Path, what: str, *, limit: int = MAX_FILE_BYTES) -> Any:
    """A JSON file, read and parsed within bounds."""
    return parse_json(read_text(path, what, limit=limit), _where(what, path))


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """A TOML document within the depth and integer bounds."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message already carries "(at line L, column C)".
        raise InputFileError(f"{where}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise InputFileError(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        # tomllib converts integers with int(), which refuses more than MAX_INT_DIGITS digits.
        raise InputFileError(f"{where}: a value is out of range: {exc}") from None
    check_depth(document, where)
    return document


def read_toml(path: Path, what: str, *, limit: int = MAX_FILE_BYTES) -> dict[str, Any]:
    """A TOML file, read and parsed within bounds."""
    return parse_toml(read_text(path, what, limit=limit), _where(what, path))


def check_depth(document: Any, where: str) -> None:
    """Refuse a decoded document nested deeper than MAX_DEPTH (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise InputFileError(f"{where}: nested deeper than {MAX_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _bounded_int(where: str) -> Any:
    def parse(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise InputFileError(f"{where}: an integer has more than {MAX_INT_DIGITS} digits")
        return int(digits)

    return parse


def _reject_constant(where: str) -> Any:
    def parse(name: str) -> Any:
        # NaN and Infinity are not JSON, and compare unequal to themselves in any check.
        raise InputFileError(f"{where}: {name} is not a JSON number")

    return parse


def _where(what: str, path: Path) -> str:
    """How a message names the file: the kind of input and its path, or the path alone."""
    return f"{what} {path}" if what else str(path)

"""Save an inventory as JSON and load it back, so a scan can be evaluated offline later.

The codec is driven by the records' own type hints: adding a record type needs no change here.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from auditor.files import write_atomically
from auditor.input_files import InputFileError, read_json
from auditor.inventory import Inventory
from auditor.records.tags import Tags

FORMAT = "auditor-inventory"
# 2: records carry the fields they could not read (unreadable), SQL VMs their Automated Backup settings, PIM
# eligibilities and group members; key vault diagnostic settings are no longer collected.
VERSION = 2


class SnapshotError(ValueError):
    """A snapshot file is unreadable or does not hold an inventory."""


def encode(value: Any) -> Any:
    """Plain JSON data for a record, tuple, enum or primitive."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict | Tags):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(kind: Any, data: Any, where: str) -> Any:
    """Rebuild a value of the given type from JSON data, naming the place of any mismatch."""
    origin = typing.get_origin(kind)
    if kind is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        real = [o for o in options if o is not type(None)]
        return decode(real[0], data, where)
    if origin is tuple:
        if not isinstance(data, list):
            raise SnapshotError(f"{where}: expected a list")
        items = typing.get_args(kind)
        if len(items) == 2 and items[1] is Ellipsis:  # tuple[X, ...]: any length
            return tuple(decode(items[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(data) != len(items):  # tuple[X, Y]: exactly that many
            raise SnapshotError(f"{where}: expected a list of {len(items)} items, got {len(data)}")
        return tuple(decode(item, v, f"{where}[{i}]") for i, (item, v) in enumerate(zip(items, data, strict=True)))
    if origin is dict or kind is dict:
        if not isinstance(data, dict):
            raise SnapshotError(f"{where}: expected an object")
        return dict(data)
    if kind is Tags:
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SnapshotError(f"{where}: expected an object of string tag values")
        return Tags(data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _decode_record(kind, data, where)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(data)
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in kind)
            raise SnapshotError(f"{where}: {data!r} is not one of {allowed}") from None
    if kind in (str, int, float, bool):
        if kind is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
            raise SnapshotError(f"{where}: expected {kind.__name__}, got {type(data).__name__}")
        return data
    raise SnapshotError(f"{where}: unsupported type {kind!r}")


def _decode_record(kind: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SnapshotError(f"{where}: expected an object for {kind.__name__}")
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SnapshotError(f"{where}: unknown key {unknown[0]!r} for {kind.__name__}")
    values = {}
    for name, spec in fields.items():
        if name in data:
            values[name] = decode(hints[name], data[name], f"{where}.{name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise SnapshotError(f"{where}: missing key {name!r} for {kind.__name__}")
    return kind(**values)


def inventory_to_json(inventory: Inventory) -> str:
    """The snapshot document for an inventory."""
    document = {"format": FORMAT, "version": VERSION, "inventory": encode(inventory)}
    return json.dumps(document, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def save_snapshot(inventory: Inventory, path: Path) -> None:
    """Write the snapshot atomically."""
    write_atomically(path, inventory_to_json(inventory))


def load_snapshot(path: Path) -> Inventory:
    """Read a snapshot written by ``save_snapshot``."""
    where = f"snapshot {path}"
    try:
        document = read_json(path, "snapshot")
    except InputFileError as exc:
        raise SnapshotError(str(exc)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f'{where}: not an inventory snapshot (expected "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise SnapshotError(f"{where}: snapshot version {document.get('version')!r}, this tool reads {VERSION}")
    inventory = decode(Inventory, document.get("inventory"), f"{where}: inventory")
    assert isinstance(inventory, Inventory)
    for name in ("started_at", "finished_at", "as_of"):
        _check_timestamp(getattr(inventory, name), f"{where}: inventory.{name}", optional=name == "as_of")
    return inventory


def _check_timestamp(value: str, where: str, *, optional: bool) -> None:
    """Ages and expiries are judged against these times, so each must be an ISO 8601 timestamp."""
    if optional and not value:
        return
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SnapshotError(f"{where}: {value!r} is not an ISO 8601 timestamp such as 2026-12-04T01:00:00Z") from None

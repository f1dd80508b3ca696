"""Reading the TOML files people write about findings (attestations and waivers), with exact errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from auditor.input_files import MAX_SMALL_FILE_BYTES, InputFileError, read_toml


class EntryFileError(ValueError):
    """A waiver or attestation file is unreadable or an entry in it is invalid."""


def load_entries(path: Path, table: str, kind: str) -> list[dict[str, Any]]:
    """The ``[[table]]`` entries of a TOML file; the only top-level key allowed is that table."""
    where = f"{kind} file {path}"
    try:
        data = read_toml(path, f"{kind} file", limit=MAX_SMALL_FILE_BYTES)
    except InputFileError as exc:
        raise EntryFileError(str(exc)) from None
    unknown = sorted(set(data) - {table})
    if unknown:
        raise EntryFileError(f"{where}: unknown top-level key {unknown[0]!r} (expected [[{table}]] entries)")
    entries = data.get(table, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise EntryFileError(f"{where}: {table!r} must be an array of tables ([[{table}]])")
    return entries


class EntryReader:
    """Typed access to one entry's fields, raising errors that name file, entry and field."""

    def __init__(self, path: Path, kind: str, index: int, entry: dict[str, Any], allowed: set[str]) -> None:
        self.entry = entry
        self.where = f"{kind} file {path}: entry {index + 1}"
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise self.error(unknown[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def error(self, field: str, message: str) -> EntryFileError:
        """An error about one field of this entry."""
        return EntryFileError(f"{self.where}: field {field!r}: {message}")

    def text(self, field: str, *, required: bool = True, default: str = "") -> str:
        """A non-empty string field."""
        value = self.entry.get(field)
        if value is None and not required:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                field, "required, a non-empty string" if value is None else f"expected a string, got {value!r}"
            )
        return value.strip()

    def day(self, field: str) -> date:
        """A date field: a TOML date (2027-01-31) or an ISO date string."""
        value = self.entry.get(field)
        if value is None:
            raise self.error(field, "required, a date such as 2027-01-31")
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(field, f"expected a date such as 2027-01-31, got {value!r}")

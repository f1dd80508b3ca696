"""Where the history lives: a SQLite file path or a PostgreSQL URL, from --history or AUDITOR_HISTORY."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

HISTORY_ENV = "AUDITOR_HISTORY"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


class HistoryLocationError(ValueError):
    """A --history value that names neither a SQLite file nor a PostgreSQL URL."""


def history_location(option: str | None) -> str | None:
    """The --history value, else AUDITOR_HISTORY, else None (no history)."""
    value = option if option else os.environ.get(HISTORY_ENV, "")
    return value.strip() or None


def database_url(location: str) -> URL:
    """The SQLAlchemy URL of a history location: PostgreSQL through psycopg 3, anything else a SQLite file."""
    # SQLAlchemy loads only when a run keeps a history, so other runs and --help do not pay for it.
    from sqlalchemy.engine import URL, make_url  # noqa: PLC0415
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    if location.startswith(_POSTGRES_SCHEMES):
        try:
            url = make_url(location)
        except ArgumentError as exc:
            raise HistoryLocationError(f"--history: not a PostgreSQL URL: {exc}") from None
        return url.set(drivername="postgresql+psycopg")
    if "://" in location:
        scheme = location.split("://", 1)[0]
        raise HistoryLocationError(f"--history: unsupported scheme {scheme!r} (a file path or postgresql://...)")
    path = Path(location).expanduser()
    if path.is_dir():
        raise HistoryLocationError(f"--history {location}: is a folder; give a file, e.g. {path / 'history.db'}")
    if not path.parent.is_dir():
        raise HistoryLocationError(f"--history {location}: folder {path.parent} does not exist")
    return URL.create("sqlite", database=str(path.resolve()))


def displayed(url: URL) -> str:
    """The location as reports and logs may show it: never a password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.set(drivername="postgresql").render_as_string(hide_password=True)

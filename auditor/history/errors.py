"""The error of the history store, apart from the store so the command line can name it without loading it."""

from __future__ import annotations


class HistoryError(Exception):
    """The history store cannot be opened, upgraded, read or written; the message says which and why."""

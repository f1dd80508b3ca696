"""The history and notification options of a run: plain values, cheap to import before any store is opened."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from auditor.history.location import history_location
from auditor.model import Severity

__all__ = ["HistoryOptions", "options_from"]


@dataclass(frozen=True)
class HistoryOptions:
    """The history and notification options of a run, as the command line gave them."""

    history: str | None = None
    notify: tuple[str, ...] = ()
    notify_digest: bool = False
    notify_required: bool = False
    fail_on_overdue: Severity | None = None

    @property
    def location(self) -> str | None:
        """The store: --history, else $AUDITOR_HISTORY, else none."""
        return history_location(self.history)


def options_from(args: argparse.Namespace) -> HistoryOptions:
    """The history options of parsed arguments; the one place this module reads argparse's namespace for a run."""
    return HistoryOptions(
        history=args.history,
        notify=tuple(args.notify),
        notify_digest=args.notify_digest,
        notify_required=args.notify_required,
        fail_on_overdue=args.fail_on_overdue,
    )

"""The history and notification options of a run: plain values, cheap to import before any store is opened."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from typing import Literal

from auditor.history.location import history_location
from auditor.model import Severity

__all__ = ["HistoryCommandOptions", "HistoryOptions", "command_options_from", "options_from"]


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


@dataclass(frozen=True)
class HistoryCommandOptions:
    """``auditor history VERB``: which store, which verb, and the verb's own options."""

    verb: Literal["list", "show", "trend", "export"]
    history: str | None = None
    # show: the scan id.
    scan: int = 0
    # trend: one control, from one day on, one scope (default: the newest scan's), as JSON.
    control: str | None = None
    since: date | None = None
    scope: str | None = None
    json: bool = False
    # export: csv or json.
    format: Literal["csv", "json"] = "json"

    @property
    def location(self) -> str | None:
        """The store: --history, else $AUDITOR_HISTORY, else none."""
        return history_location(self.history)


def command_options_from(args: argparse.Namespace) -> HistoryCommandOptions:
    """The typed options of parsed ``auditor history`` arguments (argparse held each verb to its choices)."""
    verb = args.verb
    common = {"history": args.history}
    if verb == "list":
        return HistoryCommandOptions("list", **common)
    if verb == "show":
        return HistoryCommandOptions("show", scan=args.scan, **common)
    if verb == "trend":
        return HistoryCommandOptions(
            "trend", control=args.control, since=args.since, scope=args.scope, json=args.json, **common
        )
    return HistoryCommandOptions("export", format="csv" if args.format == "csv" else "json", **common)

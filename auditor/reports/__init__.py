"""Reporters: each renders a ScanResult into one file of one format; ``write_reports`` writes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from auditor.drift import Changes
from auditor.files import write_atomically
from auditor.reports import csv, html, json, junit, markdown, sarif
from auditor.results import ScanResult

__all__ = ["REPORTERS", "Reporter", "reporter", "write_reports"]


class Reporter(Protocol):
    """What every reporter module provides: a format name, the file it writes and a pure render function."""

    FORMAT: str
    FILENAME: str

    def render(self, result: ScanResult, changes: Changes | None = None) -> str:
        """The report for the result, as text, with its changes since a previous scan where the format shows them."""
        ...


# Listed explicitly so that importing the package registers nothing behind the reader's back.
REPORTERS: Mapping[str, Reporter] = {
    json.FORMAT: json,
    html.FORMAT: html,
    sarif.FORMAT: sarif,
    junit.FORMAT: junit,
    csv.FORMAT: csv,
    markdown.FORMAT: markdown,
}


def reporter(name: str) -> Reporter:
    """The reporter for a format name; ValueError naming the known formats if there is none."""
    try:
        return REPORTERS[name]
    except KeyError:
        known = ", ".join(sorted(REPORTERS))
        raise ValueError(f"unknown report format {name!r}; known formats: {known}") from None


def write_reports(
    result: ScanResult, out_dir: Path, formats: Sequence[str], changes: Changes | None = None
) -> list[Path]:
    """Render each format and write it atomically into out_dir; returns the paths written, in order.

    ``changes`` is the drift since a previous scan (--compare), computed from the two results by the caller.
    """
    # Resolve and render everything before writing anything, so a bad format name or a failing
    # renderer leaves the previous set of reports untouched rather than half replaced.
    chosen = [reporter(name) for name in dict.fromkeys(formats)]
    rendered: list[tuple[Path, str]] = []
    for chosen_reporter in chosen:
        rendered.append((out_dir / chosen_reporter.FILENAME, chosen_reporter.render(result, changes)))
        # A reporter may write files beside its main one, e.g. the CSV's one file per framework.
        companions: Callable[[ScanResult], list[tuple[str, str]]] | None = getattr(chosen_reporter, "companions", None)
        if companions is not None:
            rendered.extend((out_dir / name, text) for name, text in companions(result))
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in rendered:
        write_atomically(path, text)
    return [path for path, _ in rendered]

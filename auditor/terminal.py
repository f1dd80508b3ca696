"""What the command shows people: collection progress on a terminal, the closing summary, drift and verification.

Progress is drawn on stderr, in place, only when stderr is a terminal. Everything else is plain lines on
stdout, coloured only when stdout is a terminal and NO_COLOR is unset. Every string that comes from Azure
or from a file passes through ``printable`` first, so a resource name cannot move the cursor or rewrite
the screen.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from auditor.model import Status
from auditor.reports.display import visible_bidi

if TYPE_CHECKING:
    from auditor.collect.scan import ProgressEvent
    from auditor.drift import Changes, FindingState
    from auditor.manifest import Verification
    from auditor.results import ScanResult

RESET = "\x1b[0m"
CLEAR_LINE = "\r\x1b[K"
STATUS_COLORS = {
    Status.FAIL.value: "\x1b[31m",
    Status.ERROR.value: "\x1b[35m",
    Status.MANUAL.value: "\x1b[33m",
    Status.PASS.value: "\x1b[32m",
    Status.ATTESTED.value: "\x1b[36m",
    Status.WAIVED.value: "\x1b[36m",
    Status.NOT_APPLICABLE.value: "\x1b[2m",
}
# Bidirectional overrides and other format characters can make a name read as something it is not.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def printable(text: str) -> str:
    """The text with bidi controls shown as ``<U+XXXX>`` and every other control or format character as '?'."""
    # The same neutralising every human-facing report applies, so a name reads alike in each of them.
    shown = visible_bidi(text)
    return "".join("?" if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in shown)


def is_terminal(stream: TextIO) -> bool:
    """True when the stream is an interactive terminal that understands cursor control."""
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream is not a terminal
        return False
    return interactive and os.environ.get("TERM", "") != "dumb"


def wants_color(stream: TextIO) -> bool:
    """True when the stream is a terminal and the user has not asked for no colour (NO_COLOR)."""
    return is_terminal(stream) and not os.environ.get("NO_COLOR")


@dataclass(frozen=True)
class Symbols:
    """Marks for a service: done, running, failed."""

    done: str
    running: str
    failed: str
    ellipsis: str


UNICODE_SYMBOLS = Symbols("✓", "…", "✗", "…")
ASCII_SYMBOLS = Symbols("ok", "..", "FAILED", "...")


def symbols_for(stream: TextIO) -> Symbols:
    """Unicode marks when the stream's encoding can write them, ASCII otherwise."""
    encoding = getattr(stream, "encoding", None)
    if encoding is None:  # an in-memory text stream holds any character
        return UNICODE_SYMBOLS
    try:
        "✓…✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_SYMBOLS
    return UNICODE_SYMBOLS


def service_of(api: str) -> str:
    """Short service name of an API: 'Microsoft.Network/networkSecurityGroups' -> 'network'."""
    if ":" in api.split("/", 1)[0]:
        return api.split(":", 1)[0].lower()
    return api.split("/", 1)[0].removeprefix("Microsoft.").lower()


class CollectionProgress:
    """Draws one status line, updated in place, from the collector's progress events; safe from any thread."""

    def __init__(
        self,
        stream: TextIO,
        *,
        width: int | None = None,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.width = width
        self.interval = interval
        self.clock = clock
        self.symbols = symbols_for(stream)
        self.lock = threading.Lock()
        self.subscriptions = 0
        self.finished_subscriptions: set[str] = set()
        self.expected: Counter[str] = Counter()
        self.completed: Counter[str] = Counter()
        self.failed: set[str] = set()
        self.drawn_at: float | None = None
        self.visible = False

    def __call__(self, event: ProgressEvent) -> None:
        """Take one event and redraw, at most once per interval so a fast scan is not slowed by drawing."""
        with self.lock:
            self._take(event)
            moment = self.clock()
            if self.drawn_at is None or moment - self.drawn_at >= self.interval or event.kind == "plan":
                self.drawn_at = moment
                self._draw()

    def _take(self, event: ProgressEvent) -> None:
        if event.kind == "plan":
            self.subscriptions = len(event.subscriptions)
            for api, count in event.expected.items():
                self.expected[service_of(api)] += count
        elif event.kind == "subscription":
            self.finished_subscriptions.add(event.subscription_id)
        else:
            service = service_of(event.api)
            self.completed[service] += 1
            if not event.ok:
                self.failed.add(service)

    def line(self, width: int | None = None) -> str:
        """The status line as it stands, without cursor control; done services folded in when it is too wide."""
        done, total = sum(self.completed.values()), sum(self.expected.values())
        head = f"[{len(self.finished_subscriptions)}/{self.subscriptions} subscriptions] {done}/{total}"
        marks = {service: self._mark(service) for service in self.expected}
        text = " ".join([head, *(f"{service} {mark}" for service, mark in marks.items())])
        if width is not None and len(text) > width:
            finished = sum(mark == self.symbols.done for mark in marks.values())
            rest = [f"{service} {mark}" for service, mark in marks.items() if mark != self.symbols.done]
            text = " ".join([head, f"{finished} {self.symbols.done}", *rest])
        return printable(text)

    def _mark(self, service: str) -> str:
        if service in self.failed:
            return self.symbols.failed
        if self.completed[service] >= self.expected[service]:
            return self.symbols.done
        return self.symbols.running

    def _draw(self) -> None:
        # One column short of the width: writing into the last column wraps on some terminals, and a
        # wrapped line can no longer be redrawn in place.
        width = (self.width or shutil.get_terminal_size().columns) - 1
        text = self.line(width)
        if len(text) > width:
            text = text[: max(0, width - len(self.symbols.ellipsis))] + self.symbols.ellipsis
        self.stream.write(CLEAR_LINE + text)
        self.stream.flush()
        self.visible = True

    def close(self) -> None:
        """Erase the status line so what is printed next starts on a clean line."""
        with self.lock:
            if self.visible:
                self.stream.write(CLEAR_LINE)
                self.stream.flush()
                self.visible = False


@contextmanager
def collection_progress(
    stream: TextIO, *, quiet: bool, terminal: bool | None = None
) -> Iterator[CollectionProgress | None]:
    """A progress display for the duration of a collection, or None when quiet or not on a terminal."""
    if quiet or not (is_terminal(stream) if terminal is None else terminal):
        yield None
        return
    progress = CollectionProgress(stream)
    try:
        yield progress
    finally:
        progress.close()


def paint(text: str, status: str, color: bool) -> str:
    """The text in the colour of a status, when colour is on."""
    code = STATUS_COLORS.get(status)
    return f"{code}{text}{RESET}" if color and code else text


def summary_lines(
    result: ScanResult,
    written: Sequence[Path],
    *,
    gate: tuple[str, int] | None = None,
    changes: Changes | None = None,
    color: bool = False,
) -> list[str]:
    """The closing summary: controls and findings by status, the gate, the ``changes`` since a previous scan,
    and the files written."""
    controls = Counter(c.status.value for c in result.controls)
    findings = Counter(f.status.value for f in result.findings)
    rows = [(status.value.replace("_", " "), str(controls[status]), str(findings[status])) for status in Status]
    rows.append(("total", str(len(result.controls)), str(len(result.findings))))
    lines = table(("status", "controls", "findings"), rows, right=(1, 2))
    statuses = [status.value for status in Status]
    for index, status in enumerate(statuses, start=1):
        if controls[status] or findings[status]:
            lines[index] = paint(lines[index], status, color)
    failed_scopes = [c for c in result.collections if not c.ok]
    if failed_scopes:
        lines.append(f"{len(failed_scopes)} listing(s) could not be collected; their controls report error")
    if gate is not None:
        label, count = gate
        lines.append(f"gated: {count} finding(s) {label}")
    if changes is not None:
        lines.append(f"since {drift_counts(changes)}")
    lines.extend(f"wrote {printable(str(path))}" for path in written)
    return lines


def drift_counts(changes: Changes) -> str:
    """'the scan of <path> (finished <time>): N new, N resolved, N changed, N unchanged'."""
    counts = ", ".join(f"{n} {kind}" for kind, n in changes.counts().items())
    previous = printable(f"the scan of {changes.previous_path} (finished {changes.previous_finished_at})")
    return f"{previous}: {counts}"


def drift_lines(changes: Changes, current: str, *, color: bool = False) -> list[str]:
    """``auditor diff`` for people: the two scans, the counts, and a table per kind of change."""
    lines = [
        printable(f"previous: {changes.previous_path} (finished {changes.previous_finished_at})"),
        printable(f"current:  {current}"),
        ", ".join(f"{n} {kind}" for kind, n in changes.counts().items()),
    ]
    header = ("severity", "status", "control", "resource", "finding")
    for title, states in (("new", changes.new), ("resolved", changes.resolved)):
        if states:
            lines += ["", f"{title} ({len(states)})"]
            lines += _indented(table(header, [_state_row(s) for s in states]))
    if changes.changed:
        lines += ["", f"changed ({len(changes.changed)})"]
        rows = [
            (
                _move(c.before.severity.value, c.after.severity.value),
                _move(c.before.status.value, c.after.status.value),
                printable(c.after.control_id),
                printable(c.after.resource_name or "(control)"),
                c.id,
            )
            for c in changes.changed
        ]
        lines += _indented(table(header, rows))
    if color:
        lines = [_paint_statuses(line) for line in lines]
    return lines


def verification_lines(verification: Verification) -> tuple[list[str], list[str]]:
    """What ``auditor verify`` prints: (lines for stdout, problems for stderr)."""
    folder = printable(verification.folder)
    problems = [f"auditor: verify: {printable(p)}" for p in verification.problems]
    if not verification.ok:
        return [], [*problems, f"auditor: verify: {folder} does NOT match its manifest"]
    signature = {
        "valid": "signature valid",
        "unchecked": "signature present but not checked (give --public-key)",
        "unsigned": "not signed",
    }.get(verification.signature, verification.signature)
    return [f"verified {verification.matched} file(s) in {folder} against manifest.json; {signature}"], []


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> list[str]:
    """Rows under a header in columns padded to the widest cell; columns named in right are right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(padded).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _state_row(state: FindingState) -> tuple[str, str, str, str, str]:
    return (
        state.severity.value,
        state.status.value,
        printable(state.control_id),
        printable(state.resource_name or "(control)"),
        state.id,
    )


def _move(before: str, after: str) -> str:
    return after if before == after else f"{before} -> {after}"


def _indented(lines: list[str]) -> list[str]:
    return [f"  {line}" for line in lines]


def _paint_statuses(line: str) -> str:
    # Colour only whole words that are statuses; the line's other cells were made printable already.
    words = line.split(" ")
    return " ".join(paint(word, word, True) if word in STATUS_COLORS else word for word in words)

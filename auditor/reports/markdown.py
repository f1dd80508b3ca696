"""summary.md: counts, controls and the worst findings as Markdown, for a CI job summary or a PR comment."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

from auditor.drift import Changes
from auditor.history.marks import with_age_notes
from auditor.inventory import Collection
from auditor.model import GATING_STATUSES, Finding, Status
from auditor.reports.display import report_file, truncated, visible_bidi
from auditor.reports.frameworks import FrameworkView, Requirement, views
from auditor.reports.outline import controls_by_status, display_name, failed_collections, sorted_findings
from auditor.results import ScanResult

FORMAT = "markdown"
FILENAME = "summary.md"
TEMPLATE = "summary.md.j2"
# A pull-request comment or job summary holds at most 65,536 characters; these caps keep the summary well
# inside that whatever the estate holds: each value is bounded, each list is capped, and a summary still too
# long is rendered again with fewer findings.
MAX_SUMMARY = 60_000
MAX_FINDINGS = 50
MAX_MESSAGE = 300
MAX_VALUE = 1_000
MAX_LISTINGS = 10
MAX_WARNINGS = 10
MAX_REQUIREMENTS = 15

BADGES = {
    Status.FAIL: "**FAIL**",
    Status.ERROR: "**ERROR**",
    Status.MANUAL: "MANUAL",
    Status.PASS: "PASS",
    Status.ATTESTED: "ATTESTED",
    Status.WAIVED: "WAIVED",
    Status.NOT_APPLICABLE: "N/A",
}

# Every character that can open Markdown or HTML syntax inline is backslash-escaped (CommonMark lets any
# ASCII punctuation be escaped). Parentheses and '!' need no escape once '[' and ']' are escaped.
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>#|~&$])")
# GitHub turns "https://..." and "www...." into links by themselves; an escaped ':' or '.' stops that.
_URL_SCHEME = re.compile(r"://")
_WWW = re.compile(r"(?i)(www)\.")
# A word joiner after '@' stops both e-mail autolinks and @-mentions, which escaping cannot stop.
_AT = re.compile("@")
# Text that would open a nested list when it starts a bullet's line ('*', '#' and '>' are escaped anyway).
_BULLET_START = re.compile(r"^([-+])(?=\s|$)")
_NUMBER_START = re.compile(r"^(\d+)([.)])(?=\s|$)")


class Markdown(str):
    """Text already safe to place into the summary as it is."""

    __slots__ = ()


@dataclass(frozen=True)
class FindingRow:
    """A gating finding with its message cut to a readable length."""

    finding: Finding
    message: str
    # The name people know the resource by (a user's UPN, a subscription's name), else its resource name.
    name: str = ""


def environment() -> Environment:
    """The jinja2 environment of the summary: every printed value is Markdown-escaped unless it is Markdown."""
    env = Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        # HTML escaping would garble Markdown; finalize escapes every value for Markdown instead.
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["code"] = code
    env.filters["badge"] = badge
    env.filters["report_file"] = report_file
    return env


def render(result: ScanResult, changes: Changes | None = None) -> str:
    """The Markdown summary as text, under MAX_SUMMARY characters; the format has no place for ``changes``."""
    limit = MAX_FINDINGS
    while True:
        text = _render(result, limit)
        if len(text) <= MAX_SUMMARY or limit == 0:
            return truncated(text, MAX_SUMMARY)
        limit //= 2


def _render(result: ScanResult, max_findings: int) -> str:
    overdue = result.history.overdue_by_severity(result.findings) if result.history is not None else None
    result = with_age_notes(result)
    findings = sorted(
        (f for f in sorted_findings(result.findings) if f.gates),
        key=lambda f: (-f.severity.rank, f.status is not Status.FAIL),
    )
    failed = failed_collections(result)
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            meta=result.metadata,
            statuses=list(Status),
            by_status=result.counts_by_status(),
            by_severity=result.counts_by_severity(),
            controls_by_status=controls_by_status(result),
            controls=result.controls,
            findings=[
                FindingRow(f, _shorten(f.message), display_name(f, result.metadata)) for f in findings[:max_findings]
            ],
            more_findings=max(0, len(findings) - max_findings),
            failed_collections=[_listing(c) for c in failed[:MAX_LISTINGS]],
            more_collections=max(0, len(failed) - MAX_LISTINGS),
            collection_count=len(result.collections),
            failed_count=len(failed),
            warnings=result.warnings[:MAX_WARNINGS],
            more_warnings=max(0, len(result.warnings) - MAX_WARNINGS),
            frameworks=[_framework(v) for v in views(result)],
            overdue=overdue,
        )
    )


@dataclass(frozen=True)
class FrameworkSummary:
    """A framework's requirement counts and the first requirements that fail or could not be verified."""

    label: str
    total: int
    counts: Mapping[str, int]
    gating: tuple[Requirement, ...]
    more: int


def _framework(view: FrameworkView) -> FrameworkSummary:
    gating = [r for r in view.requirements if r.status in GATING_STATUSES]
    return FrameworkSummary(
        label=view.framework.label,
        total=len(view.requirements),
        counts=view.counts(),
        gating=tuple(gating[:MAX_REQUIREMENTS]),
        more=max(0, len(gating) - MAX_REQUIREMENTS),
    )


def escape(value: object) -> Markdown:
    """Any value as one line of literal Markdown text: no link, image, HTML, emphasis or table cell can start."""
    text = _one_line(str(value))
    text = _INLINE_MARKUP.sub(r"\\\1", text)
    text = _URL_SCHEME.sub(r"\\://", text)
    text = _WWW.sub(r"\1\\.", text)
    text = _AT.sub("@\u2060", text)
    text = _BULLET_START.sub(r"\\\1", text)
    return Markdown(_NUMBER_START.sub(r"\1\\\2", text))


def code(value: object) -> Markdown:
    """A value as an inline code span for a table cell: shown verbatim, never interpreted."""
    text = _one_line(str(value))
    if not text:
        return Markdown("")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    # A span starting or ending with a backtick needs a space of padding, which Markdown strips again.
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    # In a table a '|' ends the cell even inside a code span, unless escaped; the escape is not shown.
    return Markdown(fence + padded.replace("|", "\\|") + fence)


def badge(status: Status) -> Markdown:
    """A status as a plain-text badge, bold where it gates."""
    return Markdown(BADGES[status])


def _finalize(value: object) -> object:
    return value if isinstance(value, Markdown) else escape(value)


def _one_line(text: str) -> str:
    """Text on one line, bounded: line breaks and control characters as spaces, bidi controls shown."""
    return _cleaned(text, MAX_VALUE)


def _shorten(text: str) -> str:
    return _cleaned(text, MAX_MESSAGE)


def _cleaned(text: str, limit: int) -> str:
    # Only the head that can be shown is cleaned, so a megabyte-long value costs no more than a short one.
    head = visible_bidi(text[: 2 * limit])
    kept = [" " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char for char in head]
    return truncated(" ".join("".join(kept).split()), limit, total=len(text))


def _listing(collection: Collection) -> tuple[Collection, str]:
    status = f"HTTP {collection.status_code}" if collection.status_code else "no HTTP status"
    return collection, f"{status} {collection.error_code}".strip()

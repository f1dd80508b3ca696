"""summary.md: counts, controls and the worst findings as Markdown, for a CI job summary or a PR comment."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

from auditor.history.marks import with_age_notes
from auditor.inventory import Collection
from auditor.model import Finding, Status
from auditor.reports.outline import controls_by_status, failed_collections, sorted_findings
from auditor.results import ScanResult

FORMAT = "markdown"
FILENAME = "summary.md"
TEMPLATE = "summary.md.j2"
# A pull-request comment holds at most 65,536 characters; these caps keep the summary well inside that.
MAX_FINDINGS = 50
MAX_MESSAGE = 300

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
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class Markdown(str):
    """Text already safe to place into the summary as it is."""

    __slots__ = ()


@dataclass(frozen=True)
class FindingRow:
    """A gating finding with its message cut to a readable length."""

    finding: Finding
    message: str


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
    return env


def render(result: ScanResult) -> str:
    """The Markdown summary as text."""
    overdue = result.history.overdue_by_severity(result.findings) if result.history is not None else None
    result = with_age_notes(result)
    findings = sorted(
        (f for f in sorted_findings(result.findings) if f.gates),
        key=lambda f: (-f.severity.rank, f.status is not Status.FAIL),
    )
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
            findings=[FindingRow(f, _shorten(f.message)) for f in findings[:MAX_FINDINGS]],
            more_findings=max(0, len(findings) - MAX_FINDINGS),
            failed_collections=[_listing(c) for c in failed_collections(result)],
            collection_count=len(result.collections),
            warnings=result.warnings,
            overdue=overdue,
        )
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
    """Text with line breaks and control characters turned into spaces and direction overrides dropped."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    kept = []
    for char in text:
        if char in _BIDI_CONTROLS:
            continue
        kept.append(" " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char)
    return " ".join("".join(kept).split())


def _shorten(text: str) -> str:
    text = _one_line(text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1].rstrip() + "\u2026"


def _listing(collection: Collection) -> tuple[Collection, str]:
    status = f"HTTP {collection.status_code}" if collection.status_code else "no HTTP status"
    return collection, f"{status} {collection.error_code}".strip()

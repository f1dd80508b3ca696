"""Ageing of findings: first seen, days open and remediation SLAs per severity, as reporters read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auditor.model import Finding, Severity
from auditor.parameters import Params

# Days to remediate a fail or error finding, per severity, unless the baseline or --param says otherwise.
DEFAULT_SLA_DAYS: Mapping[Severity, int] = {
    Severity.CRITICAL: 7,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
}


def sla_parameter(severity: Severity) -> str:
    """The baseline parameter holding the remediation SLA of a severity."""
    return f"sla_{severity.value}_days"


def sla_days(params: Params) -> dict[Severity, int]:
    """Remediation SLAs per severity: the baseline's parameters where declared, else the defaults."""
    slas = dict(DEFAULT_SLA_DAYS)
    for severity in DEFAULT_SLA_DAYS:
        name = sla_parameter(severity)
        if name in params.values:
            slas[severity] = params.get_int(name)
    return slas


@dataclass(frozen=True)
class FindingAge:
    """How long one finding has been known and, while it fails or errors, open."""

    first_seen: str
    # Start of the current run of fail or error; None when the finding does not gate.
    open_since: str | None
    days_open: int | None
    sla_days: int | None
    overdue: bool
    reopened: int = 0

    @property
    def due(self) -> str | None:
        """The date the finding's SLA ends, when it has one and is open."""
        if self.open_since is None or self.sla_days is None:
            return None
        return (parse_time(self.open_since) + timedelta(days=self.sla_days)).date().isoformat()


@dataclass(frozen=True)
class TrendPoint:
    """One scan of the trend: when, its posture score per policy area, and what changed."""

    scan_id: int
    at: str
    score: float | None
    areas: Mapping[str, float | None]
    new: int
    resolved: int
    open: int
    overdue: int


@dataclass(frozen=True)
class Trend:
    """The history of one scope as the trend section and ``auditor history trend`` show it."""

    points: tuple[TrendPoint, ...]
    # Open fail/error findings by age bucket ("0-7", "8-30", ...), at the latest scan.
    open_by_age: Mapping[str, int]
    # Mean days from opening to resolution per severity, over every resolved run; None when none resolved.
    mean_days_to_resolve: Mapping[str, float | None]


@dataclass(frozen=True)
class Delivery:
    """The outcome of one notification: where (with secrets removed), whether it arrived, and why not."""

    target: str
    ok: bool
    detail: str
    findings: int


@dataclass(frozen=True)
class HistoryView:
    """What the history adds to a scan's reports: ages, SLAs, the trend and notification outcomes."""

    store: str
    scope: str
    scan_id: int
    previous_scan_id: int | None
    slas: Mapping[Severity, int]
    ages: Mapping[str, FindingAge]
    trend: Trend | None = None

    def age(self, finding: Finding) -> FindingAge | None:
        """The age of a finding of this scan."""
        return self.ages.get(finding.id)

    def overdue(self, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        """The findings past their remediation SLA."""
        return tuple(f for f in findings if (age := self.ages.get(f.id)) is not None and age.overdue)

    def overdue_by_severity(self, findings: tuple[Finding, ...]) -> dict[str, int]:
        """Number of overdue findings per severity, every severity with an SLA present."""
        counts = {severity.value: 0 for severity in sorted(self.slas, key=lambda s: -s.rank)}
        for finding in self.overdue(findings):
            counts[finding.severity.value] = counts.get(finding.severity.value, 0) + 1
        return counts


def parse_time(text: str) -> datetime:
    """A stored ISO 8601 time as an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def days_between(start: str, end: str) -> int:
    """Whole days from start to end, never negative (a clock set back does not age a finding backwards)."""
    return max(0, (parse_time(end) - parse_time(start)).days)


def age_of(
    severity: Severity,
    first_seen: str,
    open_since: str | None,
    at: str,
    slas: Mapping[Severity, int],
    *,
    reopened: int = 0,
) -> FindingAge:
    """The age of a finding as of ``at``: open days, and overdue once they exceed its severity's SLA."""
    sla = slas.get(severity)
    days = days_between(open_since, at) if open_since is not None else None
    overdue = days is not None and sla is not None and days > sla
    return FindingAge(first_seen, open_since, days, sla, overdue, reopened)

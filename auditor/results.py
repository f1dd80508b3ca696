"""The result of one evaluation: findings, per-control roll-ups and scan metadata, as reporters read them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from auditor.history.ageing import Delivery, HistoryView
from auditor.inventory import Collection
from auditor.model import Finding, Severity, Status

# Weight of a finding in the posture score: a critical control counts five times an informational one.
SEVERITY_WEIGHTS: Mapping[Severity, int] = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.INFO: 1,
}
# Only verdicts a check reached on its own are scored; manual, attested, waived and not-applicable
# findings say nothing automated about the estate.
SCORED_STATUSES = frozenset({Status.PASS, Status.FAIL, Status.ERROR})


@dataclass(frozen=True)
class PostureScore:
    """Severity-weighted points of passing findings out of all automated verdicts."""

    earned: int
    possible: int

    @property
    def percent(self) -> float | None:
        """Earned as a percentage of possible; None when nothing was scored."""
        return 100.0 * self.earned / self.possible if self.possible else None


def posture_score(findings: Iterable[Finding]) -> PostureScore:
    """Sum of weights of pass findings over the sum of weights of pass, fail and error findings."""
    earned = possible = 0
    for finding in findings:
        if finding.status in SCORED_STATUSES:
            weight = SEVERITY_WEIGHTS[finding.severity]
            possible += weight
            if finding.status is Status.PASS:
                earned += weight
    return PostureScore(earned, possible)


@dataclass(frozen=True)
class ScanMetadata:
    """Where, when and against what a scan ran."""

    tool_version: str
    started_at: str
    finished_at: str
    source: str
    subscriptions: tuple[str, ...]
    baseline_path: str
    baseline_sha256: str
    baseline_name: str
    parameters: Mapping[str, object] = field(default_factory=dict)
    as_of: str = ""
    # Parameters set, with the baseline's allow_weakening, to a value that disables their control: name -> why.
    weakened_parameters: Mapping[str, str] = field(default_factory=dict)
    # Display names the inventory holds: subscription id -> name, principal object id -> UPN or name.
    subscription_names: Mapping[str, str] = field(default_factory=dict)
    principal_names: Mapping[str, str] = field(default_factory=dict)
    # Where the records came from ("arm", "microsoft-graph", "resource-graph"), and what that means for
    # their freshness.
    collection_sources: tuple[str, ...] = ()
    collection_note: str = ""
    # The TLS endpoints the scan was asked to probe (--tls-endpoint), as host:port.
    tls_endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class ControlSummary:
    """One control of the baseline with the roll-up of its findings."""

    id: str
    title: str
    area: str
    severity: Severity
    mode: str
    quote: str
    description: str
    status: Status
    counts: Mapping[str, int]
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Line of the control in the baseline file (0 if unknown), and why the promise matters.
    line: int = 0
    rationale: str = ""


@dataclass(frozen=True)
class ScanResult:
    """Everything a reporter may read."""

    metadata: ScanMetadata
    controls: tuple[ControlSummary, ...]
    findings: tuple[Finding, ...]
    collections: tuple[Collection, ...] = ()
    # Things a reader should know that are not findings, e.g. a waiver that matches nothing.
    warnings: tuple[str, ...] = ()
    # First seen, days open, SLAs and the trend, when the run keeps a history (--history).
    history: HistoryView | None = None
    # Outcomes of --notify deliveries; a failed one is also a warning.
    notifications: tuple[Delivery, ...] = ()

    def counts_by_status(self) -> dict[str, int]:
        """Number of findings per status, every status present (zero if none)."""
        counts = Counter(f.status.value for f in self.findings)
        return {status.value: counts.get(status.value, 0) for status in Status}

    def counts_by_severity(self) -> dict[str, int]:
        """Number of gating findings (fail or error) per severity."""
        counts = Counter(f.severity.value for f in self.findings if f.gates)
        return {sev.value: counts.get(sev.value, 0) for sev in reversed(Severity)}

    def gating(self, threshold: Severity) -> tuple[Finding, ...]:
        """Findings that fail or error at or above the threshold severity."""
        return tuple(f for f in self.findings if f.gates and f.severity.rank >= threshold.rank)

    def posture_score(self) -> PostureScore:
        """The severity-weighted share of automated verdicts that pass; see ``posture_score``."""
        return posture_score(self.findings)

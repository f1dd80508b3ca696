"""The result of one evaluation: findings, per-control roll-ups and scan metadata, as reporters read them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from auditor.inventory import Collection
from auditor.model import Finding, Severity, Status


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


@dataclass(frozen=True)
class ScanResult:
    """Everything a reporter may read."""

    metadata: ScanMetadata
    controls: tuple[ControlSummary, ...]
    findings: tuple[Finding, ...]
    collections: tuple[Collection, ...] = ()
    # Things a reader should know that are not findings, e.g. a waiver that matches nothing.
    warnings: tuple[str, ...] = ()

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

"""What a notification says: the scan, and the findings that newly fail or error at the gate."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.drift import Changes, FindingState
from auditor.model import Severity
from auditor.results import ScanResult


@dataclass(frozen=True)
class NoticeItem:
    """One new or regressed gated finding."""

    id: str
    control_id: str
    title: str
    severity: str
    status: str
    resource_id: str
    resource_name: str
    first_seen: str
    due: str


@dataclass(frozen=True)
class Notice:
    """A notification: a subject line, the scan it comes from, the new findings and, for a digest, totals."""

    subject: str
    baseline: str
    scope: str
    scan_time: str
    threshold: str
    items: tuple[NoticeItem, ...]
    open_gated: int
    overdue: int
    digest: bool

    def document(self) -> dict[str, object]:
        """The notice as the JSON a plain webhook receives."""
        return {
            "subject": self.subject,
            "baseline": self.baseline,
            "scope": self.scope,
            "scan_time": self.scan_time,
            "threshold": self.threshold,
            "new_findings": [item.__dict__ for item in self.items],
            "open_gated": self.open_gated,
            "overdue": self.overdue,
            "digest": self.digest,
        }


def newly_gated(result: ScanResult, threshold: Severity, changes: Changes | None) -> tuple[FindingState, ...]:
    """Findings gating at the threshold that did not before: against the previous scan, or all without one."""
    if changes is not None:
        return changes.newly_gating(threshold)
    seen: dict[str, FindingState] = {}
    for f in result.gating(threshold):
        seen.setdefault(f.id, FindingState(f.id, f.control_id, f.title, f.status, f.severity, f.resource_id))
    return tuple(seen.values())


def build_notice(
    result: ScanResult, threshold: Severity, *, digest: bool, changes: Changes | None = None
) -> Notice | None:
    """The notice for a scan and its ``changes`` since the previous one; None when the gated set did not grow and
    no digest was asked for."""
    states = newly_gated(result, threshold, changes)
    if not states and not digest:
        return None
    history = result.history
    items = []
    for state in states:
        age = history.ages.get(state.id) if history is not None else None
        items.append(
            NoticeItem(
                id=state.id,
                control_id=state.control_id,
                title=state.title,
                severity=state.severity.value,
                status=state.status.value,
                resource_id=state.resource_id,
                resource_name=state.resource_name or "(control)",
                first_seen=age.first_seen if age is not None else "",
                due=(age.due or "") if age is not None else "",
            )
        )
    overdue = len(history.overdue(result.findings)) if history is not None else 0
    name = result.metadata.baseline_name
    if items:
        subject = f"{len(items)} new finding(s) at or above {threshold.value}: {name}"
    else:
        subject = f"Digest: no new findings at or above {threshold.value}: {name}"
    return Notice(
        subject=subject,
        baseline=name,
        scope=history.scope if history is not None else ", ".join(result.metadata.subscriptions),
        scan_time=result.metadata.as_of or result.metadata.finished_at,
        threshold=threshold.value,
        items=tuple(items),
        open_gated=len({f.id for f in result.gating(threshold)}),
        overdue=overdue,
        digest=digest,
    )

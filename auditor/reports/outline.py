"""The structure every reporter presents: findings in one canonical order, grouped by control and area."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from auditor.inventory import Collection
from auditor.model import Finding, Status
from auditor.results import ControlSummary, ScanMetadata, ScanResult


def finding_order(finding: Finding) -> tuple[str, str, str]:
    """Sort key of a finding: control, then resource, then check."""
    return (finding.control_id, finding.resource_id, finding.check_id)


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in canonical order, independent of the order checks produced them in."""
    return sorted(findings, key=finding_order)


def sorted_collections(collections: Iterable[Collection]) -> list[Collection]:
    """Listings ordered by API, subscription and scope, independent of collection order."""
    return sorted(collections, key=lambda c: (c.api, c.subscription_id, c.scope))


def failed_collections(result: ScanResult) -> list[Collection]:
    """Listings that did not complete, in canonical order."""
    return [c for c in sorted_collections(result.collections) if not c.ok]


def status_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """The counts with every status present, in the order of ``Status``, zero where absent."""
    return {status.value: counts.get(status.value, 0) for status in Status}


def controls_by_status(result: ScanResult) -> dict[str, int]:
    """Number of controls per roll-up status, every status present."""
    return status_counts(Counter(control.status.value for control in result.controls))


def findings_by_control(result: ScanResult) -> dict[str, list[Finding]]:
    """Findings of each control of the result, in canonical order; controls without findings map to []."""
    grouped: dict[str, list[Finding]] = {control.id: [] for control in result.controls}
    for finding in sorted_findings(result.findings):
        if finding.control_id in grouped:
            grouped[finding.control_id].append(finding)
    return grouped


def orphan_findings(result: ScanResult) -> list[Finding]:
    """Findings whose control is not in the result's controls; reporters show them rather than drop them."""
    known = {control.id for control in result.controls}
    return [f for f in sorted_findings(result.findings) if f.control_id not in known]


def controls_by_area(controls: Iterable[ControlSummary]) -> list[tuple[str, list[ControlSummary]]]:
    """Controls grouped by area; areas and the controls within them keep baseline order."""
    areas: dict[str, list[ControlSummary]] = {}
    for control in controls:
        areas.setdefault(control.area, []).append(control)
    return list(areas.items())


def findings_with_status(result: ScanResult, *statuses: Status) -> list[Finding]:
    """Findings having any of the statuses, in canonical order."""
    wanted = set(statuses)
    return [f for f in sorted_findings(result.findings) if f.status in wanted]


def subscriptions_seen(result: ScanResult) -> list[str]:
    """Subscriptions of the scan's scope and of its findings, sorted; empty ids left out."""
    seen = set(result.metadata.subscriptions) | {f.subscription_id for f in result.findings}
    return sorted(s for s in seen if s)


def display_name(finding: Finding, meta: ScanMetadata) -> str:
    """The name people know the resource by: a user's UPN, a subscription's name; else its resource name."""
    subscription = f"/subscriptions/{finding.subscription_id}".lower()
    if finding.subscription_id and finding.resource_id.rstrip("/").lower() == subscription:
        return meta.subscription_names.get(finding.subscription_id, finding.resource_name)
    return meta.principal_names.get(finding.resource_name, finding.resource_name)

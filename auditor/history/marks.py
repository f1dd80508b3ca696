"""How reports mark ages: one sentence per finding (first seen, days open, overdue) shared by every format."""

from __future__ import annotations

import dataclasses

from auditor.history.ageing import FindingAge
from auditor.results import ScanResult

OVERDUE = "OVERDUE"


def age_note(age: FindingAge) -> str:
    """First seen, and for an open finding its days open and SLA; overdue ones start with OVERDUE."""
    first = f"first seen {age.first_seen[:10]}"
    if age.open_since is None or age.days_open is None:
        return first
    note = f"{first}, open {age.days_open} day{'s' if age.days_open != 1 else ''}"
    if age.sla_days is None:
        return note
    if age.overdue:
        return f"{OVERDUE}: {note}, SLA {age.sla_days} days ended {age.due}"
    return f"{note}, due {age.due} (SLA {age.sla_days} days)"


def with_age_notes(result: ScanResult) -> ScanResult:
    """The result with each finding's message ending in its age note, for the formats that show messages."""
    history = result.history
    if history is None:
        return result
    findings = []
    for finding in result.findings:
        age = history.ages.get(finding.id)
        noted = dataclasses.replace(finding, message=f"{finding.message} [{age_note(age)}]") if age else finding
        findings.append(noted)
    return dataclasses.replace(result, findings=tuple(findings))

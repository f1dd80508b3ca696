"""Waivers: an owner's accepted risk on failing findings, with a reason and an expiry that is required."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from auditor.decision_files import EntryReader, load_entries
from auditor.model import Finding, Status

FIELDS = {"control", "resource", "reason", "owner", "expires"}
# A waiver accepts a known failure; it also covers a scope that cannot be read (error), by decision.
WAIVABLE = frozenset({Status.FAIL, Status.ERROR})


@dataclass(frozen=True)
class Waiver:
    """An accepted risk on one control for resources matching a glob."""

    control: str
    resource: str
    reason: str
    owner: str
    expires: date

    def matches(self, finding: Finding) -> bool:
        """True when the finding is of this control and its resource id matches (case-insensitively)."""
        return finding.control_id == self.control and fnmatch.fnmatchcase(
            finding.resource_id.lower(), self.resource.lower()
        )

    def label(self) -> str:
        """How a warning names this waiver."""
        return f"waiver for {self.control} on {self.resource} (owner {self.owner})"


def load_waivers(path: Path, control_ids: Iterable[str]) -> tuple[Waiver, ...]:
    """Read and validate a waiver file against the baseline's control ids."""
    known = set(control_ids)
    result = []
    for index, entry in enumerate(load_entries(path, "waiver", "waiver")):
        read = EntryReader(path, "waiver", index, entry, FIELDS)
        control = read.text("control")
        if control not in known:
            raise read.error("control", f"{control!r} is not a control of the baseline")
        result.append(
            Waiver(
                control=control,
                resource=read.text("resource"),
                reason=read.text("reason"),
                owner=read.text("owner"),
                expires=read.day("expires"),
            )
        )
    return tuple(result)


def apply_waivers(
    findings: Sequence[Finding], waivers: Sequence[Waiver], today: date
) -> tuple[list[Finding], list[str]]:
    """Waive failing findings covered by a waiver in force; name expired ones; warn on waivers that match nothing."""
    used: set[Waiver] = set()
    result = []
    for finding in findings:
        matching = [w for w in waivers if w.matches(finding)] if finding.status in WAIVABLE else []
        used.update(matching)
        result.append(_waive(finding, matching, today) if matching else finding)
    warnings = [f"{w.label()} matches no failing finding" for w in waivers if w not in used]
    return result, warnings


def _waive(finding: Finding, matching: Sequence[Waiver], today: date) -> Finding:
    current = [w for w in matching if today <= w.expires]
    if current:
        chosen = max(current, key=lambda w: w.expires)
        return dataclasses.replace(
            finding,
            status=Status.WAIVED,
            message=f"Waived until {chosen.expires} by {chosen.owner}: {chosen.reason} "
            f"(was {finding.status.value}: {finding.message})",
            evidence={**finding.evidence, "waiver": _describe(chosen), "waived_status": finding.status.value},
        )
    latest = max(matching, key=lambda w: w.expires)
    return dataclasses.replace(
        finding,
        message=f"{finding.message} (waiver expired on {latest.expires})",
        evidence={**finding.evidence, "expired_waiver": _describe(latest)},
    )


def _describe(waiver: Waiver) -> dict[str, str]:
    return {
        "owner": waiver.owner,
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat(),
        "resource": waiver.resource,
    }

"""Attestations: a person's signed word that a manual control is met, valid until it expires."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from auditor.decision_files import EntryReader, load_entries
from auditor.model import Finding, Status

FIELDS = {"control", "attested_by", "date", "evidence", "expires", "resource"}


@dataclass(frozen=True)
class Attestation:
    """Who attested which control, when, on what evidence, and until when."""

    control: str
    attested_by: str
    attested_on: date
    evidence: str
    expires: date
    resource: str = "*"

    def covers(self, finding: Finding) -> bool:
        """True for a manual finding of this control whose resource matches the glob."""
        return (
            finding.control_id == self.control
            and finding.status is Status.MANUAL
            and fnmatch.fnmatchcase(finding.resource_id.lower(), self.resource.lower())
        )


def load_attestations(path: Path, control_ids: Iterable[str]) -> tuple[Attestation, ...]:
    """Read and validate an attestation file against the baseline's control ids."""
    known = set(control_ids)
    result = []
    for index, entry in enumerate(load_entries(path, "attestation", "attestation")):
        read = EntryReader(path, "attestation", index, entry, FIELDS)
        control = read.text("control")
        if control not in known:
            raise read.error("control", f"{control!r} is not a control of the baseline")
        attestation = Attestation(
            control=control,
            attested_by=read.text("attested_by"),
            attested_on=read.day("date"),
            evidence=read.text("evidence"),
            expires=read.day("expires"),
            resource=read.text("resource", required=False, default="*"),
        )
        if attestation.expires < attestation.attested_on:
            raise read.error(
                "expires", f"{attestation.expires} is before the attestation date {attestation.attested_on}"
            )
        result.append(attestation)
    return tuple(result)


def apply_attestations(findings: Sequence[Finding], attestations: Sequence[Attestation], today: date) -> list[Finding]:
    """Manual findings covered by an attestation in force become ``attested``; an expired one says so."""
    return [_attest(finding, attestations, today) for finding in findings]


def _attest(finding: Finding, attestations: Sequence[Attestation], today: date) -> Finding:
    matching = [a for a in attestations if a.covers(finding)]
    if not matching:
        return finding
    current = [a for a in matching if a.attested_on <= today <= a.expires]
    if current:
        chosen = max(current, key=lambda a: a.expires)
        return dataclasses.replace(
            finding,
            status=Status.ATTESTED,
            message=f"Attested by {chosen.attested_by} on {chosen.attested_on}, valid until {chosen.expires}",
            evidence={**finding.evidence, "attestation": _describe(chosen)},
        )
    latest = max(matching, key=lambda a: a.expires)
    note = (
        f"attestation expired on {latest.expires}"
        if latest.expires < today
        else f"attestation dated {latest.attested_on} is not yet in force"
    )
    return dataclasses.replace(
        finding, message=f"{finding.message} ({note})", evidence={**finding.evidence, "attestation": _describe(latest)}
    )


def _describe(attestation: Attestation) -> dict[str, str]:
    return {
        "attested_by": attestation.attested_by,
        "date": attestation.attested_on.isoformat(),
        "evidence": attestation.evidence,
        "expires": attestation.expires.isoformat(),
    }

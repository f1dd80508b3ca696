"""Statuses, severities, check results and the one Finding type every stage shares."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from auditor.arm_ids import resource_group_of


class Status(StrEnum):
    """The verdict a finding carries."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"
    MANUAL = "manual"
    ATTESTED = "attested"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"


class Severity(StrEnum):
    """How much a failing control matters; ordered from least to most."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order info < low < medium < high < critical."""
        return list(Severity).index(self)


# Statuses that mean "the promise is not shown to be kept" and therefore gate a pipeline.
GATING_STATUSES = frozenset({Status.FAIL, Status.ERROR})

# Roll-up order for a control: the first status present among its findings wins.
ROLLUP_ORDER = (
    Status.FAIL,
    Status.ERROR,
    Status.MANUAL,
    Status.PASS,
    Status.ATTESTED,
    Status.WAIVED,
    Status.NOT_APPLICABLE,
)

Evidence = Mapping[str, Any]


@dataclass(frozen=True)
class CheckResult:
    """What a check says about one resource, before control metadata is attached."""

    resource_id: str
    resource_type: str
    subscription_id: str
    status: Status
    message: str
    evidence: Evidence = field(default_factory=dict)
    # Overrides the control's severity for this one result (e.g. an informational note under a control).
    severity: Severity | None = None


@dataclass(frozen=True)
class Verdict:
    """What a rule decides about one record: the only shape a judge returns, live or in code."""

    status: Status
    message: str
    evidence: Evidence = field(default_factory=dict)
    # Overrides the control's severity for this one verdict (e.g. an informational note under a control).
    severity: Severity | None = None


def passing(message: str, **evidence: Any) -> Verdict:
    """The record keeps the promise."""
    return Verdict(Status.PASS, message, evidence)


def failing(message: str, **evidence: Any) -> Verdict:
    """The record breaks the promise."""
    return Verdict(Status.FAIL, message, evidence)


def erroring(message: str, **evidence: Any) -> Verdict:
    """The record cannot be judged (a value is unknown or unreadable), so it is not shown compliant."""
    return Verdict(Status.ERROR, message, evidence)


def attesting(message: str, **evidence: Any) -> Verdict:
    """Only an attestation can settle the record, because no API shows the fact."""
    return Verdict(Status.MANUAL, message, evidence)


def passed(resource: Any, message: str, **evidence: Any) -> CheckResult:
    """A passing result for a record that has id, type and subscription_id."""
    return CheckResult(resource.id, resource.type, resource.subscription_id, Status.PASS, message, evidence)


def failed(resource: Any, message: str, **evidence: Any) -> CheckResult:
    """A failing result for a record that has id, type and subscription_id."""
    return CheckResult(resource.id, resource.type, resource.subscription_id, Status.FAIL, message, evidence)


def errored(resource: Any, message: str, **evidence: Any) -> CheckResult:
    """An error result: the record could not be judged, so it is not compliant."""
    return CheckResult(resource.id, resource.type, resource.subscription_id, Status.ERROR, message, evidence)


def manual(resource: Any, message: str, **evidence: Any) -> CheckResult:
    """A result only an attestation can settle, because no API shows the fact."""
    return CheckResult(resource.id, resource.type, resource.subscription_id, Status.MANUAL, message, evidence)


@dataclass(frozen=True)
class SourceLocation:
    """Where in an IaC file a finding points."""

    file: str
    start_line: int
    end_line: int
    address: str = ""


@dataclass(frozen=True)
class Finding:
    """One verdict of one control on one resource; reporters read nothing else."""

    control_id: str
    check_id: str
    title: str
    status: Status
    severity: Severity
    resource_id: str
    resource_type: str
    subscription_id: str
    message: str
    evidence: Evidence = field(default_factory=dict)
    remediation: str = ""
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    location: SourceLocation | None = None
    # What the inventory knows of the resource beyond its id, for auditors' reports.
    region: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Stable id from control, check and resource, so runs can be compared."""
        return finding_id(self.control_id, self.check_id, self.resource_id)

    @property
    def resource_name(self) -> str:
        """Last segment of the resource id, for display."""
        return self.resource_id.rstrip("/").rsplit("/", 1)[-1] if self.resource_id else ""

    @property
    def resource_group(self) -> str:
        """The resource group the resource id names, or empty above resource-group scope."""
        return resource_group_of(self.resource_id)

    @property
    def gates(self) -> bool:
        """True when this finding means the promise is not shown to be kept."""
        return self.status in GATING_STATUSES


def finding_id(control_id: str, check_id: str, resource_id: str) -> str:
    """Hash of the identifying triple; resource ids compare case-insensitively as ARM does."""
    key = f"{control_id}|{check_id}|{resource_id.lower()}"
    # surrogatepass: a lone surrogate from a JSON body must not make a finding unhashable.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def rollup(statuses: list[Status]) -> Status:
    """The status of a control given the statuses of its findings."""
    present = set(statuses)
    for status in ROLLUP_ORDER:
        if status in present:
            return status
    return Status.NOT_APPLICABLE

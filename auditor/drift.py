"""Drift between two scans: which findings are new, resolved, changed or unchanged, keyed by finding id."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from auditor.input_files import InputFileError, read_json
from auditor.model import GATING_STATUSES, ROLLUP_ORDER, Finding, Severity, Status

FINDINGS_FILE = "findings.json"
# The findings.json versions this module can compare; reports/json.py writes one of them.
READABLE_SCHEMA_VERSIONS = frozenset({"1.0"})
_FINDING_ID = re.compile(r"^[0-9a-f]{20}$")
_Member = TypeVar("_Member", Status, Severity)


class DriftError(ValueError):
    """A findings document that cannot be read or compared, with the file and the reason."""


@dataclass(frozen=True)
class FindingState:
    """What a comparison needs to know about one finding id in one scan."""

    id: str
    control_id: str
    title: str
    status: Status
    severity: Severity
    resource_id: str

    @property
    def resource_name(self) -> str:
        """Last segment of the resource id, for display."""
        return self.resource_id.rstrip("/").rsplit("/", 1)[-1] if self.resource_id else ""

    def gates_at(self, threshold: Severity) -> bool:
        """True when this finding fails or errors at or above the threshold."""
        return self.status in GATING_STATUSES and self.severity.rank >= threshold.rank


@dataclass(frozen=True)
class Change:
    """One finding id present in both scans whose status or severity differs."""

    before: FindingState
    after: FindingState

    @property
    def id(self) -> str:
        """The finding id both states share."""
        return self.after.id


@dataclass(frozen=True)
class Changes:
    """How one scan differs from a previous one."""

    previous_path: str
    previous_finished_at: str
    new: tuple[FindingState, ...]
    resolved: tuple[FindingState, ...]
    changed: tuple[Change, ...]
    unchanged: int

    def newly_gating(self, threshold: Severity) -> tuple[FindingState, ...]:
        """Findings that gate at the threshold now and did not before: new ones and regressions."""
        # A passing resource that starts failing keeps its finding id, so counting only absent ids would
        # let the commonest drift of all, a changed setting on an existing resource, through the gate.
        regressed = [c.after for c in self.changed if c.after.gates_at(threshold) and not c.before.gates_at(threshold)]
        return tuple(f for f in [*self.new, *regressed] if f.gates_at(threshold))

    def counts(self) -> dict[str, int]:
        """Number of findings per kind of change."""
        return {
            "new": len(self.new),
            "resolved": len(self.resolved),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class ScanFindings:
    """The findings of one scan, as read from a findings.json, one state per finding id."""

    path: str
    finished_at: str
    states: Mapping[str, FindingState]


def compare(previous: ScanFindings, current: ScanFindings) -> Changes:
    """The changes from the previous scan to the current one."""
    before, after = previous.states, current.states
    changed = tuple(
        Change(before[key], after[key])
        for key in _ordered(after[k] for k in after.keys() & before.keys())
        if _differs(before[key], after[key])
    )
    common = len(after.keys() & before.keys())
    return Changes(
        previous_path=previous.path,
        previous_finished_at=previous.finished_at,
        new=tuple(after[key] for key in _ordered(after[k] for k in after.keys() - before.keys())),
        resolved=tuple(before[key] for key in _ordered(before[k] for k in before.keys() - after.keys())),
        changed=changed,
        unchanged=common - len(changed),
    )


def scan_findings(path: str, finished_at: str, findings: Iterable[Finding]) -> ScanFindings:
    """The comparable view of a scan that is still in memory."""
    states = [FindingState(f.id, f.control_id, f.title, f.status, f.severity, f.resource_id) for f in findings]
    return ScanFindings(path, finished_at, _by_id(states))


def findings_path(path: Path) -> Path:
    """The findings.json named by a path that is the file itself or a report folder holding it."""
    return path / FINDINGS_FILE if path.is_dir() else path


def load_findings(path: Path) -> ScanFindings:
    """Read and validate a findings.json (or the one in a report folder); DriftError names file and reason."""
    file = findings_path(path)
    try:
        document = read_json(file, "")
    except InputFileError as exc:
        raise DriftError(str(exc)) from None
    if not isinstance(document, dict) or "findings" not in document:
        raise DriftError(f"{file}: not a findings document (no top-level object with findings)")
    version = document.get("schema_version")
    if not isinstance(version, str) or version not in READABLE_SCHEMA_VERSIONS:
        readable = ", ".join(sorted(READABLE_SCHEMA_VERSIONS))
        raise DriftError(f"{file}: schema_version {version!r}, this tool reads {readable}")
    scan = document.get("scan")
    finished_at = scan.get("finished_at") if isinstance(scan, dict) else None
    if not isinstance(finished_at, str):
        raise DriftError(f"{file}: scan.finished_at: expected a string")
    items = document["findings"]
    if not isinstance(items, list):
        raise DriftError(f"{file}: findings: expected a list")
    states = [_state(item, f"{file}: findings[{index}]") for index, item in enumerate(items)]
    return ScanFindings(str(file), finished_at, _by_id(states))


def changes_document(changes: Changes) -> dict[str, Any]:
    """The ``changes`` object of findings.json and of ``auditor diff --json``."""
    return {
        "previous": {"path": changes.previous_path, "finished_at": changes.previous_finished_at},
        "new": [f.id for f in changes.new],
        "resolved": [f.id for f in changes.resolved],
        "changed": [
            {"id": c.id, "from": _state_document(c.before), "to": _state_document(c.after)} for c in changes.changed
        ],
        "unchanged": changes.unchanged,
    }


def _state_document(state: FindingState) -> dict[str, str]:
    return {"status": state.status.value, "severity": state.severity.value}


def _state(item: Any, where: str) -> FindingState:
    if not isinstance(item, dict):
        raise DriftError(f"{where}: expected an object")
    text = {name: _string(item, name, where) for name in ("id", "control_id", "title", "resource_id")}
    if not _FINDING_ID.match(text["id"]):
        raise DriftError(f"{where}.id: {text['id']!r} is not a finding id (20 lower-case hex digits)")
    return FindingState(
        id=text["id"],
        control_id=text["control_id"],
        title=text["title"],
        status=_member(Status, item.get("status"), f"{where}.status"),
        severity=_member(Severity, item.get("severity"), f"{where}.severity"),
        resource_id=text["resource_id"],
    )


def _string(item: Mapping[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise DriftError(f"{where}.{name}: expected a string")
    return value


def _member(kind: type[_Member], value: Any, where: str) -> _Member:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise DriftError(f"{where}: {value!r} is not one of {known}") from None


def _by_id(states: Iterable[FindingState]) -> dict[str, FindingState]:
    """One state per id; findings sharing an id merge into the worst status and the highest severity."""
    # Two findings share an id when one check reports on one scope twice (e.g. two failed listings of
    # the same subscription): the comparison is about the scope, so the most serious verdict stands for it.
    merged: dict[str, FindingState] = {}
    for state in states:
        seen = merged.get(state.id)
        if seen is None:
            merged[state.id] = state
            continue
        status = min(seen.status, state.status, key=ROLLUP_ORDER.index)
        severity = max(seen.severity, state.severity, key=lambda s: s.rank)
        merged[state.id] = FindingState(seen.id, seen.control_id, seen.title, status, severity, seen.resource_id)
    return merged


def _differs(before: FindingState, after: FindingState) -> bool:
    return (before.status, before.severity) != (after.status, after.severity)


def _ordered(states: Iterable[FindingState]) -> list[str]:
    """Ids with the most severe first, then by control and resource, so every listing reads the same."""
    ranked = sorted(states, key=lambda s: (-s.severity.rank, s.control_id, s.resource_id.lower(), s.id))
    return [s.id for s in ranked]

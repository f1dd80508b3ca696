"""findings.csv: one row per finding for auditors' spreadsheets, safe to open in Excel or LibreOffice.

Beside it, one ``framework-<key>.csv`` per compliance framework the controls map to: each requirement with
its rolled-up status and the controls behind it.
"""

from __future__ import annotations

import csv as csv_module
import io
from collections.abc import Mapping, Sequence

from auditor.drift import Changes
from auditor.history.ageing import FindingAge
from auditor.model import Finding
from auditor.reports.display import spreadsheet_cell
from auditor.reports.evidence import evidence_lines
from auditor.reports.frameworks import FrameworkView, catalogue, framework_keys, views
from auditor.reports.outline import display_name, sorted_findings
from auditor.results import ControlSummary, ScanMetadata, ScanResult

FORMAT = "csv"
FILENAME = "findings.csv"
COLUMNS = (
    "control_id",
    "control_title",
    "policy",
    "status",
    "severity",
    "resource_name",
    "resource_display_name",
    "resource_id",
    "resource_type",
    "resource_group",
    "location",
    "tags",
    "subscription_name",
    "subscription_id",
    "message",
    "evidence",
    "remediation",
    "waiver_owner",
    "waiver_reason",
    "waiver_expires",
    "attested_by",
    "attestation_date",
    "attestation_evidence",
    "attestation_expires",
    "scan_started",
    "scan_finished",
    "as_of",
    "weakened_parameters",
    "finding_id",
)
FRAMEWORK_COLUMNS = ("requirement", "title", "citation", "status", "controls", "control_statuses", "url")
# Appended when the run keeps a history (--history).
AGE_COLUMNS = ("first_seen", "days_open", "sla_days", "due", "overdue")
# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark.
BOM = "\ufeff"
# Excel holds at most 32,767 characters in a cell; longer values are cut with a marker.
MAX_CELL = 32_000


def render(result: ScanResult, changes: Changes | None = None) -> str:
    """The CSV text: a byte order mark, a header row, then one row per finding in canonical order (no
    ``changes``: the format has no place for them)."""
    controls = {control.id: control for control in result.controls}
    keys = framework_keys(result.controls)
    history = result.history
    header = [*COLUMNS, *(catalogue(key).label for key in keys)]
    rows = [header + list(AGE_COLUMNS) if history is not None else header]
    for finding in sorted_findings(result.findings):
        row = _row(finding, controls.get(finding.control_id), result.metadata, keys)
        if history is not None:
            row += _age_cells(history.ages.get(finding.id))
        rows.append(row)
    return _table(rows)


def companions(result: ScanResult) -> list[tuple[str, str]]:
    """One file per framework the controls map to: (file name, CSV text)."""
    return [(framework_filename(v.framework.key), render_framework(v)) for v in views(result)]


def framework_filename(key: str) -> str:
    """The file a framework's view is written to, e.g. framework-nist_800_53.csv."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in key)
    return f"framework-{safe}.csv"


def render_framework(view: FrameworkView) -> str:
    """A framework's requirements, one a row, with the status rolled up from their controls."""
    rows: list[Sequence[str]] = [FRAMEWORK_COLUMNS]
    for requirement in view.requirements:
        rows.append(
            (
                requirement.id,
                requirement.title,
                requirement.citation,
                requirement.status.value,
                "; ".join(c.id for c in requirement.controls),
                "; ".join(f"{c.id}: {c.status.value}" for c in requirement.controls),
                requirement.url,
            )
        )
    return _table(rows)


def safe_cell(value: str) -> str:
    """The value as a cell no spreadsheet runs as a formula (see ``auditor.reports.display``)."""
    return spreadsheet_cell(value, MAX_CELL)


def weakened_cell(meta: ScanMetadata) -> str:
    """The run's weakened parameters as ``name: reason; ...`` (the same on every row; empty when none).

    The CSV has no metadata section, so a parameter the baseline let disable a control shows on each row.
    """
    return "; ".join(f"{name}: {reason}" for name, reason in sorted(meta.weakened_parameters.items()))


def _age_cells(age: FindingAge | None) -> tuple[str, ...]:
    if age is None:
        return ("", "", "", "", "")
    days = "" if age.days_open is None else str(age.days_open)
    sla = "" if age.sla_days is None or age.open_since is None else str(age.sla_days)
    return (age.first_seen, days, sla, age.due or "", "yes" if age.overdue else "no")


def _table(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    # Every cell quoted, so a separator inside a value can never start a new cell.
    writer = csv_module.writer(buffer, lineterminator="\r\n", quoting=csv_module.QUOTE_ALL)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return BOM + buffer.getvalue()


def _row(finding: Finding, control: ControlSummary | None, meta: ScanMetadata, keys: Sequence[str]) -> list[str]:
    # Only a waiver in force; an expired one no longer speaks for the finding (its message says so).
    waiver = _fields(finding.evidence.get("waiver"))
    attestation = _fields(finding.evidence.get("attestation"))
    return [
        finding.control_id,
        control.title if control else finding.title,
        control.quote if control else "",
        finding.status.value,
        finding.severity.value,
        finding.resource_name,
        display_name(finding, meta),
        finding.resource_id,
        finding.resource_type,
        finding.resource_group,
        finding.region,
        "; ".join(f"{key}={value}" for key, value in sorted(finding.tags.items())),
        meta.subscription_names.get(finding.subscription_id, ""),
        finding.subscription_id,
        finding.message,
        "\n".join(evidence_lines(finding.evidence)),
        finding.remediation,
        waiver.get("owner", ""),
        waiver.get("reason", ""),
        waiver.get("expires", ""),
        attestation.get("attested_by", ""),
        attestation.get("date", ""),
        attestation.get("evidence", ""),
        attestation.get("expires", ""),
        meta.started_at,
        meta.finished_at,
        meta.as_of or meta.finished_at,
        weakened_cell(meta),
        finding.id,
        *("; ".join(finding.frameworks.get(key, ())) for key in keys),
    ]


def _fields(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): str(item) for key, item in value.items()}

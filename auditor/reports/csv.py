"""findings.csv: one row per finding for auditors' spreadsheets, safe to open in Excel or LibreOffice."""

from __future__ import annotations

import csv as csv_module
import io
import json
import re

from auditor.history.ageing import FindingAge
from auditor.model import Finding
from auditor.reports.evidence import json_value
from auditor.reports.outline import sorted_findings
from auditor.reports.sarif import framework_tags
from auditor.results import ScanResult

FORMAT = "csv"
FILENAME = "findings.csv"
COLUMNS = (
    "control_id",
    "control_title",
    "status",
    "severity",
    "resource_id",
    "resource_name",
    "resource_type",
    "subscription_id",
    "message",
    "evidence",
    "remediation",
    "frameworks",
    "finding_id",
)
# Appended when the run keeps a history (--history).
AGE_COLUMNS = ("first_seen", "days_open", "sla_days", "due", "overdue")
# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark.
BOM = "\ufeff"
# A cell starting with one of these is read as a formula by spreadsheets (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Control characters other than tab, newline and carriage return have no place in a cell; nor have
# lone surrogates, which cannot be encoded as UTF-8 at all.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def render(result: ScanResult) -> str:
    """The CSV text: a byte order mark, a header row, then one row per finding in canonical order."""
    titles = {control.id: control.title for control in result.controls}
    buffer = io.StringIO()
    # Every cell quoted, so a separator inside a value can never start a new cell.
    writer = csv_module.writer(buffer, lineterminator="\r\n", quoting=csv_module.QUOTE_ALL)
    history = result.history
    writer.writerow(COLUMNS + AGE_COLUMNS if history is not None else COLUMNS)
    for finding in sorted_findings(result.findings):
        row = _row(finding, titles.get(finding.control_id, finding.title))
        if history is not None:
            row += _age_cells(history.ages.get(finding.id))
        writer.writerow([safe_cell(value) for value in row])
    return BOM + buffer.getvalue()


def safe_cell(value: str) -> str:
    """The value cleaned of unprintable characters, with a leading apostrophe if it could start a formula."""
    cleaned = _LONE_SURROGATE.sub("\ufffd", _UNPRINTABLE.sub("", value))
    if cleaned.startswith(FORMULA_TRIGGERS):
        return "'" + cleaned
    return cleaned


def _age_cells(age: FindingAge | None) -> tuple[str, ...]:
    if age is None:
        return ("", "", "", "", "")
    days = "" if age.days_open is None else str(age.days_open)
    sla = "" if age.sla_days is None or age.open_since is None else str(age.sla_days)
    return (age.first_seen, days, sla, age.due or "", "yes" if age.overdue else "no")


def _row(finding: Finding, control_title: str) -> tuple[str, ...]:
    evidence = json.dumps(json_value(finding.evidence), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (
        finding.control_id,
        control_title,
        finding.status.value,
        finding.severity.value,
        finding.resource_id,
        finding.resource_name,
        finding.resource_type,
        finding.subscription_id,
        finding.message,
        evidence,
        finding.remediation,
        "; ".join(framework_tags(finding.frameworks)),
        finding.id,
    )

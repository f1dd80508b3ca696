"""findings.sarif: failing, erroring and waived findings as a SARIF 2.1.0 log for code scanning."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from auditor.history.marks import age_note
from auditor.model import Finding, Severity, SourceLocation, Status
from auditor.reports.evidence import JsonValue, json_value
from auditor.reports.outline import failed_collections, findings_by_control, orphan_findings, sorted_findings
from auditor.results import ControlSummary, ScanResult

FORMAT = "sarif"
FILENAME = "findings.sarif"
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "auditor"
SOURCE_ROOT = "%SRCROOT%"
FINGERPRINT = "findingId/v1"

# GitHub code scanning ranks alerts by this number (as a string): >= 9.0 critical, >= 7.0 high, >= 4.0 medium.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
REPORTED = frozenset({Status.FAIL, Status.ERROR, Status.WAIVED})

# Baseline framework keys as the tags people search for; unknown keys keep their own name, hyphenated.
FRAMEWORK_LABELS = {"nist_800_53": "NIST-800-53", "cis_azure": "CIS-Azure"}

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def render(result: ScanResult) -> str:
    """The SARIF log as indented JSON text ending in a newline."""
    return json.dumps(log(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def log(result: ScanResult) -> dict[str, JsonValue]:
    """The SARIF log as JSON data: one run of the auditor."""
    rules = _rules(result)
    index = {str(rule["id"]): position for position, rule in enumerate(rules)}
    results: list[JsonValue] = [
        _result(f, index[f.control_id]) for f in sorted_findings(result.findings) if f.status in REPORTED
    ]
    if result.history is not None:
        _add_ages(results, [f for f in sorted_findings(result.findings) if f.status in REPORTED], result)
    run: dict[str, JsonValue] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": result.metadata.tool_version,
                "rules": list(rules),
            }
        },
        "invocations": [_invocation(result)],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [_clean(run)]}


def framework_tags(frameworks: Mapping[str, Sequence[str]]) -> list[str]:
    """Framework references as "FRAMEWORK:REF" tags, e.g. "NIST-800-53:SC-7", in baseline order."""
    tags: list[str] = []
    for name, refs in frameworks.items():
        label = FRAMEWORK_LABELS.get(name) or re.sub(r"[\s_]+", "-", name.strip())
        tags.extend(f"{label}:{ref}" for ref in refs)
    return tags


def _rules(result: ScanResult) -> list[dict[str, JsonValue]]:
    by_control = findings_by_control(result)
    rules = [_rule(control, by_control[control.id]) for control in result.controls]
    # A finding of a control the baseline no longer lists still needs a rule to point at.
    strays: dict[str, list[Finding]] = {}
    for finding in orphan_findings(result):
        strays.setdefault(finding.control_id, []).append(finding)
    rules.extend(_stray_rule(control_id, findings) for control_id, findings in strays.items())
    return rules


def _rule(control: ControlSummary, findings: Sequence[Finding]) -> dict[str, JsonValue]:
    return {
        "id": control.id,
        "name": _identifier(control.title) or control.id,
        "shortDescription": {"text": control.title or control.id},
        "fullDescription": {"text": control.quote or control.description or control.title or control.id},
        "help": {"text": _remediation(findings) or control.description or control.title or control.id},
        "defaultConfiguration": {"level": LEVEL[control.severity]},
        "properties": {
            "severity": control.severity.value,
            "area": control.area,
            "mode": control.mode,
            "tags": ["security", *framework_tags(control.frameworks)],
            "security-severity": SECURITY_SEVERITY[control.severity],
        },
    }


def _stray_rule(control_id: str, findings: Sequence[Finding]) -> dict[str, JsonValue]:
    first = findings[0]
    severity = max((f.severity for f in findings), key=lambda s: s.rank)
    return {
        "id": control_id,
        "name": _identifier(first.title) or control_id,
        "shortDescription": {"text": first.title or control_id},
        "fullDescription": {"text": f"{control_id} is not a control of the baseline this scan used."},
        "help": {"text": _remediation(findings) or first.title or control_id},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "severity": severity.value,
            "tags": ["security", *framework_tags(first.frameworks)],
            "security-severity": SECURITY_SEVERITY[severity],
        },
    }


def _add_ages(results: list[JsonValue], findings: list[Finding], result: ScanResult) -> None:
    """First seen, days open and overdue in each result's properties, and in its message."""
    assert result.history is not None
    for entry, finding in zip(results, findings, strict=True):
        age = result.history.ages.get(finding.id)
        if age is None or not isinstance(entry, dict):
            continue
        properties, message = entry["properties"], entry["message"]
        assert isinstance(properties, dict) and isinstance(message, dict)
        properties.update(firstSeen=age.first_seen, daysOpen=age.days_open, overdue=age.overdue, due=age.due)
        message["text"] = f"{message['text']} [{age_note(age)}]"


def _result(finding: Finding, rule_index: int) -> dict[str, JsonValue]:
    entry: dict[str, JsonValue] = {
        "ruleId": finding.control_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT: finding.id},
        "properties": {
            "status": finding.status.value,
            "severity": finding.severity.value,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "checkId": finding.check_id,
            "resourceId": finding.resource_id,
            "resourceType": finding.resource_type,
            "subscriptionId": finding.subscription_id,
            "evidence": json_value(finding.evidence),
        },
    }
    if finding.status is Status.WAIVED:
        # An external suppression makes code scanning show the alert as dismissed, with the reason.
        entry["suppressions"] = [{"kind": "external", "status": "accepted", "justification": _waiver_reason(finding)}]
    return entry


def _message(finding: Finding) -> str:
    text = finding.message or finding.title or finding.control_id
    if finding.status is Status.ERROR:
        return f"Could not be evaluated: {text}"
    return text


def _waiver_reason(finding: Finding) -> str:
    waiver = finding.evidence.get("waiver")
    if isinstance(waiver, Mapping) and waiver.get("reason"):
        owner = f" (owner {waiver['owner']}, expires {waiver.get('expires', '?')})" if waiver.get("owner") else ""
        return f"{waiver['reason']}{owner}"
    return finding.message or "waived"


def _location(finding: Finding) -> dict[str, JsonValue]:
    if finding.location is not None:
        return _source_location(finding.location, finding.resource_id)
    # GitHub rejects a whole upload if any result lacks a physical location, so a live resource gets a
    # repository-relative path derived from its ARM id (as container scanners use the image name): the
    # alert then shows the resource id as its "file", with the logical location alongside.
    resource = finding.resource_id or (f"/subscriptions/{finding.subscription_id}" if finding.subscription_id else "")
    # A finding about the control as a whole has no resource; it points at the control instead.
    path = resource.strip("/") or f"controls/{finding.control_id}"
    location: dict[str, JsonValue] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(path)},
            "region": {"startLine": 1},
        }
    }
    if resource:
        location["logicalLocations"] = [
            {"name": finding.resource_name, "fullyQualifiedName": resource, "kind": "resource"}
        ]
    return location


def _source_location(source: SourceLocation, resource_id: str) -> dict[str, JsonValue]:
    start = max(1, source.start_line)
    location: dict[str, JsonValue] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(_relative(source.file)), "uriBaseId": SOURCE_ROOT},
            "region": {"startLine": start, "endLine": max(start, source.end_line)},
        }
    }
    name = source.address or resource_id
    if name:
        location["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "resource"}]
    return location


def _relative(path: str) -> str:
    """The path with forward slashes and no leading "./" or "/", as code scanning resolves it from the root."""
    normalized = path.replace("\\", "/")
    while normalized.startswith("./"):
        normalized = normalized[2:]
    return normalized.lstrip("/") or "."


def _uri(path: str) -> str:
    # A URI reference must not carry spaces, '#', '?' or '%' literally; slashes stay path separators.
    return quote(_LONE_SURROGATE.sub("\ufffd", path), safe="/-._~!$&'()*+,;=:@")


def _invocation(result: ScanResult) -> dict[str, JsonValue]:
    # Listings that failed are reported as execution notifications; their scopes also produce error results.
    notifications: list[JsonValue] = [
        {"level": "error", "message": {"text": c.describe()}, "descriptor": {"id": f"listing/{c.api}"}}
        for c in failed_collections(result)
    ]
    notifications += [{"level": "warning", "message": {"text": warning}} for warning in result.warnings]
    invocation: dict[str, JsonValue] = {"executionSuccessful": True}
    for key, moment in (("startTimeUtc", result.metadata.started_at), ("endTimeUtc", result.metadata.finished_at)):
        utc = _utc(moment)
        if utc:
            invocation[key] = utc
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _utc(moment: str) -> str:
    """An ISO 8601 time as UTC with a "Z", as SARIF asks; "" if it is not a time with a zone."""
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return ""
    if parsed.tzinfo is None:
        return ""
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _remediation(findings: Iterable[Finding]) -> str:
    texts = dict.fromkeys(f.remediation for f in findings if f.remediation)
    return "\n\n".join(texts)


def _identifier(title: str) -> str:
    """A title as a PascalCase identifier, the form SARIF expects of a rule name."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _clean(value: JsonValue) -> JsonValue:
    # A lone surrogate (JSON from Azure may carry one) cannot be encoded as UTF-8 and would abort the write.
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_LONE_SURROGATE.sub("\ufffd", key): _clean(item) for key, item in value.items()}
    return value

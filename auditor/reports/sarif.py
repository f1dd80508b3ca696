"""findings.sarif: failing, erroring and waived findings as a SARIF 2.1.0 log for code scanning.

Shaped to GitHub code scanning's upload rules ("SARIF support for code scanning", docs.github.com): every
result has a physical location in the repository (IaC results their file and lines; live results the line
of their control in the baseline file), ``partialFingerprints.primaryLocationLineHash`` from the stable
finding id, rules with ``helpUri`` and ``help.markdown``, at most 10 tags a rule, at most 25,000 results
a run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import PurePath
from urllib.parse import quote

from auditor.drift import Changes
from auditor.history.marks import age_note
from auditor.model import Finding, Severity, SourceLocation, Status
from auditor.reports.display import human_text, report_file, truncated
from auditor.reports.evidence import JsonValue, json_value
from auditor.reports.frameworks import catalogue
from auditor.reports.markdown import escape
from auditor.reports.outline import (
    display_name,
    failed_collections,
    finding_order,
    findings_by_control,
    orphan_findings,
    sorted_findings,
)
from auditor.results import ControlSummary, ScanMetadata, ScanResult

FORMAT = "sarif"
FILENAME = "findings.sarif"
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "auditor"
SOURCE_ROOT = "%SRCROOT%"
# The one partial fingerprint GitHub reads; each finding id is its own alert and tracks across runs.
FINGERPRINT = "primaryLocationLineHash"
# GitHub rejects a run of more than 25,000 results and shows at most 10 tags of a rule.
MAX_RESULTS = 25_000
MAX_TAGS = 10
# Bounds on the text a result's message and a rule's help carry, so one huge name cannot swell the log.
MAX_MESSAGE = 4_000
MAX_HELP = 20_000
# Where a live result points when the scan's baseline file is not known.
DEFAULT_BASELINE = "baseline.toml"
CODE_SKIP = "#checkov:skip"

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
FRAMEWORK_LABELS = {
    "nist_800_53": "NIST-800-53",
    "cis_azure": "CIS-Azure",
    "ferpa": "FERPA",
    "sopipa": "SOPIPA",
    "coppa": "COPPA",
}

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def render(result: ScanResult, changes: Changes | None = None) -> str:
    """The SARIF log as indented JSON text ending in a newline; the format has no place for ``changes``."""
    return json.dumps(log(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def log(result: ScanResult) -> dict[str, JsonValue]:
    """The SARIF log as JSON data: one run of the auditor."""
    rules = _rules(result)
    index = {str(rule["id"]): position for position, rule in enumerate(rules)}
    lines = {control.id: control.line for control in result.controls}
    # A path outside the repository cannot be an alert's file; its name at least says which baseline.
    path = result.metadata.baseline_path or DEFAULT_BASELINE
    baseline = path if report_file(path) == path else PurePath(report_file(path)).name
    reported, left_out = capped(f for f in result.findings if f.status in REPORTED)
    results: list[JsonValue] = [
        _result(f, index[f.control_id], baseline, lines.get(f.control_id, 0), result.metadata) for f in reported
    ]
    if result.history is not None:
        _add_ages(results, list(reported), result)
    run: dict[str, JsonValue] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": result.metadata.tool_version,
                "rules": list(rules),
            }
        },
        "invocations": [_invocation(result, left_out)],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [_clean(run)]}


def capped(findings: Iterable[Finding], limit: int = MAX_RESULTS) -> tuple[list[Finding], int]:
    """The findings a run can carry, most severe first chosen, in canonical order; and how many were left out."""
    ranked = sorted(findings, key=lambda f: (-f.severity.rank, f.status is not Status.FAIL, finding_order(f)))
    kept = ranked[:limit]
    return sorted_findings(kept), len(ranked) - len(kept)


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
    remediation = _remediation(findings)
    tags = framework_tags(control.frameworks)
    rule: dict[str, JsonValue] = {
        "id": control.id,
        "name": _identifier(control.title) or control.id,
        "shortDescription": {"text": human_text(control.title or control.id, MAX_MESSAGE)},
        "fullDescription": {"text": human_text(control.quote or control.description or control.title or control.id)},
        "help": {
            "text": human_text(remediation or control.description or control.title or control.id, MAX_HELP),
            "markdown": truncated(_help_markdown(control, remediation), MAX_HELP),
        },
        "defaultConfiguration": {"level": LEVEL[control.severity]},
        "properties": {
            "severity": control.severity.value,
            "area": control.area,
            "mode": control.mode,
            "tags": [*rule_tags(tags)],
            "frameworks": [*tags],
            "security-severity": SECURITY_SEVERITY[control.severity],
        },
    }
    help_uri = _help_uri(control.frameworks)
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def rule_tags(framework_refs: Sequence[str]) -> list[str]:
    """ "security" and the first framework references, at most MAX_TAGS (all of them are in "frameworks")."""
    return ["security", *framework_refs][:MAX_TAGS]


def _help_uri(frameworks: Mapping[str, Sequence[str]]) -> str:
    # The page of the first requirement the control maps to, NIST's catalogue first.
    for key in sorted(frameworks, key=lambda k: k != "nist_800_53"):
        refs = frameworks[key]
        if refs:
            link = catalogue(key).link(refs[0])
            if link.startswith("https://"):
                return link
    return ""


def _help_markdown(control: ControlSummary, remediation: str) -> str:
    parts = [f"**{escape(control.id)}: {escape(control.title)}**"]
    if control.quote:
        parts.append(f"Policy: > {escape(control.quote)}")
    if control.description:
        parts.append(f"What is checked: {escape(control.description)}")
    if control.rationale:
        parts.append(f"Why it matters: {escape(control.rationale)}")
    if remediation:
        parts.append("Remediation:\n\n" + _fenced(human_text(remediation)))
    references = [
        f"- {escape(catalogue(key).label)}: {escape(', '.join(refs))}"
        for key, refs in control.frameworks.items()
        if refs
    ]
    if references:
        parts.append("References:\n\n" + "\n".join(references))
    return "\n\n".join(parts)


def _fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _stray_rule(control_id: str, findings: Sequence[Finding]) -> dict[str, JsonValue]:
    first = findings[0]
    severity = max((f.severity for f in findings), key=lambda s: s.rank)
    return {
        "id": control_id,
        "name": _identifier(first.title) or control_id,
        "shortDescription": {"text": human_text(first.title or control_id, MAX_MESSAGE)},
        "fullDescription": {"text": f"{control_id} is not a control of the baseline this scan used."},
        "help": {"text": human_text(_remediation(findings) or first.title or control_id, MAX_HELP)},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "severity": severity.value,
            "tags": [*rule_tags(framework_tags(first.frameworks))],
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


def _result(finding: Finding, rule_index: int, baseline: str, line: int, meta: ScanMetadata) -> dict[str, JsonValue]:
    entry: dict[str, JsonValue] = {
        "ruleId": finding.control_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": human_text(_message(finding, meta), MAX_MESSAGE)},
        "locations": [_location(finding, baseline, line)],
        "partialFingerprints": {FINGERPRINT: f"{finding.id}:1"},
        "properties": {
            "findingId": finding.id,
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
        entry["suppressions"] = [_suppression(finding)]
    return entry


def _suppression(finding: Finding) -> dict[str, JsonValue]:
    # A #checkov:skip comment sits in the code itself (SARIF "inSource"); a waiver file is "external".
    waiver = finding.evidence.get("waiver")
    source = str(waiver.get("source", "")) if isinstance(waiver, Mapping) else ""
    kind = "inSource" if finding.location is not None and CODE_SKIP in source else "external"
    return {"kind": kind, "status": "accepted", "justification": human_text(_waiver_reason(finding), MAX_MESSAGE)}


def _message(finding: Finding, meta: ScanMetadata) -> str:
    text = finding.message or finding.title or finding.control_id
    if finding.status is Status.ERROR:
        text = f"Could not be evaluated: {text}"
    if finding.location is None and finding.resource_id:
        # A live result's file is the baseline, so the message names the Azure resource it is about.
        known = display_name(finding, meta)
        name = meta.subscription_names.get(finding.subscription_id, "")
        also = f", {known}" if known and known not in {finding.resource_name, name} else ""
        where = f" in subscription {name}" if name else ""
        text = f"{text} (resource {finding.resource_id}{also}{where})"
    return text


def _waiver_reason(finding: Finding) -> str:
    waiver = finding.evidence.get("waiver")
    if isinstance(waiver, Mapping) and waiver.get("reason"):
        owner = f" (owner {waiver['owner']}, expires {waiver.get('expires', '?')})" if waiver.get("owner") else ""
        return f"{waiver['reason']}{owner}"
    return finding.message or "waived"


def _location(finding: Finding, baseline: str, line: int) -> dict[str, JsonValue]:
    if finding.location is not None:
        return _source_location(finding.location, finding.resource_id)
    # Code scanning accepts only results located in a file of the repository, so a live result points at
    # the line of its control in the baseline file the scan used, and names the Azure resource logically.
    location: dict[str, JsonValue] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(_relative(baseline)), "uriBaseId": SOURCE_ROOT},
            "region": {"startLine": max(1, line)},
        }
    }
    resource = finding.resource_id or (f"/subscriptions/{finding.subscription_id}" if finding.subscription_id else "")
    if resource:
        location["logicalLocations"] = [
            {"name": finding.resource_name or resource, "fullyQualifiedName": resource, "kind": "resource"}
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


def _invocation(result: ScanResult, left_out: int) -> dict[str, JsonValue]:
    # Listings that failed are reported as execution notifications; their scopes also produce error results.
    notifications: list[JsonValue] = [
        {
            "level": "error",
            "message": {"text": human_text(c.describe(), MAX_MESSAGE)},
            "descriptor": {"id": f"listing/{c.api}"},
        }
        for c in failed_collections(result)
    ]
    notifications += [
        {"level": "warning", "message": {"text": human_text(warning, MAX_MESSAGE)}} for warning in result.warnings
    ]
    if left_out:
        text = (
            f"{left_out:,} results left out: code scanning accepts at most {MAX_RESULTS:,} results a run; the "
            "most severe were kept, and findings.json lists every finding"
        )
        notifications.append({"level": "warning", "message": {"text": text}, "descriptor": {"id": "results/capped"}})
    notifications += [
        {"level": "warning", "message": {"text": f"weakened parameter {name}: {why}, which disables its control"}}
        for name, why in result.metadata.weakened_parameters.items()
    ]
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

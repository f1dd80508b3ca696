"""junit.xml: one test suite per control and one test case per finding, for CI test-result views."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.drift import Changes
from auditor.history.marks import with_age_notes
from auditor.model import Finding, Status
from auditor.reports.display import human_text
from auditor.reports.evidence import json_value
from auditor.reports.outline import display_name, findings_by_control, orphan_findings
from auditor.reports.sarif import framework_tags
from auditor.results import ScanMetadata, ScanResult

FORMAT = "junit"
FILENAME = "junit.xml"
SUITES_NAME = "auditor"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Statuses a CI system should show as skipped rather than passed: nothing proved the promise kept.
SKIPPED = {
    Status.MANUAL: "manual",
    Status.WAIVED: "waived",
    Status.NOT_APPLICABLE: "not applicable",
    Status.ATTESTED: "attested",
}

# Test names and messages are shown in one line of a CI view; details stay readable but bounded.
MAX_NAME = 400
MAX_MESSAGE = 2_000
MAX_DETAILS = 50_000

# Characters XML 1.0 cannot carry at all, not even as character references; lone surrogates included.
_ILLEGAL_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Suite:
    """A control's identity and its findings, in canonical order."""

    control_id: str
    title: str
    properties: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]


def render(result: ScanResult, changes: Changes | None = None) -> str:
    """The JUnit XML report as text, with an XML declaration and a final newline (no ``changes``)."""
    result = with_age_notes(result)
    timestamp = _timestamp(result.metadata.finished_at)
    root = ET.Element("testsuites", name=SUITES_NAME)
    if timestamp:
        root.set("timestamp", timestamp)
    totals: Counter[str] = Counter()
    for suite in _suites(result):
        element, counts = _suite_element(suite, timestamp, result.metadata)
        root.append(element)
        totals.update(counts)
    _set_counts(root, totals)
    ET.indent(root)
    return DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def xml_text(value: object, limit: int | None = None) -> str:
    """The value as text XML 1.0 can carry, bidi controls visible and bounded: characters it forbids dropped."""
    return human_text(_ILLEGAL_XML.sub("", str(value)), limit)


def case_name(finding: Finding, meta: ScanMetadata) -> str:
    """``CONTROL resource-name (resource group, subscription name)``, the one line a CI view shows of a case."""
    if finding.location is not None:
        where = finding.location
        subject = where.address or finding.resource_name
        return f"{finding.control_id} {subject} ({where.file}:{where.start_line})"
    if not finding.resource_id:
        return f"{finding.control_id} (control as a whole)"
    subscription = meta.subscription_names.get(finding.subscription_id) or finding.subscription_id
    if finding.resource_id.strip("/").lower() == f"subscriptions/{finding.subscription_id}".lower():
        return f"{finding.control_id} subscription {subscription}"
    context = ", ".join(part for part in (finding.resource_group, subscription) if part)
    name = display_name(finding, meta) or finding.resource_id
    return f"{finding.control_id} {name} ({context})" if context else f"{finding.control_id} {name}"


def _timestamp(moment: str) -> str:
    """The moment as JUnit's timestamp: ISO 8601 date and time in UTC, without a zone; "" if unparsable."""
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return ""
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.replace(tzinfo=None, microsecond=0).isoformat()


def _suites(result: ScanResult) -> list[Suite]:
    by_control = findings_by_control(result)
    suites = [
        Suite(
            control_id=control.id,
            title=control.title,
            properties=(
                ("severity", control.severity.value),
                ("area", control.area),
                ("mode", control.mode),
                ("status", control.status.value),
                ("policy", control.quote),
                *(("framework", tag) for tag in framework_tags(control.frameworks)),
                *(("weakened_parameter", f"{n}: {why}") for n, why in result.metadata.weakened_parameters.items()),
            ),
            findings=tuple(by_control[control.id]),
        )
        for control in result.controls
    ]
    # Findings of controls the baseline no longer lists are shown in suites of their own, not dropped.
    strays: dict[str, list[Finding]] = {}
    for finding in orphan_findings(result):
        strays.setdefault(finding.control_id, []).append(finding)
    suites += [
        Suite(control_id, findings[0].title, (("status", "not in baseline"),), tuple(findings))
        for control_id, findings in strays.items()
    ]
    return suites


def _suite_element(suite: Suite, timestamp: str, meta: ScanMetadata) -> tuple[ET.Element, Counter[str]]:
    name = f"{suite.control_id} {suite.title}".strip()
    element = ET.Element("testsuite", name=xml_text(name, MAX_NAME))
    if timestamp:
        element.set("timestamp", timestamp)
    counts: Counter[str] = Counter()
    if suite.properties:
        properties = ET.SubElement(element, "properties")
        for key, value in suite.properties:
            ET.SubElement(properties, "property", name=key, value=xml_text(value))
    for finding, name in zip(suite.findings, _case_names(suite.findings, meta), strict=True):
        element.append(_case(suite.control_id, name, finding))
        counts["tests"] += 1
        counts[_outcome(finding)] += 1
    _set_counts(element, counts)
    return element, counts


def _case_names(findings: Sequence[Finding], meta: ScanMetadata) -> list[str]:
    """Case names, made unique within the suite by the full id and then by the check where needed."""
    names = [case_name(f, meta) for f in findings]
    names = _disambiguate(names, [f.check_id for f in findings], lambda name, check: f"{name} [{check}]")
    return _disambiguate(names, [f.resource_id for f in findings], lambda name, rid: f"{name} {rid}")


def _disambiguate(names: list[str], extra: list[str], combine: Callable[[str, str], str]) -> list[str]:
    repeated = {name for name, count in Counter(names).items() if count > 1}
    return [combine(name, more) if name in repeated and more else name for name, more in zip(names, extra, strict=True)]


def _case(control_id: str, name: str, finding: Finding) -> ET.Element:
    case = ET.Element("testcase", classname=xml_text(control_id, MAX_NAME), name=xml_text(name, MAX_NAME), time="0")
    message = xml_text(finding.message, MAX_MESSAGE)
    if finding.status is Status.FAIL:
        failure = ET.SubElement(case, "failure", message=message, type=finding.severity.value)
        failure.text = xml_text(_details(finding), MAX_DETAILS)
    elif finding.status is Status.ERROR:
        error = ET.SubElement(case, "error", message=message, type=finding.severity.value)
        error.text = xml_text(_details(finding), MAX_DETAILS)
    elif finding.status in SKIPPED:
        # The status leads the message in capitals, so waived, attested, manual and not-applicable cases read
        # apart in views that show every skipped case alike.
        label = SKIPPED[finding.status].upper()
        ET.SubElement(case, "skipped", message=f"{label}: {message}" if message else label, type=finding.status.value)
    ET.SubElement(ET.SubElement(case, "properties"), "property", name="status", value=finding.status.value)
    return case


def _details(finding: Finding) -> str:
    lines = [finding.message, "", f"resource: {finding.resource_id or '(control as a whole)'}"]
    if finding.resource_type:
        lines.append(f"type: {finding.resource_type}")
    if finding.subscription_id:
        lines.append(f"subscription: {finding.subscription_id}")
    if finding.location is not None:
        where = finding.location
        lines.append(f"file: {where.file}, lines {where.start_line}-{where.end_line}")
    if finding.evidence:
        evidence = json.dumps(json_value(finding.evidence), indent=2, ensure_ascii=False, allow_nan=False)
        lines += ["", "evidence:", evidence]
    if finding.remediation:
        lines += ["", "remediation:", finding.remediation]
    return "\n".join(lines)


def _outcome(finding: Finding) -> str:
    if finding.status is Status.FAIL:
        return "failures"
    if finding.status is Status.ERROR:
        return "errors"
    if finding.status in SKIPPED:
        return "skipped"
    return "passed"


def _set_counts(element: ET.Element, counts: Counter[str]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        element.set(key, str(counts[key]))
    element.set("time", "0")

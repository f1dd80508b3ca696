"""junit.xml: one test suite per control and one test case per finding, for CI test-result views."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from auditor.history.marks import with_age_notes
from auditor.model import Finding, Status
from auditor.reports.evidence import json_value
from auditor.reports.outline import findings_by_control, orphan_findings
from auditor.reports.sarif import framework_tags
from auditor.results import ScanResult

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

# Characters XML 1.0 cannot carry at all, not even as character references; lone surrogates included.
_ILLEGAL_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Suite:
    """A control's identity and its findings, in canonical order."""

    control_id: str
    title: str
    properties: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]


def render(result: ScanResult) -> str:
    """The JUnit XML report as text, with an XML declaration and a final newline."""
    result = with_age_notes(result)
    root = ET.Element("testsuites", name=SUITES_NAME)
    totals: Counter[str] = Counter()
    for suite in _suites(result):
        element, counts = _suite_element(suite)
        root.append(element)
        totals.update(counts)
    _set_counts(root, totals)
    ET.indent(root)
    return DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def xml_text(value: object) -> str:
    """The value as text XML 1.0 can carry: characters it forbids are dropped."""
    return _ILLEGAL_XML.sub("", str(value))


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


def _suite_element(suite: Suite) -> tuple[ET.Element, Counter[str]]:
    name = f"{suite.control_id} {suite.title}".strip()
    element = ET.Element("testsuite", name=xml_text(name))
    counts: Counter[str] = Counter()
    if suite.properties:
        properties = ET.SubElement(element, "properties")
        for key, value in suite.properties:
            ET.SubElement(properties, "property", name=key, value=xml_text(value))
    for finding, case_name in zip(suite.findings, _case_names(suite.findings), strict=True):
        element.append(_case(suite.control_id, case_name, finding))
        counts["tests"] += 1
        counts[_outcome(finding)] += 1
    _set_counts(element, counts)
    return element, counts


def _case_names(findings: Sequence[Finding]) -> list[str]:
    """Resource names, made unique within the suite by the full id and then by the check where needed."""
    names = [f.resource_name or f.subscription_id or f.check_id or f.control_id for f in findings]
    names = _disambiguate(names, [f.resource_id for f in findings], lambda name, rid: rid)
    return _disambiguate(names, [f.check_id for f in findings], lambda name, check: f"{name} [{check}]")


def _disambiguate(names: list[str], extra: list[str], combine: Callable[[str, str], str]) -> list[str]:
    repeated = {name for name, count in Counter(names).items() if count > 1}
    return [combine(name, more) if name in repeated and more else name for name, more in zip(names, extra, strict=True)]


def _case(control_id: str, name: str, finding: Finding) -> ET.Element:
    case = ET.Element("testcase", classname=xml_text(control_id), name=xml_text(name), time="0")
    if finding.status is Status.FAIL:
        failure = ET.SubElement(case, "failure", message=xml_text(finding.message), type=finding.severity.value)
        failure.text = xml_text(_details(finding))
    elif finding.status is Status.ERROR:
        error = ET.SubElement(case, "error", message=xml_text(finding.message), type=finding.severity.value)
        error.text = xml_text(_details(finding))
    elif finding.status in SKIPPED:
        message = f"{SKIPPED[finding.status]}: {finding.message}" if finding.message else SKIPPED[finding.status]
        ET.SubElement(case, "skipped", message=xml_text(message))
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

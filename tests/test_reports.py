"""Reporters: findings.json against its schema, report.html against hostile data, atomic writing."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from auditor.drift import Changes
from auditor.inventory import Collection
from auditor.model import Finding, Severity, SourceLocation, Status
from auditor.reports import REPORTERS, reporter, write_reports
from auditor.reports import html as html_report
from auditor.reports import json as json_report
from auditor.results import ControlSummary, ScanMetadata, ScanResult

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
TEMPLATE = "{{7*7}}"
JS_URL = "javascript:alert(1)"
ATTRIBUTE = '" onmouseover="alert(1)'

SUB = "00000000-0000-0000-0000-000000000001"
NSG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Network/networkSecurityGroups/{IMG}"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv{ATTRIBUTE}"
DISK_ID = f"/subscriptions/{SUB}/resourceGroups/rg-vm/providers/Microsoft.Compute/disks/os-disk"


class Opaque:
    """A value JSON cannot represent, to prove it is written through str()."""

    def __str__(self) -> str:
        return "opaque-value"


def control(
    id: str,
    area: str,
    status: Status,
    counts: dict[str, int],
    *,
    mode: str = "automated",
    severity: Severity = Severity.HIGH,
) -> ControlSummary:
    """A control summary with readable defaults."""
    return ControlSummary(
        id=id,
        title=f"Title of {id}",
        area=area,
        severity=severity,
        mode=mode,
        quote=f"Policy sentence for {id}.",
        description=f"What {id} checks.",
        status=status,
        counts=counts,
        frameworks={"CIS Azure 2.0": ("6.1", "6.2")},
    )


def make_result(*, collections: tuple[Collection, ...] | None = None) -> ScanResult:
    """A scan with findings of several statuses, a failed listing and hostile strings from Azure."""
    metadata = ScanMetadata(
        tool_version="0.1.0",
        started_at="2025-03-01T10:00:00+00:00",
        finished_at="2025-03-01T10:02:30+00:00",
        source="emulator",
        subscriptions=(SUB,),
        baseline_path="baseline.toml",
        baseline_sha256=hashlib.sha256(b"baseline").hexdigest(),
        baseline_name="MUL2 data-handling baseline",
        parameters={"allowed_rdp_sources": ("10.0.0.0/8",), "min_soft_delete_days": 90},
    )
    controls = (
        control("NET-01", "network", Status.FAIL, {"fail": 1, "pass": 1}),
        control("NET-04", "network", Status.ERROR, {"error": 1}),
        control("KV-01", "keys", Status.WAIVED, {"waived": 1}, severity=Severity.MEDIUM),
        control("ENC-01", "encryption", Status.NOT_APPLICABLE, {}),
        control("IR-01", "response", Status.MANUAL, {"manual": 1}, mode="manual", severity=Severity.LOW),
    )
    findings = (
        # Deliberately not in canonical order: reporters must sort.
        Finding(
            control_id="NET-01",
            check_id="network.rdp_exposed",
            title="RDP not reachable from the Internet",
            status=Status.FAIL,
            severity=Severity.HIGH,
            resource_id=NSG_ID,
            resource_type="Microsoft.Network/networkSecurityGroups",
            subscription_id=SUB,
            message=f"rule allow-rdp opens 3389 to * {SCRIPT} {TEMPLATE} {JS_URL}",
            evidence={
                "rule": {"name": IMG, "priority": 100, "ports": ("3389", "3390-3400")},
                "sources": ("*", "Internet"),
                "tags": {"owner": JS_URL, "note": TEMPLATE},
                "opaque": Opaque(),
                "protocols": frozenset({"Udp", "Tcp"}),
            },
            remediation=f"Remove the rule.\n\nAzure CLI: az network nsg rule delete --name {IMG}",
            frameworks={"CIS Azure 2.0": ("6.1",)},
            location=SourceLocation(file="main.tf", start_line=12, end_line=30, address="azurerm_nsg.web"),
        ),
        Finding(
            control_id="KV-01",
            check_id="keyvault.protection",
            title="Key vaults are recoverable",
            status=Status.WAIVED,
            severity=Severity.MEDIUM,
            resource_id=VAULT_ID,
            resource_type="Microsoft.KeyVault/vaults",
            subscription_id=SUB,
            message="purge protection off (waived until 2025-06-30 by secops)",
        ),
        Finding(
            control_id="NET-01",
            check_id="network.rdp_exposed",
            title="RDP not reachable from the Internet",
            status=Status.PASS,
            severity=Severity.HIGH,
            resource_id=f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Network/networkSecurityGroups/nsg-a",
            resource_type="Microsoft.Network/networkSecurityGroups",
            subscription_id=SUB,
            message="no rule opens 3389",
        ),
        Finding(
            control_id="NET-04",
            check_id="network.ports_exposed",
            title="Management ports not reachable from the Internet",
            status=Status.ERROR,
            severity=Severity.HIGH,
            resource_id=f"/subscriptions/{SUB}",
            resource_type="Microsoft.Resources/subscriptions",
            subscription_id=SUB,
            message="networkSecurityGroups not collected: HTTP 403 AuthorizationFailed",
            evidence={"status_code": 403},
        ),
        Finding(
            control_id="IR-01",
            check_id="",
            title="Incident response plan exists",
            status=Status.MANUAL,
            severity=Severity.LOW,
            resource_id=f"/subscriptions/{SUB}",
            resource_type="Microsoft.Resources/subscriptions",
            subscription_id=SUB,
            message="needs an attestation",
        ),
    )
    if collections is None:
        collections = (
            Collection("disks", SUB, f"/subscriptions/{SUB}", ok=True, status_code=200, items=3),
            Collection(
                "networkSecurityGroups",
                SUB,
                f"/subscriptions/{SUB}",
                ok=False,
                status_code=403,
                error_code="AuthorizationFailed",
                reason=f"denied {IMG}",
            ),
        )
    return ScanResult(metadata=metadata, controls=controls, findings=findings, collections=collections)


def findings_document(result: ScanResult) -> dict[str, Any]:
    """findings.json of the result, parsed."""
    parsed: dict[str, Any] = json.loads(json_report.render(result))
    return parsed


# --- findings.json -----------------------------------------------------------------------------


def test_findings_json_validates_against_the_published_schema() -> None:
    schema = json_report.schema()
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(findings_document(make_result())))
    assert errors == []


def test_schema_rejects_what_it_should() -> None:
    validator = Draft202012Validator(json_report.schema())
    document = findings_document(make_result())
    document["findings"][0]["status"] = "passed"
    document["findings"][1]["id"] = "not-a-finding-id"
    document["controls"][0]["surprise"] = True
    messages = sorted(error.message for error in validator.iter_errors(document))
    assert len(messages) == 3
    assert any("'passed' is not one of" in m for m in messages)
    assert any("does not match" in m for m in messages)
    assert any("'surprise' was unexpected" in m for m in messages)


def test_schema_enums_match_the_model() -> None:
    defs = json_report.schema()["$defs"]
    assert defs["status"]["enum"] == [s.value for s in Status]
    assert set(defs["severity"]["enum"]) == {s.value for s in Severity}
    assert defs["statusCounts"]["required"] == [s.value for s in Status]
    assert set(defs["severityCounts"]["required"]) == {s.value for s in Severity}


def test_findings_json_has_the_documented_shape() -> None:
    document = findings_document(make_result())
    assert list(document) == [
        "schema_version",
        "tool",
        "scan",
        "summary",
        "coverage",
        "controls",
        "frameworks",
        "findings",
        "warnings",
    ]
    assert document["schema_version"] == "1.0"
    assert document["tool"] == {"name": "auditor", "version": "0.1.0"}
    assert list(document["scan"]) == [
        "started_at",
        "finished_at",
        "as_of",
        "source",
        "subscriptions",
        "baseline",
        "parameters",
        "weakened_parameters",
        "subscription_names",
        "principal_names",
        "collection",
        "tls_endpoints",
    ]
    assert document["scan"]["parameters"] == {"allowed_rdp_sources": ["10.0.0.0/8"], "min_soft_delete_days": 90}
    assert document["scan"]["collection"] == {"sources": [], "note": ""}
    assert document["summary"]["by_status"] == {
        "pass": 1,
        "fail": 1,
        "error": 1,
        "manual": 1,
        "attested": 0,
        "waived": 1,
        "not_applicable": 0,
    }
    assert document["summary"]["by_severity"] == {"critical": 0, "high": 2, "medium": 0, "low": 0, "info": 0}
    assert document["summary"]["controls"]["not_applicable"] == 1
    assert [c["id"] for c in document["controls"]] == ["NET-01", "NET-04", "KV-01", "ENC-01", "IR-01"]
    assert document["controls"][3]["counts"] == {s.value: 0 for s in Status}
    failed = [c for c in document["coverage"] if not c["ok"]]
    assert failed == [
        {
            "api": "networkSecurityGroups",
            "subscription_id": SUB,
            "scope": f"/subscriptions/{SUB}",
            "ok": False,
            "status_code": 403,
            "error_code": "AuthorizationFailed",
            "reason": f"denied {IMG}",
            "items": 0,
        }
    ]
    assert list(document["findings"][0]) == [
        "id",
        "control_id",
        "check_id",
        "title",
        "status",
        "severity",
        "resource_id",
        "resource_type",
        "resource_name",
        "subscription_id",
        "resource_group",
        "region",
        "tags",
        "message",
        "evidence",
        "remediation",
        "frameworks",
        "location",
    ]


def test_findings_are_sorted_and_ids_match_the_model() -> None:
    result = make_result()
    rendered = findings_document(result)["findings"]
    keys = [(f["control_id"], f["resource_id"], f["check_id"]) for f in rendered]
    assert keys == sorted(keys)
    assert {f["id"]: f["resource_id"] for f in rendered} == {f.id: f.resource_id for f in result.findings}
    assert all(re.fullmatch(r"[0-9a-f]{20}", f["id"]) for f in rendered)


def test_evidence_becomes_json_values() -> None:
    rendered = findings_document(make_result())["findings"]
    exposed = next(f for f in rendered if f["status"] == "fail")
    assert exposed["evidence"] == {
        "rule": {"name": IMG, "priority": 100, "ports": ["3389", "3390-3400"]},
        "sources": ["*", "Internet"],
        "tags": {"owner": JS_URL, "note": TEMPLATE},
        "opaque": "opaque-value",
        "protocols": ["Tcp", "Udp"],
    }
    assert exposed["resource_name"] == IMG
    assert exposed["location"] == {"file": "main.tf", "start_line": 12, "end_line": 30, "address": "azurerm_nsg.web"}
    assert exposed["frameworks"] == {"CIS Azure 2.0": ["6.1"]}
    assert next(f for f in rendered if f["status"] == "pass")["location"] is None


def test_findings_json_is_deterministic_and_independent_of_input_order() -> None:
    result = make_result()
    shuffled = dataclasses.replace(
        result,
        findings=tuple(reversed(result.findings)),
        collections=tuple(reversed(result.collections)),
    )
    first = json_report.render(result)
    assert first == json_report.render(result)
    assert first == json_report.render(shuffled)
    assert first.endswith("}\n")
    assert IMG in first  # ensure_ascii=False and no HTML escaping in JSON
    assert '\n  "tool": {\n    "name"' in first  # indent=2


def test_non_finite_numbers_do_not_produce_invalid_json() -> None:
    result = make_result()
    odd = dataclasses.replace(result.findings[0], evidence={"ratio": float("nan"), "limit": float("inf")})
    text = json_report.render(dataclasses.replace(result, findings=(odd,)))
    assert json.loads(text)["findings"][0]["evidence"] == {"ratio": "nan", "limit": "inf"}
    assert "NaN" not in text


# --- report.html -------------------------------------------------------------------------------


def test_html_is_self_contained() -> None:
    page = html_report.render(make_result())
    lowered = page.lower()
    assert "<script src" not in lowered
    assert "<link" not in lowered
    assert "http://" not in lowered
    assert "https://" not in lowered
    assert "@import" not in lowered
    assert "url(" not in lowered
    assert "<img" not in lowered
    assert "<iframe" not in lowered
    assert "@media print" in page
    # Only internal anchors: every href points into the page itself.
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))


def test_html_escapes_hostile_azure_strings() -> None:
    page = html_report.render(make_result())
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert page.count("<script") == 1  # the report's own filter script
    assert "rule allow-rdp opens 3389 to *" in page
    assert f"{TEMPLATE} {JS_URL}" in page  # shown literally, never evaluated
    assert "49 javascript" not in page
    assert 'href="javascript' not in page
    # Inside an attribute the quote characters are escaped too, so none can close it.
    assert "kv&#34; onmouseover=&#34;alert(1)" in page
    assert ATTRIBUTE not in page


def test_html_shows_every_control_with_its_details() -> None:
    result = make_result()
    page = html_report.render(result)
    for summary in result.controls:
        assert f'<span class="control-id">{summary.id}</span>' in page
        assert f'<blockquote class="quote">{summary.quote}</blockquote>' in page
    assert page.count("No findings for this control.") == 1  # ENC-01
    assert page.count("manual: needs an attestation") == 1  # IR-01
    assert "<details><summary>Remediation</summary>" in page
    assert '<td><dl class="kv"><dt>rule.name<dd>&lt;img src=x onerror=alert(1)&gt;<dt>rule.priority<dd>100<dt>' in page
    # Evidence values are JSON-formatted, then escaped.
    assert "[&#34;*&#34;, &#34;Internet&#34;]" in page
    assert "main.tf, lines 12-30" in page


def test_html_groups_controls_by_area_in_baseline_order() -> None:
    page = html_report.render(make_result())
    headings = re.findall(r"<h3>([^<]*)</h3>", page)
    assert headings == ["network", "keys", "encryption", "response"]
    assert page.index("NET-01</span>") < page.index("NET-04</span>") < page.index("KV-01</span>")


def test_html_coverage_lists_failed_listings_or_says_all_completed() -> None:
    page = html_report.render(make_result())
    assert "1 of 2 listings did not complete" in page
    assert "<td><code>networkSecurityGroups</code></td>" in page
    assert "HTTP 403 <code>AuthorizationFailed</code>" in page
    assert "All listings completed" not in page
    clean = html_report.render(make_result(collections=(Collection("disks", SUB, f"/subscriptions/{SUB}", ok=True),)))
    assert "All listings completed (1)." in clean
    assert "did not complete" not in clean


def test_html_filters_only_toggle_visibility() -> None:
    page = html_report.render(make_result())
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    assert "innerHTML" not in script
    assert "outerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "document.write" not in script
    assert "eval(" not in script
    assert page.count("data-control ") == 5
    assert page.count('<tr data-s="') == 5


def test_html_csp_allows_exactly_the_inline_style_and_script() -> None:
    page = html_report.render(make_result())
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None
    assert "default-src 'none'" in policy.group(1)
    for tag in ("style", "script"):
        body = page.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy.group(1)


def test_html_findings_of_unknown_controls_are_shown_not_dropped() -> None:
    result = make_result()
    stray = dataclasses.replace(result.findings[1], control_id="GONE-01", message="stray finding")
    page = html_report.render(dataclasses.replace(result, findings=(*result.findings, stray)))
    assert "Findings of controls not in the baseline" in page
    assert "stray finding" in page


def test_html_environment_autoescapes_j2_templates() -> None:
    env = html_report.environment()
    assert callable(env.autoescape)
    assert env.autoescape("report.html.j2") is True
    assert env.from_string("{{ value }}").render(value=IMG) == "&lt;img src=x onerror=alert(1)&gt;"


def test_html_is_deterministic() -> None:
    result = make_result()
    assert html_report.render(result) == html_report.render(result)


# --- registry and writing ----------------------------------------------------------------------


def test_registry_names_match_the_modules() -> None:
    assert set(REPORTERS) == {"json", "html", "sarif", "junit", "csv", "markdown"}
    for name, module in REPORTERS.items():
        assert name == module.FORMAT
        assert reporter(name) is module
    assert len({module.FILENAME for module in REPORTERS.values()}) == len(REPORTERS)


def test_write_reports_writes_both_files_and_leaves_no_temporaries(tmp_path: Path) -> None:
    result = make_result()
    out_dir = tmp_path / "audit-report" / "run-1"
    written = write_reports(result, out_dir, ["json", "html"])
    assert written == [out_dir / "findings.json", out_dir / "report.html"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["findings.json", "report.html"]
    assert (out_dir / "findings.json").read_text(encoding="utf-8") == json_report.render(result)
    assert (out_dir / "report.html").read_text(encoding="utf-8") == html_report.render(result)


def test_write_reports_replaces_existing_reports(tmp_path: Path) -> None:
    (tmp_path / "findings.json").write_text("old", encoding="utf-8")
    write_reports(make_result(), tmp_path, ["json", "json"])
    assert json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))["schema_version"] == "1.0"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]


def test_interrupted_write_keeps_the_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "findings.json").write_text("previous run", encoding="utf-8")

    def interrupted(self: Path, target: Path) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_reports(make_result(), tmp_path, ["json"])
    monkeypatch.undo()
    assert (tmp_path / "findings.json").read_text(encoding="utf-8") == "previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]


def test_failing_renderer_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(result: ScanResult, changes: Changes | None = None) -> str:
        raise RuntimeError("template error")

    monkeypatch.setattr(html_report, "render", broken)
    with pytest.raises(RuntimeError, match="template error"):
        write_reports(make_result(), tmp_path / "out", ["json", "html"])
    assert not (tmp_path / "out").exists()


def test_unknown_format_is_rejected_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"unknown report format 'pdf'; known formats: csv, html, json, junit, markdown, sarif"
    ):
        write_reports(make_result(), tmp_path / "out", ["json", "pdf"])
    assert not (tmp_path / "out").exists()

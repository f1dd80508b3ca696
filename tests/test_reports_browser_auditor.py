"""report.html as an auditor uses it in headless Chromium: names instead of ids, the framework view, severity
"at or above", filters in the address bar, and the failures-only and one-page executive prints."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from auditor.model import Finding, Severity, Status
from auditor.reports import html as html_report
from auditor.results import ScanResult
from tests.test_reports_browser import FLAGS, SUB, chromium, load

USER = "03aa3897-fcf4-46b6-986c-39e8c7bb69f6"
UPN = "sam.patel@mul2demo.example"
NSG = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/networkSecurityGroups"


def make(control_id: str, status: Status, severity: Severity, resource_id: str, **evidence: object) -> Finding:
    """A finding of the control on the resource."""
    return Finding(
        control_id=control_id,
        check_id=f"check.{control_id.lower()}",
        title=f"Title of {control_id}",
        status=status,
        severity=severity,
        resource_id=resource_id,
        resource_type="Microsoft.Network/networkSecurityGroups",
        subscription_id=SUB if resource_id.startswith("/subscriptions/") else "",
        message=f"{control_id} {status.value} on {resource_id.rsplit('/', 1)[-1]}",
        evidence=evidence,
        region="eastus" if resource_id.startswith("/subscriptions/") else "",
    )


def auditor_result() -> ScanResult:
    """Findings of every severity over named subscriptions and users, with framework references."""
    from tests.test_reports_browser import control, hostile_result  # noqa: PLC0415 - the shared fixture

    findings = (
        make("NET-01", Status.FAIL, Severity.CRITICAL, f"{NSG}/nsg-critical"),
        make("NET-01", Status.FAIL, Severity.HIGH, f"{NSG}/nsg-high"),
        make("NET-01", Status.FAIL, Severity.MEDIUM, f"{NSG}/nsg-medium"),
        make("NET-01", Status.PASS, Severity.HIGH, f"{NSG}/nsg-pass"),
        make("IAM-01", Status.FAIL, Severity.HIGH, f"/users/{USER}", principal_id=USER),
        make("KV-01", Status.PASS, Severity.HIGH, f"{NSG}/kv-ok"),
    )
    controls = (
        dataclasses.replace(
            control("NET-01", "network", Status.FAIL, {"fail": 3, "pass": 1}),
            title="RDP is not reachable",
            frameworks={"nist_800_53": ("AC-17",), "coppa": ("312.8",)},
        ),
        dataclasses.replace(
            control("IAM-01", "identity", Status.FAIL, {"fail": 1}),
            title="MFA for administrators",
            frameworks={"nist_800_53": ("IA-2",), "ferpa": ("99.31(a)(1)(ii)",)},
        ),
        dataclasses.replace(
            control("KV-01", "keys", Status.PASS, {"pass": 1}),
            title="Key vaults are recoverable",
            frameworks={"nist_800_53": ("SC-12",)},
        ),
    )
    base = hostile_result()
    metadata = dataclasses.replace(
        base.metadata,
        subscriptions=(SUB,),
        baseline_name="MUL2 baseline",
        subscription_names={SUB: "MUL2 Production"},
        principal_names={USER: UPN},
    )
    return ScanResult(metadata=metadata, controls=controls, findings=findings)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("auditor") / "report.html"
    target.write_text(html_report.render(auditor_result()), encoding="utf-8")
    return target


def test_names_replace_ids_and_ids_stay_alongside(page: Path, tmp_path: Path) -> None:
    dom = load(page, tmp_path)
    text = "".join(dom.text)
    cells = ["".join(e.text) for e in dom.find("td")]
    # A user is shown by UPN with the object id under it; a subscription by its name beside its id.
    assert any(cell.startswith(f"{UPN}\n/users/{USER}") for cell in cells)
    pairs = list(zip(["".join(e.text) for e in dom.find("dt")], ["".join(e.text) for e in dom.find("dd")], strict=True))
    assert ("principal_id", f"{USER} ({UPN})") in pairs
    groups = ["".join(e.text) for e in dom.find("span", **{"class": "name"})]
    assert "MUL2 Production" in groups
    assert "over 1 subscription (MUL2 Production)" in text


def test_the_framework_view_rolls_requirements_up_from_their_controls(page: Path, tmp_path: Path) -> None:
    dom = load(page, tmp_path)
    names = ["".join(e.text) for e in dom.find("h3", **{"class": "framework-name"})]
    assert names == [
        "NIST SP 800-53 Revision 5 (5.1.1)",
        "COPPA 16 CFR Part 312 (eCFR, current)",
        "FERPA 34 CFR Part 99 (eCFR, current)",
    ]
    statuses = [
        e.attributes["data-requirement-status"] for e in dom.elements if "data-requirement-status" in e.attributes
    ]
    # NIST: AC-17 (NET-01 fails), IA-2 (IAM-01 fails), SC-12 (KV-01 passes); COPPA 312.8; FERPA 99.31(a)(1)(ii).
    assert statuses == ["fail", "fail", "pass", "fail", "fail"]
    assert "34 CFR § 99.31(a)(1)(ii)" in "".join(dom.text)


def test_the_severity_filter_keeps_that_severity_and_those_above(page: Path, tmp_path: Path) -> None:
    dom = load(page, tmp_path, "#filter?severity=high&status=fail")
    rows = [e for e in dom.elements if e.tag == "tr" and "data-s" in e.attributes]
    shown = [(e.attributes["data-s"], e.attributes.get("data-v", "")) for e in rows if "hidden" not in e.attributes]
    # Critical and high NET-01 (the control is high, so only the critical row names its own severity), high
    # IAM-01; the medium row and the passing ones are hidden.
    assert shown == [("fail", "critical"), ("fail", ""), ("fail", "")]
    assert ("fail", "medium") in [(e.attributes["data-s"], e.attributes.get("data-v", "")) for e in rows]
    options = {
        e.attributes["value"]: "".join(e.text)
        for e in dom.find("option")
        if e.attributes.get("value") in {"critical", "high"}
    }
    assert options == {"critical": "critical", "high": "high and above"}


class DevTools:
    """A headless Chromium page driven over the DevTools protocol (127.0.0.1 only)."""

    def __init__(self, url: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.is_file() or not port_file.read_text().strip():
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited if it is a promise)."""
        return asyncio.run(self._evaluate(expression))

    async def _evaluate(self, expression: str) -> Any:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{self.port}/json/list") as listing:
                targets = await listing.json()
            target = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
                await socket.send_json({"id": 1, "method": "Runtime.evaluate", "params": params})
                while True:
                    message = json.loads((await socket.receive()).data)
                    if message.get("id") == 1:
                        return message["result"]["result"].get("value")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def browser(page: Path, tmp_path: Path) -> Iterator[DevTools]:
    tools = DevTools(page.as_uri(), tmp_path / "profile")
    try:
        deadline = time.monotonic() + 60
        while tools.evaluate("document.documentElement.hasAttribute('data-ready-ms')") is not True:
            if time.monotonic() > deadline:
                raise TimeoutError("the report's script did not finish")
            time.sleep(0.1)
        yield tools
    finally:
        tools.close()


def test_changing_a_filter_updates_the_address_bar_and_clearing_removes_it(browser: DevTools) -> None:
    set_severity = (
        "(() => { const s = document.getElementById('filter-severity'); s.value = 'critical';"
        " s.dispatchEvent(new Event('change')); return location.hash; })()"
    )
    assert browser.evaluate(set_severity) == "#filter?severity=critical"
    typed = (
        "new Promise(done => { const t = document.getElementById('filter-text'); t.value = 'nsg crit';"
        " t.dispatchEvent(new Event('input')); setTimeout(() => done(location.hash), 400); })"
    )
    assert browser.evaluate(typed) == "#filter?severity=critical&text=nsg+crit"
    assert browser.evaluate("document.querySelectorAll('tr[data-s]:not([hidden])').length") == 1
    cleared = "(() => { document.getElementById('filter-clear').click(); return location.hash; })()"
    assert browser.evaluate(cleared) == ""


def pdf_pages(page: Path, tmp_path: Path, fragment: str) -> int:
    """Pages of the report printed to PDF by headless Chromium, laid out as the fragment asks."""
    target = tmp_path / f"print{len(fragment)}.pdf"
    subprocess.run(
        [
            chromium(),
            *FLAGS,
            f"--user-data-dir={tmp_path / 'print-profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            page.as_uri() + fragment,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return len(re.findall(rb"/Type\s*/Page[^s]", target.read_bytes()))


def test_failures_only_and_executive_prints_are_short(tmp_path: Path) -> None:
    many = tuple(
        make("NET-01", Status.PASS if n % 4 else Status.FAIL, Severity.HIGH, f"{NSG}/nsg-{n:03d}") for n in range(240)
    )
    result = dataclasses.replace(auditor_result(), findings=(*auditor_result().findings, *many))
    report = tmp_path / "report.html"
    report.write_text(html_report.render(result), encoding="utf-8")
    everything = pdf_pages(report, tmp_path, "")
    failures = pdf_pages(report, tmp_path, "#print=failures")
    executive = pdf_pages(report, tmp_path, "#print=executive")
    assert executive == 1
    assert failures < everything / 2
    dom = load(report, tmp_path, "#print=failures")
    assert dom.find("html")[0].attributes["data-print"] == "failures"

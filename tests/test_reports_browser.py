"""report.html: hostile strings from Azure stay inert text in headless Chromium, the filters work there, and
the sections an auditor reads say what they should."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from auditor.inventory import Collection
from auditor.model import Finding, Severity, Status
from auditor.reports import html as html_report
from auditor.results import ControlSummary, ScanMetadata, ScanResult, posture_score

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Each payload, if it ever ran, would leave a mark the DOM dump shows: a changed title, or a marker
# attribute on <body> naming which payload got through.
MARK = "document.title='PWNED';document.body.setAttribute('data-pwned','{0}')"
IMG = f'<img src=x onerror="{MARK.format("img")}">'
SCRIPT = f"</script><script>{MARK.format('script')}</script>"
SVG = f'"><svg onload="{MARK.format("svg")}">'
ATTRIBUTE = f"' onmouseover='{MARK.format('attribute')}' x='"
STYLE = "</style><style>body{display:none}</style>"
JS_URL = f"javascript:{MARK.format('link')}"
TEMPLATE = "{{7*7}}"
COMMENT = "--><!--"
PAYLOADS = (IMG, SCRIPT, SVG, ATTRIBUTE, STYLE, JS_URL, TEMPLATE, COMMENT)

SUB = "00000000-0000-0000-0000-0000000000aa"
OTHER_SUB = "00000000-0000-0000-0000-0000000000bb"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-{SCRIPT}/providers"
BASELINE_NAME = f"Baseline {SCRIPT} {IMG}"
HOSTILE_CONTROL = f"NET-01{SVG}"


def chromium() -> str:
    """The Chromium binary; skips without one, except in CI where the browser tests must run."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not installed, and CI must run the browser tests")
        pytest.skip("chromium not installed")
    return found


def finding(control_id: str, status: Status, resource_id: str, message: str, **evidence: object) -> Finding:
    """A finding of one control on one resource, severity high."""
    return Finding(
        control_id=control_id,
        check_id=f"check.{control_id.lower()}",
        title=f"Title of {control_id} {IMG}",
        status=status,
        severity=Severity.HIGH,
        resource_id=resource_id,
        resource_type="Microsoft.Network/networkSecurityGroups",
        subscription_id=resource_id.split("/")[2] if resource_id.startswith("/subscriptions/") else "",
        message=message,
        evidence=evidence,
        remediation=f"Remove the rule {IMG} {JS_URL}",
    )


def control(
    control_id: str, area: str, status: Status, counts: dict[str, int], mode: str = "automated"
) -> ControlSummary:
    """A control whose every string carries payloads."""
    return ControlSummary(
        id=control_id,
        title=f"Title {SVG} {ATTRIBUTE}",
        area=area,
        severity=Severity.HIGH,
        mode=mode,
        quote=f"Policy sentence {SCRIPT} {TEMPLATE}",
        description=f"Description {IMG} {STYLE} {COMMENT}",
        status=status,
        counts=counts,
        frameworks={f"framework {IMG}": (JS_URL,)},
    )


def hostile_result() -> ScanResult:
    """A scan in which every string a reporter shows holds a payload."""
    nsg = f"{GROUP}/Microsoft.Network/networkSecurityGroups/{IMG}"
    findings = (
        finding(
            HOSTILE_CONTROL,
            Status.FAIL,
            nsg,
            f"allow-rdp opens 3389 {SCRIPT} {TEMPLATE}",
            rule={"name": IMG, "description": SVG, "ports": [ATTRIBUTE]},
            tags={"owner": JS_URL, "note": TEMPLATE, STYLE: COMMENT},
            link=JS_URL,
        ),
        finding(
            HOSTILE_CONTROL, Status.PASS, f"{GROUP}/Microsoft.Network/networkSecurityGroups/nsg-a", "no rule opens 3389"
        ),
        finding(
            "KV-01",
            Status.WAIVED,
            f"/subscriptions/{OTHER_SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv{ATTRIBUTE}",
            f"Waived {SVG}",
            waiver={"owner": IMG, "reason": SCRIPT, "expires": "2025-03-10", "resource": JS_URL},
            waived_status="fail",
        ),
        finding(
            "IR-01",
            Status.ATTESTED,
            f"/subscriptions/{SUB}",
            f"Attested {IMG}",
            attestation={"attested_by": SVG, "date": "2025-01-01", "evidence": JS_URL, "expires": "2025-12-31"},
        ),
        finding(f"GONE{SCRIPT}", Status.ERROR, f"iac://main.tf/{IMG}", f"stray {ATTRIBUTE}"),
    )
    controls = (
        control(HOSTILE_CONTROL, f"network {IMG}", Status.FAIL, {"fail": 1, "pass": 1}),
        control("KV-01", f"keys {SCRIPT}", Status.WAIVED, {"waived": 1}),
        control("IR-01", f"response {ATTRIBUTE}", Status.ATTESTED, {"attested": 1}, mode="manual"),
    )
    metadata = ScanMetadata(
        tool_version=f"0.1.0 {IMG}",
        started_at="2025-03-01T10:00:00+00:00",
        finished_at="2025-03-01T10:02:30+00:00",
        source=f"emulator {SVG}",
        subscriptions=(SUB, OTHER_SUB),
        baseline_path=f"baseline{SCRIPT}.toml",
        baseline_sha256="ab" * 32,
        baseline_name=BASELINE_NAME,
        parameters={f"param {IMG}": [SCRIPT, JS_URL], "days": 90},
        as_of="2025-03-01T10:02:30+00:00",
    )
    collections = (
        Collection(
            f"networkSecurityGroups{IMG}", SUB, f"/subscriptions/{SUB}", ok=False, status_code=403, reason=SCRIPT
        ),
    )
    return ScanResult(
        metadata=metadata,
        controls=controls,
        findings=findings,
        collections=collections,
        warnings=(f"waiver {IMG} matches nothing",),
    )


@dataclass
class Element:
    """One element of the dumped DOM."""

    tag: str
    attributes: dict[str, str]
    text: list[str] = field(default_factory=list)


class DomDump(HTMLParser):
    """The elements of a serialised DOM with the text directly inside each, and all text in order."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag not in {"meta", "br", "input", "img", "link", "hr"}:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.open:
            self.open[-1].text.append(data)

    def find(self, tag: str, **attributes: str) -> list[Element]:
        """Elements of the tag having each attribute with the value given."""
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attributes.get(name.replace("_", "-")) == v for name, v in attributes.items())
        ]


def load(page: Path, tmp_path: Path, fragment: str = "") -> DomDump:
    """The DOM of the page after Chromium loaded it and ran its script, parsed."""
    completed = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri() + fragment],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return DomDump(completed.stdout)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile report written to a file."""
    page = tmp_path_factory.mktemp("report") / "report.html"
    page.write_text(html_report.render(hostile_result()), encoding="utf-8")
    return page


def test_hostile_strings_are_inert_text_in_a_browser(report: Path, tmp_path: Path) -> None:
    dom = load(report, tmp_path)
    root = dom.find("html")[0]
    # The report's own script ran (so the checks below are not passing merely because nothing ran).
    assert "data-ready-ms" in root.attributes
    assert "hidden" not in dom.find("div", id="filters")[0].attributes
    # No payload executed.
    assert "".join(dom.find("title")[0].text) == f"Security posture report: {BASELINE_NAME}"
    assert all("data-pwned" not in e.attributes for e in dom.elements)
    # No payload became markup: no images, no handlers, no links out, only the page's own script and style.
    assert dom.find("img") == []
    assert [e.tag for e in dom.elements].count("script") == 1
    assert [e.tag for e in dom.elements].count("style") == 1
    assert [e.tag for e in dom.elements].count("svg") == 1  # the summary chart
    assert all(not name.startswith("on") for e in dom.elements for name in e.attributes)
    assert all(e.attributes.get("href", "#").startswith("#") for e in dom.elements)
    assert all(e.attributes.get("src") is None for e in dom.elements)
    # Every payload is shown literally as text, in the body and in finding rows, never evaluated.
    text = "".join(dom.text)
    for payload in PAYLOADS:
        assert payload in text, payload
    assert dom.find("blockquote")[0].text == [f"Policy sentence {SCRIPT} {TEMPLATE}"]
    pairs = list(zip(["".join(e.text) for e in dom.find("dt")], ["".join(e.text) for e in dom.find("dd")], strict=True))
    assert ("rule.name", IMG) in pairs
    assert ("tags.owner", JS_URL) in pairs
    # Values that hostile strings reach inside attributes come back whole, so no quote closed one early.
    assert [e.attributes["data-id"] for e in dom.find("article")] == [
        HOSTILE_CONTROL,
        "KV-01",
        "IR-01",
        f"GONE{SCRIPT}",
    ]
    assert {e.attributes["value"] for e in dom.find("option")} >= {HOSTILE_CONTROL, f"GONE{SCRIPT}"}
    assert {e.attributes.get("label") for e in dom.find("optgroup")} >= {f"network {IMG}", f"keys {SCRIPT}"}


def test_filters_from_the_address_hide_rows_and_show_typed_text_as_text(report: Path, tmp_path: Path) -> None:
    typed = f"allow-rdp {IMG}"
    dom = load(report, tmp_path, "#filter?status=fail&text=" + quote(typed))
    assert "data-filter-ms" in dom.find("html")[0].attributes
    rows = [e for e in dom.elements if e.tag == "tr" and "data-s" in e.attributes]
    assert len(rows) == 5
    shown = [e.attributes["data-s"] for e in rows if "hidden" not in e.attributes]
    assert shown == ["fail"]
    # Controls and areas without a matching finding are hidden; the one left is open to show its row.
    visible = [e.attributes["data-id"] for e in dom.find("article") if "hidden" not in e.attributes]
    assert visible == [HOSTILE_CONTROL]
    areas = [e for e in dom.elements if "data-area" in e.attributes]
    assert ["hidden" in e.attributes for e in areas] == [False, True, True, True]
    assert "open" in dom.find("details", data_findings="")[0].attributes
    # The filter words, payload included, are echoed only as text.
    note = "".join(dom.find("p", id="filter-note")[0].text)
    assert IMG.lower() in note
    assert dom.find("img") == []
    assert all("data-pwned" not in e.attributes for e in dom.elements)


def test_filter_by_subscription_keeps_only_its_rows(report: Path, tmp_path: Path) -> None:
    dom = load(report, tmp_path, "#filter?subscription=" + OTHER_SUB)
    rows = [e for e in dom.elements if e.tag == "tr" and "data-s" in e.attributes and "hidden" not in e.attributes]
    assert [e.attributes["data-s"] for e in rows] == ["waived"]
    assert "1 of 5 findings shown" in "".join(dom.find("output", id="filter-count")[0].text)


# --- the sections an auditor reads, checked in the rendered text (no browser needed) ---------------


def scored(status: Status, severity: Severity) -> Finding:
    """A finding of the given status and severity on a fresh resource."""
    resource = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/disks/d-{status}-{severity}"
    return dataclasses.replace(finding("ENC-01", status, resource, "m"), severity=severity)


def test_posture_score_weighs_automated_verdicts_by_severity() -> None:
    findings = [
        scored(Status.PASS, Severity.CRITICAL),  # 5 of 5
        scored(Status.FAIL, Severity.HIGH),  # 0 of 4
        scored(Status.ERROR, Severity.INFO),  # 0 of 1
        scored(Status.PASS, Severity.LOW),  # 2 of 2
        scored(Status.WAIVED, Severity.CRITICAL),  # left out, as are the three below
        scored(Status.MANUAL, Severity.HIGH),
        scored(Status.ATTESTED, Severity.HIGH),
        scored(Status.NOT_APPLICABLE, Severity.HIGH),
    ]
    score = posture_score(findings)
    assert (score.earned, score.possible) == (7, 12)
    assert score.percent == pytest.approx(58.333, abs=0.001)
    assert posture_score([scored(Status.WAIVED, Severity.HIGH)]).percent is None
    page = html_report.render(dataclasses.replace(hostile_result(), findings=tuple(findings)))
    assert '<p class="score-value">58.3%</p>' in page
    assert "7 of 12 weighted points" in page
    assert "critical 5, high 4, medium 3, low 2, info 1" in page
    assert "whose status is pass, fail, error" in page


def test_waivers_ending_within_thirty_days_of_the_scan_are_highlighted_first() -> None:
    base = hostile_result()
    waived = base.findings[2]

    def waiver(expires: str, name: str) -> Finding:
        evidence = {
            **waived.evidence,
            "waiver": {"owner": "secops", "reason": "r", "expires": expires, "resource": "*"},
        }
        return dataclasses.replace(waived, resource_id=waived.resource_id + name, evidence=evidence)

    expired = dataclasses.replace(
        base.findings[0],
        resource_id=base.findings[0].resource_id + "-old",
        evidence={"expired_waiver": {"owner": "netops", "reason": "old", "expires": "2025-02-01", "resource": "*"}},
    )
    later, soon = waiver("2025-04-01", "-later"), waiver("2025-03-31", "-soon")
    page = html_report.render(dataclasses.replace(base, findings=(later, soon, expired)))
    section = page.split('<section id="waivers">', 1)[1].split("</section>", 1)[0]
    assert "1 ending within 30 days of the scan (2025-03-01)" in section
    rows = section.split("<tr")[2:]
    assert 'class="soon"' in rows[0] and "-soon</td>" in rows[0] and "2025-03-31\n30 days after the scan" in rows[0]
    assert 'class="soon"' not in rows[1] and "-later</td>" in rows[1] and "31 days after the scan" in rows[1]
    assert "Waivers that have ended" in section
    assert "netops" in rows[3] and "ended 28 days before the scan" in rows[3]
    assert "1 waiver ends within 30 days of the scan" in page  # the summary points to them


def test_manual_section_lists_attestations_and_what_awaits_one() -> None:
    base = hostile_result()
    waiting = dataclasses.replace(
        base.findings[3], status=Status.MANUAL, evidence={}, resource_id="", message="Needs an attestation"
    )
    page = html_report.render(dataclasses.replace(base, findings=(base.findings[3], waiting)))
    section = page.split('<section id="manual">', 1)[1].split("</section>", 1)[0]
    assert "2 findings: 1 attested, 1 awaiting an attestation" in section
    attested = html_escape(SVG)
    assert f"<td>attested</td><td>{attested}</td><td>2025-01-01</td><td>{html_escape(JS_URL)}</td>" in section
    assert "<td>2025-12-31\n305 days after the scan</td>" in section
    assert "<td>manual\nNeeds an attestation</td><td>not attested</td>" in section


def test_rows_of_one_subscription_share_a_header_that_completes_their_ids() -> None:
    page = html_report.render(hostile_result())
    header = f'<tr class="group" data-g data-u="0"><th colspan="4">/subscriptions/{SUB} '
    assert page.count(header) == 2  # one per control with findings in the subscription
    rest = html_escape(f"/resourceGroups/rg-{SCRIPT}/providers/Microsoft.Network/networkSecurityGroups/nsg-a")
    assert f"<td>nsg-a\n{rest}<td>" in page
    # An id that names no subscription is shown whole, and filtered through its row.
    assert f"<td>{html_escape(IMG)}\niac://main.tf/{html_escape(IMG)}<td>" in page


def test_evidence_lines_cannot_be_forged_by_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    forged = dataclasses.replace(
        hostile_result().findings[1], evidence={"tag": "x\nstatus_code: 200", "count": "12", "plain": "a: b"}
    )
    result = dataclasses.replace(hostile_result(), findings=(forged,))
    page = html_report.render(result)
    assert "<dt>tag<dd>&#34;x\\nstatus_code: 200&#34;<dt>count<dd>&#34;12&#34;<dt>plain<dd>a: b</dl>" in page
    # A large report writes evidence as lines, where the same values cannot pass for further lines.
    monkeypatch.setattr(html_report, "OPEN_TABLES_LIMIT", 0)
    page = html_report.render(result)
    assert "<td>tag: &#34;x\\nstatus_code: 200&#34;\ncount: &#34;12&#34;\nplain: a: b" in page


def test_large_reports_start_with_tables_collapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    result = hostile_result()
    assert page_details(html_report.render(result)) == ["open"] * 4
    monkeypatch.setattr(html_report, "OPEN_TABLES_LIMIT", len(result.findings) - 1)
    assert page_details(html_report.render(result)) == ["closed"] * 4


def test_filters_offer_every_status_severity_control_and_subscription() -> None:
    page = html_report.render(hostile_result())
    bar = page.split('<div id="filters"', 1)[1].split("</div>", 1)[0]
    for value in [s.value for s in Status] + [s.value for s in Severity] + ["KV-01", "IR-01", "0", "1"]:
        assert f'<option value="{value}">' in bar
    assert f'<option value="1">{OTHER_SUB}</option>' in bar
    assert 'id="filter-text"' in bar


def test_scan_metadata_lists_scope_baseline_and_parameters() -> None:
    page = html_report.render(hostile_result())
    section = page.split('<section id="scan">', 1)[1].split("</section>", 1)[0]
    assert f"<dd><code>baseline{html_escape(SCRIPT)}.toml</code></dd>" in section
    assert f"<dd><code>{'ab' * 32}</code></dd>" in section
    assert "<dd><time>2025-03-01T10:02:30+00:00</time></dd>" in section
    assert f"<li><code>{OTHER_SUB}</code></li>" in section
    assert "<tr><td><code>days</code></td><td><code>90</code></td></tr>" in section


def page_details(page: str) -> list[str]:
    """Whether each control's findings table starts open."""
    return [
        "open" if " open>" in tag else "closed" for tag in re.findall(r"<details class=\"findings-list\"[^>]*>", page)
    ]


def html_escape(text: str) -> str:
    """The text as autoescape writes it."""
    return escape(text).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")

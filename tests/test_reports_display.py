"""Names that would display as other names are shown visibly in every human-facing format, kept exact in
findings.json, and every length that reaches a bounded format is cut with a marker."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import xml.etree.ElementTree as ET

import pytest

from auditor.inventory import Collection
from auditor.model import Finding, Severity, Status
from auditor.reports import csv as csv_report
from auditor.reports import html as html_report
from auditor.reports import json as json_report
from auditor.reports import junit as junit_report
from auditor.reports import markdown as markdown_report
from auditor.reports import sarif as sarif_report
from auditor.reports.display import BIDI_CONTROLS, human_text, spreadsheet_cell, truncated, visible_bidi
from auditor.results import ScanResult
from auditor.terminal import printable
from tests.test_reports import SUB, make_result

# Every bidi control the neutralising covers, as Unicode names them.
BIDI = {
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u061c": "ARABIC LETTER MARK",
}
# "nsg-prod" followed by an override that makes "exe.txt" read as "txt.exe" in a viewer that obeys it.
SPOOF = "nsg-\u202etxt.exe\u202c-\u2066prod\u2069"
SHOWN = "nsg-<U+202E>txt.exe<U+202C>-<U+2066>prod<U+2069>"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/networkSecurityGroups"


def spoofing_result(name: str = SPOOF, message: str = f"rule opens 3389 on {SPOOF}") -> ScanResult:
    """The shared fixture with one failing finding whose resource name and message carry bidi controls."""
    finding = Finding(
        control_id="NET-01",
        check_id="network.rdp",
        title="Title of NET-01",
        status=Status.FAIL,
        severity=Severity.HIGH,
        resource_id=f"{RG}/{name}",
        resource_type="Microsoft.Network/networkSecurityGroups",
        subscription_id=SUB,
        message=message,
        evidence={"rule": SPOOF},
    )
    base = make_result()
    return dataclasses.replace(base, findings=(finding,), warnings=(f"waiver for {SPOOF} matches nothing",))


def test_the_covered_characters_are_exactly_the_bidi_controls() -> None:
    assert set(BIDI) == BIDI_CONTROLS
    for char in BIDI:
        assert visible_bidi(f"a{char}b") == f"a<U+{ord(char):04X}>b"
    assert visible_bidi("plain ü 名前") == "plain ü 名前"
    assert visible_bidi("lone \ud800") == "lone \ufffd"


def test_html_shows_bidi_controls_and_carries_none() -> None:
    page = html_report.render(spoofing_result())
    assert html.escape(SHOWN, quote=False) in page
    assert not set(page) & BIDI_CONTROLS


def test_csv_shows_bidi_controls_and_carries_none() -> None:
    text = csv_report.render(spoofing_result())
    assert not set(text) & BIDI_CONTROLS
    header, row = list(csv.reader(io.StringIO(text[1:], newline="")))
    record = dict(zip(header, row, strict=True))
    assert record["resource_name"] == SHOWN
    assert record["evidence"] == f'rule: "{SHOWN}"'  # a value with format characters keeps its JSON form


def test_junit_shows_bidi_controls_and_carries_none() -> None:
    text = junit_report.render(spoofing_result())
    assert not set(text) & BIDI_CONTROLS
    case = next(ET.fromstring(text.encode("utf-8")).iter("testcase"))  # noqa: S314 - the reporter's own output
    assert case.get("name") == f"NET-01 {SHOWN} (rg-app, {SUB})"


def test_sarif_messages_show_bidi_controls_while_the_resource_id_stays_exact() -> None:
    document = json.loads(sarif_report.render(spoofing_result()))
    (result,) = document["runs"][0]["results"]
    assert SHOWN in result["message"]["text"]
    assert not set(result["message"]["text"]) & BIDI_CONTROLS
    assert result["properties"]["resourceId"].endswith(SPOOF)  # machine data, for exact matching
    notes = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes if n["level"] == "warning"] == [f"waiver for {SHOWN} matches nothing"]


def test_markdown_and_terminal_show_bidi_controls() -> None:
    summary = markdown_report.render(spoofing_result())
    assert not set(summary) & BIDI_CONTROLS
    assert f"`{SHOWN}`" in summary  # the resource, as a code span
    assert printable(SPOOF) == SHOWN


def test_findings_json_keeps_the_exact_value() -> None:
    document = json.loads(json_report.render(spoofing_result()))
    (finding,) = document["findings"]
    assert finding["resource_name"] == SPOOF
    assert finding["evidence"] == {"rule": SPOOF}


def test_the_summary_stays_under_githubs_limit_whatever_the_estate_holds() -> None:
    huge = "n" * (1 << 20)
    findings = tuple(
        dataclasses.replace(spoofing_result(name=f"{huge}{n}", message=huge).findings[0]) for n in range(60)
    )
    failed = tuple(
        Collection(f"api{n}", SUB, f"/subscriptions/{SUB}/{huge}", ok=False, status_code=500, reason=huge)
        for n in range(30)
    )
    result = dataclasses.replace(
        spoofing_result(), findings=findings, collections=failed, warnings=tuple(huge for _ in range(30))
    )
    summary = markdown_report.render(result)
    assert len(summary) < 65_536
    assert "more characters]" in summary
    assert "...and 20 more" in summary  # the listings beyond the first ten are counted, not shown


def test_bounded_texts_end_with_a_marker_saying_how_much_was_cut() -> None:
    assert truncated("short", 10) == "short"
    cut = truncated("x" * 1000, 100)
    assert len(cut) <= 100
    assert cut.endswith("more characters]")
    kept = len(cut) - len(cut.lstrip("x"))
    assert cut == "x" * kept + f"\u2026 [{1000 - kept:,} more characters]"
    assert human_text(SPOOF * 1000, 50).startswith("nsg-<U+202E>")
    sarif = json.loads(sarif_report.render(spoofing_result(message="m" * 100_000)))
    assert len(sarif["runs"][0]["results"][0]["message"]["text"]) <= sarif_report.MAX_MESSAGE


@pytest.mark.parametrize(
    "value",
    ["=1+1", " =1", "\n=1", "\r\n@x", "\t-1", "\uff1d1", "\uff0b1", "\uff0d1", "\uff20x", "  \uff1dHYPERLINK()"],
)
def test_spreadsheet_cells_starting_a_formula_get_an_apostrophe(value: str) -> None:
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["1+1", "a=b", "x@y", "", "   ", "名前"])
def test_other_spreadsheet_cells_are_left_alone(value: str) -> None:
    assert spreadsheet_cell(value) == value

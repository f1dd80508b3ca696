"""Compliance framework views: catalogues complete, roll-ups in the documented order, each format showing them."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.model import Status
from auditor.reports import csv as csv_report
from auditor.reports import frameworks
from auditor.reports import json as json_report
from auditor.reports import markdown as markdown_report
from auditor.results import ControlSummary, ScanResult
from tests.test_reports import make_result

LAWS = ("ferpa", "sopipa", "coppa")


def control(control_id: str, status: Status, refs: dict[str, tuple[str, ...]]) -> ControlSummary:
    """A control summary with a status and framework references, the rest left plain."""
    return ControlSummary(
        id=control_id,
        title=f"Title of {control_id}",
        area="network",
        severity=make_result().controls[0].severity,
        mode="automated",
        quote="",
        description="",
        status=status,
        counts={},
        frameworks=refs,
    )


def with_controls(*controls: ControlSummary) -> ScanResult:
    return dataclasses.replace(make_result(), controls=controls, findings=())


def test_every_reference_of_the_shipped_baseline_is_in_its_catalogue() -> None:
    baseline = load_baseline(default_baseline_path(), builtin_registry())
    assert set(frameworks.shipped_keys()) == {"nist_800_53", "cis_azure", *LAWS}
    for item in baseline.controls:
        for key, refs in item.frameworks.items():
            catalogue = frameworks.catalogue(key)
            assert catalogue.version, key
            for ref in refs:
                if key == "cis_azure":
                    # CIS titles are licensed text: recommendations are named by their v2.0.0 number.
                    assert all(part.isdigit() for part in ref.split(".")), (item.id, ref)
                else:
                    assert catalogue.title(ref), (item.id, key, ref)


def test_the_laws_map_only_to_the_provisions_that_ask_for_the_safeguard() -> None:
    baseline = load_baseline(default_baseline_path(), builtin_registry())
    mapped = {key: {ref for c in baseline.controls for ref in c.frameworks.get(key, ())} for key in LAWS}
    assert mapped == {
        "ferpa": {"99.31(a)(1)(ii)", "99.33(a)", "99.10"},
        "sopipa": {"22584(d)(1)", "22584(d)(2)"},
        "coppa": {"312.8", "312.10"},
    }
    by_id = {c.id: c for c in baseline.controls}
    assert by_id["IAM-02"].frameworks["ferpa"] == ("99.31(a)(1)(ii)",)
    assert by_id["DATA-01"].frameworks["coppa"] == ("312.10",)
    assert "ferpa" not in by_id["NET-01"].frameworks  # FERPA asks for access limits, not network rules
    assert frameworks.catalogue("coppa").cite("312.8") == "16 CFR § 312.8"
    assert frameworks.catalogue("sopipa").cite("22584(d)(1)") == "Cal. Bus. & Prof. Code § 22584(d)(1)"
    assert frameworks.catalogue("ferpa").cite("99.31(a)(1)(ii)") == "34 CFR § 99.31(a)(1)(ii)"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ((Status.PASS, Status.FAIL, Status.MANUAL), Status.FAIL),
        ((Status.PASS, Status.ERROR, Status.MANUAL), Status.ERROR),
        ((Status.PASS, Status.MANUAL, Status.ATTESTED), Status.MANUAL),
        ((Status.ATTESTED, Status.PASS), Status.PASS),
        ((Status.ATTESTED, Status.WAIVED), Status.ATTESTED),
        ((Status.WAIVED, Status.NOT_APPLICABLE), Status.WAIVED),
        ((Status.NOT_APPLICABLE,), Status.NOT_APPLICABLE),
    ],
)
def test_a_requirement_rolls_up_its_controls_in_the_documented_order(
    statuses: tuple[Status, ...], expected: Status
) -> None:
    controls = [control(f"C-{n}", s, {"coppa": ("312.8",)}) for n, s in enumerate(statuses)]
    (requirement,) = frameworks.view(controls, "coppa").requirements
    assert requirement.status is expected
    assert [c.id for c in requirement.controls] == [c.id for c in controls]


def test_a_failing_control_fails_every_requirement_it_maps_to_and_no_other() -> None:
    failing = control("NET-01", Status.FAIL, {"nist_800_53": ("AC-17", "SC-7"), "coppa": ("312.8",)})
    passing = control("KV-01", Status.PASS, {"nist_800_53": ("SC-12", "SC-7")})
    result = with_controls(failing, passing)
    nist = next(v for v in frameworks.views(result) if v.framework.key == "nist_800_53")
    statuses = {r.id: r.status for r in nist.requirements}
    assert statuses == {"AC-17": Status.FAIL, "SC-7": Status.FAIL, "SC-12": Status.PASS}
    assert [r.id for r in nist.requirements] == ["AC-17", "SC-7", "SC-12"]  # catalogue order
    assert nist.counts()["fail"] == 2


def test_framework_csv_files_one_per_framework_with_status_and_controls() -> None:
    failing = control("NET-01", Status.FAIL, {"nist_800_53": ("AC-17(2)",), "coppa": ("312.8",)})
    result = with_controls(failing)
    files = dict(csv_report.companions(result))
    assert list(files) == ["framework-nist_800_53.csv", "framework-coppa.csv"]
    rows = list(csv.reader(io.StringIO(files["framework-coppa.csv"][1:], newline="")))
    assert rows[0] == list(csv_report.FRAMEWORK_COLUMNS)
    assert rows[1][:6] == [
        "312.8",
        frameworks.catalogue("coppa").title("312.8"),
        "16 CFR § 312.8",
        "fail",
        "NET-01",
        "NET-01: fail",
    ]
    nist = list(csv.reader(io.StringIO(files["framework-nist_800_53.csv"][1:], newline="")))
    assert nist[1][6].endswith("element=AC-17")


def test_findings_json_and_summary_show_the_framework_view() -> None:
    failing = control("NET-01", Status.FAIL, {"sopipa": ("22584(d)(1)",)})
    attested = control("DATA-01", Status.ATTESTED, {"sopipa": ("22584(d)(2)",)})
    result = with_controls(failing, attested)
    (view,) = json.loads(json_report.render(result))["frameworks"]
    assert view["key"] == "sopipa"
    assert [(r["id"], r["status"]) for r in view["requirements"]] == [
        ("22584(d)(1)", "fail"),
        ("22584(d)(2)", "attested"),
    ]
    summary = markdown_report.render(result)
    assert "## Compliance frameworks" in summary
    assert "Cal. Bus. \\& Prof. Code § 22584(d)(1)" in summary

"""Attestations and waivers: in force, expired, not matching, and malformed files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from auditor.attestations import load_attestations
from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import main
from auditor.decision_files import EntryFileError
from auditor.evaluate import evaluate
from auditor.model import Finding, Status
from auditor.results import ScanResult
from auditor.waivers import load_waivers
from tests.builders import make_inventory, make_nsg, make_rule
from tests.test_baseline import MINIMAL
from tests.test_evaluate import EXTRA_CONTROLS

TODAY = date.today()
PAST = TODAY - timedelta(days=10)
FUTURE = TODAY + timedelta(days=30)
CONTROLS = ("NET-01", "KV-01", "ORG-01")
OPEN_NSG = make_nsg("nsg-open", (make_rule(sources=("*",)),))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_with(tmp_path: Path, *, attestations: str = "", waivers: str = "") -> ScanResult:
    registry = builtin_registry()
    baseline = load_baseline(write(tmp_path, "baseline.toml", MINIMAL + EXTRA_CONTROLS), registry)
    return evaluate(
        make_inventory(network_security_groups=[OPEN_NSG]),
        baseline,
        registry,
        baseline.resolve_params(),
        attestations=load_attestations(write(tmp_path, "a.toml", attestations), CONTROLS) if attestations else (),
        waivers=load_waivers(write(tmp_path, "w.toml", waivers), CONTROLS) if waivers else (),
    )


def finding(result: ScanResult, control: str) -> Finding:
    (only,) = [f for f in result.findings if f.control_id == control and f.resource_id in {"", OPEN_NSG.id}]
    return only


def attestation(expires: date, attested: date = PAST) -> str:
    return f"""
[[attestation]]
control = "ORG-01"
attested_by = "Dana Reyes, CISO"
date = {attested.isoformat()}
evidence = "SharePoint: Security/Agreements/2026-signed.pdf"
expires = {expires.isoformat()}
"""


def waiver(expires: date, resource: str = "*/networkSecurityGroups/NSG-OPEN") -> str:
    return f"""
[[waiver]]
control = "NET-01"
resource = "{resource}"
reason = "Vendor migration window; RDP closes with the cut-over"
owner = "platform-team@mul2.example.com"
expires = {expires.isoformat()}
"""


def test_attestation_in_force_makes_a_manual_control_attested(tmp_path: Path) -> None:
    result = run_with(tmp_path, attestations=attestation(FUTURE))
    attested = finding(result, "ORG-01")
    assert attested.status is Status.ATTESTED
    assert "Dana Reyes" in attested.message and FUTURE.isoformat() in attested.message
    assert attested.evidence["attestation"]["evidence"] == "SharePoint: Security/Agreements/2026-signed.pdf"
    assert {c.id: c.status for c in result.controls}["ORG-01"] is Status.ATTESTED


def test_expired_attestation_leaves_the_control_manual_and_says_when(tmp_path: Path) -> None:
    expired_on = TODAY - timedelta(days=1)
    result = run_with(tmp_path, attestations=attestation(expired_on, attested=TODAY - timedelta(days=400)))
    manual = finding(result, "ORG-01")
    assert manual.status is Status.MANUAL
    assert f"attestation expired on {expired_on.isoformat()}" in manual.message


def test_attestation_dated_in_the_future_is_not_yet_in_force(tmp_path: Path) -> None:
    result = run_with(tmp_path, attestations=attestation(FUTURE + timedelta(days=1), attested=FUTURE))
    assert finding(result, "ORG-01").status is Status.MANUAL
    assert "not yet in force" in finding(result, "ORG-01").message


def test_attestation_expiring_today_is_still_in_force(tmp_path: Path) -> None:
    assert finding(run_with(tmp_path, attestations=attestation(TODAY)), "ORG-01").status is Status.ATTESTED


def test_waiver_in_force_waives_the_matching_failure_case_insensitively(tmp_path: Path) -> None:
    result = run_with(tmp_path, waivers=waiver(FUTURE))
    waived = finding(result, "NET-01")
    assert waived.status is Status.WAIVED
    assert "Vendor migration window" in waived.message and "platform-team@mul2.example.com" in waived.message
    assert waived.evidence["waived_status"] == "fail"
    assert not waived.gates
    assert result.warnings == ()


def test_expired_waiver_no_longer_applies_and_the_finding_says_so(tmp_path: Path) -> None:
    result = run_with(tmp_path, waivers=waiver(PAST))
    failing = finding(result, "NET-01")
    assert failing.status is Status.FAIL
    assert f"waiver expired on {PAST.isoformat()}" in failing.message
    assert failing.gates


def test_waiver_matching_nothing_is_a_warning(tmp_path: Path) -> None:
    result = run_with(tmp_path, waivers=waiver(FUTURE, resource="/subscriptions/*/nothing-like-this"))
    assert finding(result, "NET-01").status is Status.FAIL
    assert result.warnings == (
        "waiver for NET-01 on /subscriptions/*/nothing-like-this (owner platform-team@mul2.example.com) "
        "matches no failing finding",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (waiver(FUTURE).replace('owner = "platform-team@mul2.example.com"\n', ""), "entry 1: field 'owner': required"),
        (waiver(FUTURE).replace(f"expires = {FUTURE.isoformat()}\n", ""), "entry 1: field 'expires': required"),
        (
            waiver(FUTURE).replace(f"expires = {FUTURE.isoformat()}", 'expires = "soon"'),
            "field 'expires': expected a date",
        ),
        (
            waiver(FUTURE).replace('control = "NET-01"', 'control = "NET-99"'),
            "field 'control': 'NET-99' is not a control",
        ),
        (waiver(FUTURE) + 'colour = "red"\n', "field 'colour': unknown field"),
        (waiver(FUTURE) + waiver(FUTURE).replace("reason = ", "reason = 3 #"), "entry 2: field 'reason'"),
        ("[[waiver]\n", "TOML syntax error"),
        ('[[waivers]]\ncontrol = "NET-01"\n', "unknown top-level key 'waivers'"),
    ],
)
def test_malformed_waiver_files_name_file_entry_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "waivers.toml", text)
    with pytest.raises(EntryFileError) as caught:
        load_waivers(path, CONTROLS)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_attestation_expiring_before_its_date_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", attestation(PAST, attested=TODAY))
    with pytest.raises(EntryFileError, match=r"field 'expires'.*before the attestation date"):
        load_attestations(path, CONTROLS)


def test_cli_rejects_a_malformed_waiver_file_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "w.toml", waiver(FUTURE).replace('reason = "Vendor', 'reason = ""  # "'))
    assert main(["demo", "--out", str(tmp_path / "out"), "--waivers", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "entry 1: field 'reason'" in err
    assert not (tmp_path / "out").exists()


def test_shipped_examples_load_against_the_shipped_baseline() -> None:
    examples = Path(__file__).parent.parent / "examples"
    ids = [c.id for c in load_baseline(default_baseline_path(), builtin_registry()).controls]
    assert len(load_attestations(examples / "attestations.toml", ids)) == 3
    assert len(load_waivers(examples / "waivers.toml", ids)) == 2

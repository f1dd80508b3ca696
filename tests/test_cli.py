"""The command line end to end: demo, scan against the local endpoint, evaluate, exit codes, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import main
from auditor.emulator import Emulator, Estate, demo_estate_path, load_estate
from tests import estates as e
from tests.harness import AUDITED_REQUESTS


def run(*args: str) -> int:
    """Run the CLI in-process."""
    return main(list(args))


def findings(out: Path) -> dict[str, Any]:
    """The findings document of a report folder."""
    document: dict[str, Any] = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return document


def test_demo_writes_reports_covering_every_control(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("demo", "--out", str(tmp_path)) == 0
    printed = capsys.readouterr().out
    assert str(tmp_path / "report.html") in printed and str(tmp_path / "findings.json") in printed
    document = findings(tmp_path)
    baseline_ids = [c["id"] for c in document["controls"]]
    shipped = load_baseline(default_baseline_path(), builtin_registry())
    assert baseline_ids == [c.id for c in shipped.controls]
    by_control: dict[str, set[str]] = {}
    for finding in document["findings"]:
        by_control.setdefault(finding["control_id"], set()).add(finding["status"])
    for control in ("NET-01", "ENC-01", "KV-01"):
        assert {"pass", "fail"} <= by_control[control], control
    assert (tmp_path / "report.html").read_text(encoding="utf-8").lower().startswith("<!doctype html>")


def test_evaluate_reproduces_the_demo_findings_offline(tmp_path: Path) -> None:
    live, offline = tmp_path / "live", tmp_path / "offline"
    assert run("demo", "--out", str(live)) == 0
    assert run("evaluate", str(live / "inventory.json"), "--out", str(offline), "--fail-on", "critical") == 1

    def comparable(out: Path) -> list[dict[str, Any]]:
        return findings(out)["findings"]  # type: ignore[no-any-return]

    assert comparable(live) == comparable(offline)
    assert findings(live)["controls"] == findings(offline)["controls"]


def test_param_override_changes_the_verdict(tmp_path: Path) -> None:
    assert run("demo", "--out", str(tmp_path / "a")) == 0
    assert run("demo", "--out", str(tmp_path / "b"), "--param", "allowed_rdp_sources=0.0.0.0/1,128.0.0.0/1") == 0
    nsg_fail = [
        len(
            [
                f
                for f in findings(tmp_path / x)["findings"]
                if f["check_id"] == "nsg_rdp_exposure" and f["status"] == "fail"
            ]
        )
        for x in ("a", "b")
    ]
    assert nsg_fail[0] > 0
    # With every IPv4 address whitelisted only IPv6 sources ("*", "Internet") can still fail: the rules with
    # IPv4 public sources no longer do.
    assert nsg_fail[1] < nsg_fail[0]
    assert findings(tmp_path / "b")["scan"]["parameters"]["allowed_rdp_sources"] == ["0.0.0.0/1", "128.0.0.0/1"]


def test_scan_against_the_endpoint_gates_on_severity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    estate = load_estate(demo_estate_path())
    with Emulator(estate) as endpoint:
        monkeypatch.setenv("AUDITOR_BEARER_TOKEN", endpoint.token)
        common = ["scan", "--all-subscriptions", "--arm-endpoint", endpoint.url, "--ca-bundle", str(endpoint.ca_file)]
        gated = run(*common, "--out", str(tmp_path / "gated"), "--snapshot", str(tmp_path / "inv.json"))
        AUDITED_REQUESTS.extend(endpoint.requests)
    assert gated == 1
    assert (tmp_path / "inv.json").is_file()
    document = findings(tmp_path / "gated")
    assert {s for s in document["scan"]["subscriptions"]} == {s.subscription_id for s in estate.subscriptions}


ADMIN_ID = "7d3c1f0e-2b4a-4c8e-9f61-0a5b3d2e1c47"
ADMIN_UPN = "admin@clean.onmicrosoft.com"
# A tenant whose one Global Administrator is MFA-registered and where security defaults enforce MFA.
CLEAN_TENANT: dict[str, Any] = {
    "/policies/identitySecurityDefaultsEnforcementPolicy": {
        "id": "00000000-0000-0000-0000-000000000005",
        "displayName": "Security Defaults",
        "isEnabled": True,
    },
    "/identity/conditionalAccess/policies": [],
    "/roleManagement/directory/roleAssignments": [
        {
            "id": "clean-global-admin",
            "principalId": ADMIN_ID,
            "resourceScope": "/",
            "directoryScopeId": "/",
            "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
        }
    ],
    # Microsoft marks Global Administrator privileged (unifiedRoleDefinition.isPrivileged); nobody is PIM-eligible.
    "/roleManagement/directory/roleDefinitions": [
        {
            "id": "62e90394-69f5-4237-9190-012177145e10",
            "displayName": "Global Administrator",
            "isBuiltIn": True,
            "isEnabled": True,
            "isPrivileged": True,
            "templateId": "62e90394-69f5-4237-9190-012177145e10",
        }
    ],
    "/roleManagement/directory/roleEligibilityScheduleInstances": [],
    "/reports/authenticationMethods/userRegistrationDetails": [
        {
            "id": ADMIN_ID,
            "userPrincipalName": ADMIN_UPN,
            "userDisplayName": "Clean Admin",
            "userType": "member",
            "isAdmin": True,
            "isMfaRegistered": True,
            "isMfaCapable": True,
            "methodsRegistered": ["microsoftAuthenticatorPush"],
        }
    ],
    "/users": [
        {
            "id": ADMIN_ID,
            "displayName": "Clean Admin",
            "userPrincipalName": ADMIN_UPN,
            "userType": "Member",
            "accountEnabled": True,
        }
    ],
}


def test_scan_of_a_clean_estate_exits_zero_at_its_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = e.estate(e.vault("kv-clean"), e.nsg("nsg-clean"), graph=CLEAN_TENANT)

    with Emulator(Estate.from_dict(clean, source="clean")) as endpoint:
        monkeypatch.setenv("AUDITOR_BEARER_TOKEN", endpoint.token)
        code = run(
            "scan",
            "--subscription",
            e.SUB,
            "--arm-endpoint",
            endpoint.url,
            "--ca-bundle",
            str(endpoint.ca_file),
            "--out",
            str(tmp_path),
            "--fail-on",
            "critical",
        )
        AUDITED_REQUESTS.extend(endpoint.requests)
    statuses = {(f["control_id"], f["status"]) for f in findings(tmp_path)["findings"]}
    assert ("KV-01", "pass") in statuses and ("NET-01", "pass") in statuses and ("IAM-01", "pass") in statuses
    critical = {(f["check_id"], f["status"]) for f in findings(tmp_path)["findings"] if f["severity"] == "critical"}
    assert {status for _, status in critical} <= {"pass", "not_applicable"}, critical
    assert code == 0


def test_the_clean_estate_gates_once_a_critical_fact_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = {k: v for k, v in CLEAN_TENANT.items() if k != "/policies/identitySecurityDefaultsEnforcementPolicy"}
    clean = e.estate(e.vault("kv-clean"), e.nsg("nsg-clean"), graph=tenant)
    with Emulator(Estate.from_dict(clean, source="clean")) as endpoint:
        monkeypatch.setenv("AUDITOR_BEARER_TOKEN", endpoint.token)
        code = run(
            "scan",
            "--subscription",
            e.SUB,
            "--arm-endpoint",
            endpoint.url,
            "--ca-bundle",
            str(endpoint.ca_file),
            "--out",
            str(tmp_path),
            "--fail-on",
            "critical",
        )
        AUDITED_REQUESTS.extend(endpoint.requests)
    statuses = {(f["check_id"], f["status"]) for f in findings(tmp_path)["findings"]}
    assert ("management_mfa_enforced", "error") in statuses
    assert code == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "invalid JSON at line 1"),
        ('{"subscriptions": [], "resources": [{"name": "x"}], "graph": {}}', "resources[0]"),
    ],
)
def test_malformed_estate_exits_2_naming_file_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    estate = tmp_path / "estate.json"
    estate.write_text(content, encoding="utf-8")
    assert run("demo", "--estate", str(estate), "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert str(estate) in err and expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_malformed_baseline_exits_2_naming_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text("[baseline\nname = 1\n", encoding="utf-8")
    assert run("demo", "--baseline", str(baseline), "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert str(baseline) in err and "line 1" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--param", "nope=1"], "unknown parameter"),
        (["--param", "allowed_rdp_sources"], "expected NAME=VALUE"),
        (["--param", "min_soft_delete_days=ninety"], "expected an integer"),
        (["--format", "pdf"], "unknown format 'pdf'"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    assert run("demo", "--out", str(tmp_path), *args) == 2
    assert expected in capsys.readouterr().err


def test_unreadable_snapshot_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = tmp_path / "inventory.json"
    snapshot.write_text('{"format": "something-else"}', encoding="utf-8")
    assert run("evaluate", str(snapshot), "--out", str(tmp_path / "out")) == 2
    assert "not an inventory snapshot" in capsys.readouterr().err


def test_usage_error_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("scan") == 2
    err = capsys.readouterr().err
    assert err == (
        "auditor: error: one of the arguments --subscription --all-subscriptions is required "
        "(see auditor scan --help)\n"
    )


@pytest.mark.skipif(
    shutil.which("auditor") is None and not Path(sys.executable).with_name("auditor").exists(),
    reason="console script not installed",
)
def test_console_script_runs_the_demo(tmp_path: Path) -> None:
    script = shutil.which("auditor") or str(Path(sys.executable).with_name("auditor"))
    completed = subprocess.run(
        [script, "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "wrote" in completed.stdout

"""The scheduled-scan walkthrough of the README, end to end: two demo runs with one resource fixed and one
broken in between give first-seen dates, an overdue mark, a trend chart and one notification naming only the
new finding, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import email
import email.policy
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from auditor.cli import main
from auditor.emulator import demo_estate_path
from auditor.model import finding_id
from auditor.reports import json as json_report
from tests.history_support import MailReceiver, WebhookReceiver, mail_server, store_location, webhook

__all__ = ["mail_server", "store_location", "webhook"]

# The estate's own clock moves on eight days: past the 7-day SLA of critical findings, within the others.
DAY_TWO = "2026-12-06T12:00:00Z"
# The demo's TLS sites listen on fresh ports each run, and backups age with the estate's clock: both are
# pinned so the two runs differ only by the two resources changed in between.
STEADY = ["--param", "max_backup_age_hours=240"]
# The demo probes no TLS endpoint (its local sites listen on fresh ports each run); an evaluation probes nothing.
DEMO_STEADY = ["--tls-endpoint=", *STEADY]
BROKEN_VAULT = "kv-mul2-prod-keys"
FIXED_VAULT = "kv-mul2-stg-disk"


def day_two_estate(path: Path) -> Path:
    """The demo estate eight days later: one key vault fixed, another one broken."""
    estate = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    estate["asOf"] = DAY_TWO
    for resource in estate["resources"]:
        properties = resource.get("properties", {})
        if resource.get("name") == FIXED_VAULT:
            properties.update(publicNetworkAccess="Disabled", enableRbacAuthorization=True)
            properties["networkAcls"]["defaultAction"] = "Deny"
        if resource.get("name") == BROKEN_VAULT:
            properties["enablePurgeProtection"] = False
    path.write_text(json.dumps(estate), encoding="utf-8")
    return path


def findings(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return loaded


def vault_finding(name: str, document: dict[str, Any]) -> dict[str, Any]:
    (match,) = [f for f in document["findings"] if f["control_id"] == "KV-01" and f["resource_name"] == name]
    assert isinstance(match, dict)
    return match


def test_two_scheduled_runs_age_findings_trend_and_notify_only_the_new_one(
    tmp_path: Path,
    store_location: str,
    webhook: WebhookReceiver,
    mail_server: MailReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notify = ["--notify", f"webhook:{webhook.url}", "--notify", "email:secops@example.org"]
    formats = ["--format", "html,json,csv,sarif,junit,markdown"]
    first, second = tmp_path / "run1", tmp_path / "run2"
    assert main(["demo", "--out", str(first), "--history", store_location, *DEMO_STEADY, *notify, *formats, "-q"]) == 0
    estate = day_two_estate(tmp_path / "estate-day2.json")
    args = ["demo", "--estate", str(estate), "--out", str(second), "--history", store_location]
    assert main([*args, *DEMO_STEADY, *notify, *formats]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "warning" not in captured.err
    assert "notified webhook:https://127.0.0.1" in printed
    assert "secret-signature" not in printed

    # First-seen dates and days open in every finding; the critical ones are past their 7-day SLA.
    day_one, day_two = findings(first), findings(second)
    # The history's additions are part of the published findings.json schema.
    jsonschema.validate(day_two, json_report.schema())
    assert all(f["age"]["first_seen"] == "2026-11-28T12:00:00Z" for f in day_one["findings"])
    broken = vault_finding(BROKEN_VAULT, day_two)
    assert broken["status"] == "fail"
    assert (broken["age"]["first_seen"], broken["age"]["open_since"], broken["age"]["days_open"]) == (
        "2026-11-28T12:00:00Z",
        DAY_TWO,
        0,
    )
    assert vault_finding(FIXED_VAULT, day_two)["age"]["open_since"] is None
    overdue = [f for f in day_two["findings"] if f["age"]["overdue"]]
    assert overdue
    assert {f["severity"] for f in overdue} == {"critical"}
    assert all(f["age"]["days_open"] == 8 and f["age"]["due"] == "2026-12-05" for f in overdue)
    assert day_two["summary"]["overdue"]["critical"] == len(overdue)
    assert day_two["history"]["previous_scan_id"] == day_one["history"]["scan_id"]
    # --compare defaulted to the previous scan of the same scope in the history.
    changed = {c["id"] for c in day_two["changes"]["changed"]}
    assert changed == {broken["id"], vault_finding(FIXED_VAULT, day_two)["id"]}
    assert day_two["changes"]["new"] == []

    # One notification per target for run two, naming only the new finding.
    assert len(webhook.bodies) == 2
    assert [item["id"] for item in webhook.bodies[1]["new_findings"]] == [broken["id"]]
    assert len(mail_server.messages) == 2
    content = mail_server.messages[1].content
    assert isinstance(content, bytes)
    mail = email.message_from_bytes(content, policy=email.policy.default)
    assert str(mail["Subject"]).strip().startswith("1 new finding(s) at or above high")
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert BROKEN_VAULT in body
    assert body.count("\n- [") == 1

    # Every format marks the overdue findings and says when findings were first seen.
    html = (second / "report.html").read_text(encoding="utf-8")
    assert '<section id="trend">' in html
    assert html.count("<svg") >= 4
    assert "<polyline" in html
    assert "OVERDUE: first seen 2026-11-28, open 8 days, SLA 7 days ended 2026-12-05" in html
    with (second / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["overdue"] for row in rows} == {"yes", "no"}
    assert all(row["first_seen"] for row in rows)
    sarif = json.loads((second / "findings.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert any(r["properties"]["overdue"] for r in results)
    assert all(r["properties"]["firstSeen"] for r in results)
    assert "OVERDUE" in (second / "junit.xml").read_text(encoding="utf-8")
    assert f"**{len(overdue)} overdue**" in (second / "summary.md").read_text(encoding="utf-8")

    # A third run with nothing changed sends nothing.
    third = tmp_path / "run3"
    assert (
        main(["demo", "--estate", str(estate), "--out", str(third), "--history", store_location, *DEMO_STEADY, *notify])
        == 0
    )
    assert "no notification sent" in capsys.readouterr().out
    assert len(webhook.bodies) == 2

    # The history command reads what the runs recorded.
    assert main(["history", "--history", store_location, "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("subscriptions:") == 3
    assert main(["history", "--history", store_location, "trend", "--control", "KV-01"]) == 0
    trend = capsys.readouterr().out.splitlines()
    assert trend[0].startswith("trend of KV-01")
    assert [line.split()[3:6] for line in trend[2:5]] == [["2", "0", "2"], ["1", "1", "2"], ["0", "0", "2"]]
    assert main(["history", "--history", store_location, "show", str(day_two["history"]["scan_id"])]) == 0
    shown = capsys.readouterr().out
    assert f"KV-01     since {DAY_TWO}" in shown
    assert f"vaults/{FIXED_VAULT}\n" not in shown
    assert main(["history", "--history", store_location, "export", "--format", "csv"]) == 0
    exported = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert {row["finding_id"] for row in exported} >= {broken["id"]}
    assert main(["history", "--history", store_location, "export", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [scan["id"] for scan in document["scans"]] == [1, 2, 3]


def test_overdue_gate_and_required_notifications(
    tmp_path: Path, webhook: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "history.db")
    first, second = tmp_path / "run1", tmp_path / "run2"
    assert main(["demo", "--out", str(first), "--history", store, *DEMO_STEADY, "-q"]) == 0
    estate = day_two_estate(tmp_path / "estate-day2.json")
    assert main(["demo", "--estate", str(estate), "--out", str(second), "--history", store, *DEMO_STEADY, "-q"]) == 0
    inventory = str(second / "inventory.json")
    # Nothing new since the last scan, but criticals are past their SLA: the overdue gate alone says 1.
    gate = ["evaluate", inventory, "--history", store, "--out", str(tmp_path / "gate"), "--fail-on-new", "high"]
    assert main([*gate, "--fail-on-overdue", "critical", *STEADY]) == 1
    assert "past their SLA: exit 1" in capsys.readouterr().out
    assert main([*gate, "--fail-on-overdue", "critical", *STEADY, "--param", "sla_critical_days=30"]) == 0

    webhook.status = 503
    failing = ["--notify", f"teams:{webhook.url}", "--notify-digest"]
    out = tmp_path / "notified"
    assert (
        main(["evaluate", inventory, "--history", store, "--out", str(out), "--fail-on-new", "high", *STEADY, *failing])
        == 0
    )
    captured = capsys.readouterr()
    assert "warning: notification to teams:https://127.0.0.1" in captured.err
    assert "failed: HTTP 503" in captured.err
    assert "secret-signature" not in captured.err + captured.out
    document = findings(out)
    jsonschema.validate(document, json_report.schema())
    assert [(n["ok"], n["detail"]) for n in document["notifications"]] == [(False, "HTTP 503")]
    assert "secret-signature" not in (out / "findings.json").read_text(encoding="utf-8")
    required = [*failing, "--notify-required"]
    assert (
        main(
            ["evaluate", inventory, "--history", store, "--out", str(out), "--fail-on-new", "high", *STEADY, *required]
        )
        == 3
    )
    # A failed delivery changes no finding: the same findings as without notifications.
    assert [f["id"] for f in findings(out)["findings"]] == [f["id"] for f in findings(second)["findings"]]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--fail-on-overdue", "high"], "--fail-on-overdue needs --history"),
        (["--history", "mysql://db/x"], "unsupported scheme 'mysql'"),
        (["--notify", "webhook:http://example.org/x"], "expected an https:// URL"),
        (["--history", "{tmp}/missing/h.db"], "does not exist"),
    ],
)
def test_bad_history_options_exit_2_before_collection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    snapshot = tmp_path / "never-read.json"
    filled = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["evaluate", str(snapshot), "--out", str(tmp_path / "out"), *filled]) == 2
    assert expected in capsys.readouterr().err


def test_history_command_needs_a_store(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_HISTORY", raising=False)
    assert main(["history", "list"]) == 2
    assert "needs --history" in capsys.readouterr().err


def test_finding_ids_of_the_walkthrough_are_stable() -> None:
    vault = (
        "/subscriptions/3f8c2a71-5d4e-4b9a-8c6f-1e2d7a9b0c43/resourceGroups/rg-mul2-prod-data/providers/"
        "Microsoft.KeyVault/vaults/kv-mul2-prod-keys"
    )
    assert finding_id("KV-01", "key_vault_protection", vault) == "fd94d6d7b63900c4d4e8"

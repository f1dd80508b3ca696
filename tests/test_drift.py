"""Drift between scans: compare, findings.json loading, `auditor diff`, --compare and --fail-on-new."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from auditor.cli import main
from auditor.drift import (
    READABLE_SCHEMA_VERSIONS,
    DriftError,
    FindingState,
    ScanFindings,
    compare,
    load_findings,
    scan_findings,
)
from auditor.model import Finding, Severity, Status, finding_id
from auditor.reports import json as json_report
from auditor.snapshot import save_snapshot
from tests.builders import make_inventory, make_nsg, make_rule

SUB = "00000000-0000-0000-0000-000000000001"
ESC = "\x1b]0;owned\x07\x1b[2J"


def state(name: str, status: Status, severity: Severity = Severity.HIGH, control: str = "NET-01") -> FindingState:
    """A finding state for a resource named name."""
    resource = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/{name}"
    return FindingState(finding_id(control, "check", resource), control, "title", status, severity, resource)


def scan(*states: FindingState, path: str = "scan.json") -> ScanFindings:
    """A scan holding the given states."""
    return ScanFindings(path, "2026-01-01T00:00:00+00:00", {s.id: s for s in states})


def run(*args: str) -> int:
    """The CLI in-process."""
    return main(list(args))


def document(folder: Path) -> dict[str, Any]:
    """The findings.json of a report folder."""
    loaded: dict[str, Any] = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    return loaded


def open_nsg_id(folder: Path) -> str:
    """Id of the NET-01 finding on nsg-open."""
    (found,) = [
        f["id"]
        for f in document(folder)["findings"]
        if f["control_id"] == "NET-01" and f["resource_name"] == "nsg-open"
    ]
    return str(found)


def changed_ids(old: Path, new: Path) -> set[str]:
    """Ids whose status or severity differs between two report folders."""
    before = {f["id"]: (f["status"], f["severity"]) for f in document(old)["findings"]}
    return {
        f["id"]
        for f in document(new)["findings"]
        if before.get(f["id"], (f["status"], f["severity"])) != (f["status"], f["severity"])
    }


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inventory with an NSG open for RDP to 198.51.100.0/24 (fails NET-01 unless allowed) and a closed one."""
    inventory = make_inventory(
        network_security_groups=(
            make_nsg("nsg-open", (make_rule("rdp", sources=("198.51.100.0/24",)),)),
            make_nsg("nsg-closed"),
        )
    )
    path = tmp_path_factory.mktemp("snapshot") / "inventory.json"
    save_snapshot(inventory, path)
    return path


# --- compare ----------------------------------------------------------------------------------------


def test_compare_sorts_findings_into_new_resolved_changed_and_unchanged() -> None:
    kept, flipped, raised = state("kept", Status.PASS), state("flipped", Status.PASS), state("raised", Status.FAIL)
    gone, added = state("gone", Status.FAIL), state("added", Status.FAIL)
    previous = scan(kept, flipped, raised, gone, path="old/findings.json")
    current = scan(
        kept,
        state("flipped", Status.FAIL),
        state("raised", Status.FAIL, Severity.CRITICAL),
        added,
    )
    changes = compare(previous, current)
    assert [s.id for s in changes.new] == [added.id]
    assert [s.id for s in changes.resolved] == [gone.id]
    assert {c.id: (c.before.status, c.after.status) for c in changes.changed} == {
        flipped.id: (Status.PASS, Status.FAIL),
        raised.id: (Status.FAIL, Status.FAIL),
    }
    assert changes.unchanged == 1
    assert changes.counts() == {"new": 1, "resolved": 1, "changed": 2, "unchanged": 1}
    assert changes.previous_path == "old/findings.json"


def test_lists_put_the_most_severe_first() -> None:
    low, critical = state("a", Status.FAIL, Severity.LOW), state("b", Status.FAIL, Severity.CRITICAL)
    changes = compare(scan(), scan(low, critical))
    assert [s.severity for s in changes.new] == [Severity.CRITICAL, Severity.LOW]


def test_newly_gating_counts_new_failures_and_regressions_only() -> None:
    previous = scan(
        state("still-failing", Status.FAIL),
        state("was-passing", Status.PASS),
        state("was-medium", Status.FAIL, Severity.MEDIUM),
        state("was-error", Status.ERROR),
    )
    current = scan(
        state("still-failing", Status.FAIL),
        state("was-passing", Status.FAIL),
        state("was-medium", Status.FAIL, Severity.HIGH),
        state("was-error", Status.FAIL),
        state("new-failing", Status.FAIL),
        state("new-passing", Status.PASS),
        state("new-low", Status.FAIL, Severity.LOW),
        state("new-error", Status.ERROR, Severity.CRITICAL),
    )
    gated = {s.resource_name for s in compare(previous, current).newly_gating(Severity.HIGH)}
    assert gated == {"was-passing", "was-medium", "new-failing", "new-error"}


def test_findings_sharing_an_id_merge_into_the_worst_verdict() -> None:
    resource = f"/subscriptions/{SUB}"
    findings = [
        Finding("NET-01", "check", "t", Status.PASS, Severity.LOW, resource, "", SUB, "m"),
        Finding("NET-01", "check", "t", Status.ERROR, Severity.HIGH, resource, "", SUB, "m"),
    ]
    (merged,) = scan_findings("x", "t", findings).states.values()
    assert (merged.status, merged.severity) == (Status.ERROR, Severity.HIGH)


# --- loading findings.json --------------------------------------------------------------------------


def test_the_reporter_writes_a_version_this_module_reads() -> None:
    assert json_report.SCHEMA_VERSION in READABLE_SCHEMA_VERSIONS


def test_load_accepts_a_report_folder_or_the_file(snapshot: Path, tmp_path: Path) -> None:
    run("evaluate", str(snapshot), "--out", str(tmp_path), "--format", "json", "--quiet")
    from_folder, from_file = load_findings(tmp_path), load_findings(tmp_path / "findings.json")
    assert from_folder.states == from_file.states
    assert from_folder.path == str(tmp_path / "findings.json")
    names = {s.resource_name: s.status for s in from_file.states.values() if s.control_id == "NET-01"}
    assert names["nsg-open"] is Status.FAIL and names["nsg-closed"] is Status.PASS


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "invalid JSON at line 1 column 2"),
        ("[]", "not a findings document"),
        ('{"schema_version": "9.9", "scan": {"finished_at": "t"}, "findings": []}', "schema_version '9.9'"),
        ('{"scan": {"finished_at": "t"}, "findings": []}', "schema_version None"),
        ('{"schema_version": "1.0", "findings": []}', "scan.finished_at: expected a string"),
        ('{"schema_version": "1.0", "scan": {"finished_at": "t"}, "findings": {}}', "findings: expected a list"),
        (
            '{"schema_version": "1.0", "scan": {"finished_at": "t"}, "findings": [{"id": "x"}]}',
            "findings[0].control_id: expected a string",
        ),
    ],
)
def test_load_names_the_file_and_the_reason(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "findings.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DriftError) as caught:
        load_findings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in str(caught.value)


def test_load_rejects_an_unknown_status(snapshot: Path, tmp_path: Path) -> None:
    run("evaluate", str(snapshot), "--out", str(tmp_path), "--format", "json", "--quiet")
    data = document(tmp_path)
    data["findings"][3]["status"] = "fine"
    (tmp_path / "findings.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DriftError, match=r"findings\[3\]\.status: 'fine' is not one of pass, fail"):
        load_findings(tmp_path)


# --- auditor diff -----------------------------------------------------------------------------------


@pytest.fixture
def two_scans(snapshot: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The snapshot judged twice: by default, then with the NSG's source allowed (nsg-open passes)."""
    old, new = tmp_path / "old", tmp_path / "new"
    run("evaluate", str(snapshot), "--out", str(old), "--format", "json", "--quiet")
    allowed = "allowed_rdp_sources=198.51.100.0/24"
    run("evaluate", str(snapshot), "--out", str(new), "--format", "json", "--param", allowed, "--quiet")
    return old, new


def test_diff_prints_counts_and_the_changed_finding(
    two_scans: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = two_scans
    assert run("diff", str(old), str(new)) == 0
    out = capsys.readouterr().out
    assert f"0 new, 0 resolved, {len(changed_ids(old, new))} changed" in out
    (line,) = [line for line in out.splitlines() if open_nsg_id(old) in line]
    assert line.split() == ["critical", "fail", "->", "pass", "NET-01", "nsg-open", open_nsg_id(old)]
    assert "\x1b" not in out


def test_diff_json_is_the_changes_object_with_the_current_scan(
    two_scans: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = two_scans
    assert run("diff", str(new / "findings.json"), str(old), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["previous", "current", "new", "resolved", "changed", "unchanged"]
    assert data["previous"]["path"] == str(new / "findings.json")
    assert data["current"] == {"path": str(old / "findings.json"), "finished_at": "2026-01-01T00:00:01+00:00"}
    changed = {c["id"]: c for c in data["changed"]}
    assert set(changed) == changed_ids(old, new)
    assert changed[open_nsg_id(old)] == {
        "id": open_nsg_id(old),
        "from": {"status": "pass", "severity": "critical"},
        "to": {"status": "fail", "severity": "critical"},
    }
    assert data["new"] == data["resolved"] == []
    assert data["unchanged"] == len(document(old)["findings"]) - len(changed)


def test_diff_shows_hostile_names_without_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base: dict[str, Any] = {"schema_version": "1.0", "scan": {"finished_at": "t"}}
    resource = f"/subscriptions/{SUB}/resourceGroups/rg/providers/X/y/name{ESC}"
    finding = {
        "id": finding_id("NET-01", "c", resource),
        "control_id": f"NET-01{ESC}",
        "title": "t",
        "status": "fail",
        "severity": "high",
        "resource_id": resource,
    }
    (tmp_path / "a.json").write_text(json.dumps(base | {"findings": []}), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(base | {"findings": [finding]}), encoding="utf-8")
    assert run("diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "name?]0;owned??[2J" in out


@pytest.mark.parametrize("broken", ["missing", "invalid", "version"])
def test_diff_exits_2_naming_the_bad_input(
    two_scans: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    old, _ = two_scans
    bad = tmp_path / "bad.json"
    if broken == "invalid":
        bad.write_text("{", encoding="utf-8")
    elif broken == "version":
        bad.write_text(json.dumps(document(old) | {"schema_version": "0.1"}), encoding="utf-8")
    assert run("diff", str(old), str(bad)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"auditor: error: {bad}: ")
    assert err.count("\n") == 1


# --- --compare and --fail-on-new --------------------------------------------------------------------


def test_compare_adds_a_valid_changes_section(two_scans: tuple[Path, Path], snapshot: Path, tmp_path: Path) -> None:
    old, _ = two_scans
    out = tmp_path / "compared"
    allowed = "allowed_rdp_sources=198.51.100.0/24"
    code = run("evaluate", str(snapshot), "--out", str(out), "--param", allowed, "--compare", str(old), "--quiet")
    assert code == 1  # other controls still gate at high; --compare alone changes no exit code
    data = document(out)
    Draft202012Validator(json_report.schema()).validate(data)
    changes = data["changes"]
    # Reports name the previous scan by its folder and file name, never by an absolute path.
    assert changes["previous"] == {"path": "old/findings.json", "finished_at": "2026-01-01T00:00:01+00:00"}
    assert {c["id"] for c in changes["changed"]} == changed_ids(old, out)
    assert {c["id"]: c["to"]["status"] for c in changes["changed"]}[open_nsg_id(old)] == "pass"
    assert changes["new"] == changes["resolved"] == []
    assert "changes" not in document(old)


def test_schema_rejects_a_malformed_changes_section(two_scans: tuple[Path, Path]) -> None:
    old, _ = two_scans
    validator = Draft202012Validator(json_report.schema())
    base = document(old)
    good = {"previous": {"path": "p", "finished_at": "t"}, "new": [], "resolved": [], "changed": [], "unchanged": 0}
    assert validator.is_valid(base | {"changes": good})
    assert not validator.is_valid(base | {"changes": good | {"new": ["not-an-id"]}})
    assert not validator.is_valid(base | {"changes": good | {"unchanged": -1}})
    assert not validator.is_valid(base | {"changes": {k: v for k, v in good.items() if k != "changed"}})


def test_compare_may_name_the_folder_it_overwrites(snapshot: Path, tmp_path: Path) -> None:
    run("evaluate", str(snapshot), "--out", str(tmp_path), "--quiet")
    run("evaluate", str(snapshot), "--out", str(tmp_path), "--compare", str(tmp_path), "--quiet")
    changes = document(tmp_path)["changes"]
    assert changes["new"] == changes["resolved"] == changes["changed"] == []
    assert changes["unchanged"] == len(document(tmp_path)["findings"])


def test_fail_on_new_ignores_findings_that_already_gated(
    two_scans: tuple[Path, Path], snapshot: Path, tmp_path: Path
) -> None:
    old, _ = two_scans
    args = ("evaluate", str(snapshot), "--out", str(tmp_path / "out"), "--quiet")
    assert run(*args) == 1
    assert run(*args, "--compare", str(old), "--fail-on-new", "info") == 0


def test_fail_on_new_gates_on_a_regression(
    two_scans: tuple[Path, Path], snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, passing = two_scans
    args = ("evaluate", str(snapshot), "--out", str(tmp_path / "out"), "--compare", str(passing))
    assert run(*args, "--fail-on-new", "critical") == 1
    assert "1 finding(s) newly fail or error at or above critical" in capsys.readouterr().out


def test_fail_on_new_gates_on_a_finding_absent_before(
    two_scans: tuple[Path, Path], snapshot: Path, tmp_path: Path
) -> None:
    old, _ = two_scans
    data = document(old)
    data["findings"] = [f for f in data["findings"] if f["id"] != open_nsg_id(old)]
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(data), encoding="utf-8")
    args = ("evaluate", str(snapshot), "--out", str(tmp_path / "out"), "--compare", str(previous), "--quiet")
    assert run(*args, "--fail-on-new", "critical") == 1
    assert document(tmp_path / "out")["changes"]["new"] == [open_nsg_id(old)]


def test_fail_on_new_without_compare_is_a_usage_error(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("evaluate", str(snapshot), "--out", str(tmp_path), "--fail-on-new", "high") == 2
    assert "--fail-on-new needs --compare" in capsys.readouterr().err
    assert not (tmp_path / "findings.json").exists()


def test_a_bad_previous_scan_fails_before_anything_is_written(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = tmp_path / "previous.json"
    previous.write_text('{"schema_version": "1.0"', encoding="utf-8")
    assert run("evaluate", str(snapshot), "--out", str(tmp_path / "out"), "--compare", str(previous)) == 2
    assert f"{previous}: invalid JSON" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_html_report_shows_the_changes_escaped() -> None:
    from auditor.reports import html as html_report  # noqa: PLC0415
    from tests.test_terminal import result_with  # noqa: PLC0415

    hostile = "<img src=x onerror=alert(1)>"
    new, gone = state(f"new{hostile}", Status.FAIL), state("gone", Status.PASS)
    before, after = state("flip", Status.PASS), state("flip", Status.FAIL, Severity.CRITICAL)
    changes = compare(scan(gone, before, path=f"old/{hostile}.json"), scan(new, after))
    page = html_report.render(result_with(), changes)
    section = page.split('<section id="changes">', 1)[1].split("</section>", 1)[0]
    assert hostile not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in section
    assert "1 new, 1 resolved, 1 changed (status or severity), 0 unchanged" in section
    assert f"<code>{new.id}</code>" in section and f"<code>{gone.id}</code>" in section
    assert "high &#8594; critical" in section
    assert '<section id="changes">' not in html_report.render(result_with())

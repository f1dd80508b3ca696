"""No report names a file by an absolute machine path: the baseline by its path under --root (or its file
name) and SHA-256, a previous scan by its folder and file name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditor.baseline import default_baseline_path
from auditor.cli import main
from auditor.reports.display import report_file

ALL_FORMATS = "html,json,sarif,junit,csv,markdown"
# Files the run writes that are not reports: the collected inventory and the manifest of hashes.
NOT_REPORTS = {"inventory.json", "manifest.json"}


def test_reports_name_the_baseline_relative_to_root_and_hold_no_absolute_path(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "policy").mkdir(parents=True)
    baseline = repo / "policy" / "baseline.toml"
    shutil.copyfile(default_baseline_path(), baseline)
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--baseline", str(baseline), "--format", ALL_FORMATS, "--root", str(repo)]
    assert main(["demo", "--out", str(first), *common]) == 0
    assert main(["demo", "--out", str(second), *common, "--compare", str(first.resolve())]) == 0
    reports = [p for p in sorted(second.iterdir()) if p.name not in NOT_REPORTS]
    assert {p.name for p in reports} >= {"report.html", "findings.json", "findings.sarif", "junit.xml", "summary.md"}
    for report in reports:
        text = report.read_text(encoding="utf-8")
        assert str(tmp_path) not in text, report.name
        assert str(Path.cwd()) not in text, report.name
    document = json.loads((second / "findings.json").read_text(encoding="utf-8"))
    assert document["scan"]["baseline"]["path"] == "policy/baseline.toml"
    assert document["changes"]["previous"]["path"] == "first/findings.json"
    sarif = json.loads((second / "findings.sarif").read_text(encoding="utf-8"))
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for location in result["locations"]
    }
    assert uris == {"policy/baseline.toml"}
    lines = baseline.read_text(encoding="utf-8").splitlines()
    for result in sarif["runs"][0]["results"]:
        line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert lines[line - 1] == f'id = "{result["ruleId"]}"'


def test_a_baseline_outside_the_root_is_named_by_its_file_name(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--format", "json,sarif", "--root", str(repo)]) == 0
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert document["scan"]["baseline"]["path"] == "baseline.toml"
    assert len(document["scan"]["baseline"]["sha256"]) == 64


def test_a_root_that_is_not_a_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "out"), "--root", str(tmp_path / "missing")]) == 2
    assert "--root" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/home/ci/work/audit/findings.json", "audit/findings.json"),
        ("C:\\Users\\ci\\audit\\findings.json", "audit/findings.json"),
        ("audit/findings.json", "audit/findings.json"),
        ("/findings.json", "findings.json"),
    ],
)
def test_report_file_keeps_relative_paths_and_shortens_absolute_ones(path: str, shown: str) -> None:
    assert report_file(path) == shown

"""What failed, where people look: the list after the summary, GitHub and Azure DevOps annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.annotations import (
    ANNOTATED,
    Failure,
    azure_devops_annotations,
    ci_annotations,
    failure_lines,
    failures,
    github_annotations,
)
from auditor.cli import main
from auditor.model import Finding, Severity, SourceLocation, Status
from auditor.snapshot import save_snapshot
from tests.builders import make_inventory, make_nsg, make_rule

NSG_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"


def finding(
    name: str, severity: Severity = Severity.HIGH, control: str = "NET-04", location: SourceLocation | None = None
) -> Finding:
    return Finding(
        control_id=control,
        check_id="x",
        title="Management ports are closed",
        status=Status.FAIL,
        severity=severity,
        resource_id=NSG_ID + name,
        resource_type="Microsoft.Network/networkSecurityGroups",
        subscription_id="s",
        message=f"port 22 open on {name}",
        location=location,
    )


def failure(file: str | None, message: str = "m", title: str = "t") -> Failure:
    return Failure("NET-01", "critical", "fail", title, "w", message, file, 7 if file else None, 9 if file else None)


# --- the list after the summary table -----------------------------------------------------------------------


def test_the_list_shows_the_first_twenty_most_severe_first_and_counts_the_rest() -> None:
    gated = failures([finding(f"nsg-{i:02}") for i in range(24)] + [finding("worst", Severity.CRITICAL, "NET-01")])
    lines = failure_lines(gated)
    assert lines[1] == "gated findings (25):"
    assert lines[2].split() == ["severity", "status", "control", "where", "message"]
    assert lines[3].split()[:4] == ["critical", "fail", "NET-01", "worst"]
    assert len(lines) == 3 + 20 + 1
    assert lines[-1] == "… and 5 more (every finding is in the reports)"
    assert failure_lines([]) == []


def test_an_iac_finding_is_shown_at_its_file_and_line() -> None:
    location = SourceLocation("infra/main.tf", 12, 30, "azurerm_network_security_group.web")
    [shown] = failures([finding("web", location=location)])
    assert shown.where == "infra/main.tf:12 (azurerm_network_security_group.web)"
    assert (shown.file, shown.line, shown.end_line) == ("infra/main.tf", 12, 30)


def test_hostile_names_are_shown_inert() -> None:
    [shown] = failures([finding("nsg\x1b[2J\u202eexe.txt")])
    line = failure_lines([shown])[-1]
    assert "\x1b" not in line and "\u202e" not in line
    assert "nsg?[2J<U+202E>exe.txt" in line


# --- GitHub Actions ------------------------------------------------------------------------------------------


def test_github_annotations_escape_data_and_properties_as_the_toolkit_does() -> None:
    [line] = github_annotations([failure("a,b:c%d.tf", message="50%\r\nnext", title="x, y: z")])
    assert line == (
        "::error title=NET-01 (critical)%3A x%2C y%3A z,file=a%2Cb%3Ac%25d.tf,line=7,endLine=9::50%25%0D%0Anext"
    )


def test_a_live_finding_is_annotated_without_a_file_and_names_its_resource() -> None:
    [line] = github_annotations(failures([finding("nsg-open")]))
    assert line == "::error title=NET-04 (high)%3A Management ports are closed::nsg-open: port 22 open on nsg-open"


def test_annotations_beyond_what_github_shows_are_counted_in_a_warning() -> None:
    lines = github_annotations([failure(None)] * (ANNOTATED + 3))
    assert len(lines) == ANNOTATED + 1
    assert lines[-1] == "::warning::3 more gated finding(s) are not annotated; see the reports"


# --- Azure DevOps --------------------------------------------------------------------------------------------


def test_azure_devops_annotations_escape_as_the_task_lib_does() -> None:
    [line] = azure_devops_annotations([failure("x;y]%.tf", message="100%\r\nnext")])
    assert line == (
        "##vso[task.logissue type=error;sourcepath=x%3By%5D%AZP25.tf;linenumber=7;code=NET-01]"
        "NET-01 (critical): t: 100%AZP25%0D%0Anext"
    )


def test_the_environment_chooses_the_annotations() -> None:
    gated = [failure("main.tf")]
    assert ci_annotations(gated, {"GITHUB_ACTIONS": "true"})[0].startswith("::error ")
    assert ci_annotations(gated, {"TF_BUILD": "True"})[0].startswith("##vso[task.logissue type=error;")
    assert ci_annotations(gated, {}) == []
    assert ci_annotations(gated, {"GITHUB_ACTIONS": "false", "TF_BUILD": ""}) == []


# --- end to end through the command --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two NSGs open for RDP to the internet: two critical NET-01 failures among six gated findings."""
    rule = make_rule("rdp", sources=("Internet",))
    inventory = make_inventory(network_security_groups=(make_nsg("nsg-a", (rule,)), make_nsg("nsg-b", (rule,))))
    path = tmp_path_factory.mktemp("snapshot") / "inventory.json"
    save_snapshot(inventory, path)
    return path


CI_PREFIXES = {"GITHUB_ACTIONS=true": "::error title=", "TF_BUILD=True": "##vso[task.logissue type=error;"}


@pytest.mark.parametrize("ci", list(CI_PREFIXES))
def test_evaluate_prints_the_failures_and_the_annotations_of_its_ci(
    ci: str, snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("TF_BUILD", raising=False)
    variable, value = ci.split("=")
    monkeypatch.setenv(variable, value)
    prefix = CI_PREFIXES[ci]
    assert main(["evaluate", str(snapshot), "--out", str(tmp_path / "out"), "--format", "json"]) == 1
    out = capsys.readouterr().out.splitlines()
    listed = out[out.index("gated findings (6):") + 2 :][:6]
    rdp = [line.split()[:4] for line in listed if " NET-01 " in line]
    assert rdp == [["critical", "fail", "NET-01", name] for name in ("nsg-a", "nsg-b")]
    annotations = [line for line in out if line.startswith(prefix)]
    assert len(annotations) == 6
    assert [name for line in annotations for name in ("nsg-a", "nsg-b") if "NET-01" in line and name in line] == [
        "nsg-a",
        "nsg-b",
    ]


def test_no_annotations_outside_ci(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("TF_BUILD", raising=False)
    assert main(["evaluate", str(snapshot), "--out", str(tmp_path / "out"), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert "gated findings (6):" in out
    assert "::error" not in out and "##vso" not in out

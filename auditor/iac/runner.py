"""Running checkov as a subprocess over infrastructure code and reading its JSON report.

checkov runs with the auditor's own checks (``auditor.checks.iac``), only the checks the baseline maps, no
network access of its own (no API key, no policy download, no update check) and the resolved baseline
parameters in a file it is told about through ``AUDITOR_IAC_PARAMS``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.iac.doors import VERDICT_KEY
from auditor.iac.parameters_file import PARAMS_ENV, write_params
from auditor.parameters import Params

# What each suffix may hold. A .json file may be an ARM template or a `terraform show -json` plan: each
# runner keeps the files of its own kind.
SUFFIX_FRAMEWORKS: Mapping[str, tuple[str, ...]] = {
    ".tf": ("terraform",),
    ".json": ("arm", "terraform_plan"),
    ".bicep": ("bicep",),
}
FRAMEWORK_ORDER = ("terraform", "terraform_plan", "arm", "bicep")
# Folders checkov skips by default, skipped here too when deciding which frameworks apply.
IGNORED_FOLDERS = frozenset({"node_modules", ".terraform", ".serverless", ".git"})
# Environment that keeps checkov offline: no platform mapping or policy download, no package update check,
# no package (SCA) scanning; API keys are removed so nothing is uploaded.
OFFLINE_ENVIRONMENT = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CKV_GITHUB_CONFIG_FETCH_DATA": "FALSE",
    "CKV_GITLAB_CONFIG_FETCH_DATA": "FALSE",
}
REMOVED_ENVIRONMENT_PREFIXES = ("BC_API", "PRISMA_")
STDERR_LINES = 8


class CheckovError(Exception):
    """checkov is missing, crashed, or printed something that is not its JSON report."""


@dataclass(frozen=True)
class CheckovRecord:
    """One check of one resource, as checkov reports it."""

    framework: str
    check_id: str
    check_name: str
    result: str
    file_abs_path: str
    start_line: int
    end_line: int
    resource: str
    evaluated_keys: tuple[str, ...] = ()
    suppress_comment: str = ""
    verdict_status: str | None = None
    verdict_message: str | None = None
    verdict_severity: str | None = None


@dataclass(frozen=True)
class ParsingError:
    """A file checkov could not parse: none of its resources was judged."""

    framework: str
    file_abs_path: str


@dataclass(frozen=True)
class CheckovRun:
    """What one checkov run reported."""

    frameworks: tuple[str, ...]
    records: tuple[CheckovRecord, ...] = ()
    parsing_errors: tuple[ParsingError, ...] = ()
    version: str = ""


def frameworks_for(paths: Iterable[Path]) -> tuple[str, ...]:
    """The checkov frameworks the files under the paths call for, in a stable order."""
    found: set[str] = set()
    for path in paths:
        for file in _files(path):
            found.update(SUFFIX_FRAMEWORKS.get(file.suffix.lower(), ()))
    return tuple(f for f in FRAMEWORK_ORDER if f in found)


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for folder, subfolders, names in os.walk(path):
        subfolders[:] = [s for s in subfolders if s not in IGNORED_FOLDERS]
        for name in names:
            yield Path(folder) / name


def external_checks_dir() -> Path:
    """The folder of the auditor's checkov checks (the installed ``auditor.checks.iac`` package)."""
    spec = importlib.util.find_spec("auditor.checks.iac")
    if spec is None or spec.origin is None:
        raise CheckovError("the auditor's IaC checks (auditor.checks.iac) are not installed")
    return Path(spec.origin).parent


def checkov_command(
    paths: Sequence[Path], frameworks: Sequence[str], check_ids: Iterable[str], checks_dir: Path
) -> list[str]:
    """The checkov command line: JSON report, no download, the auditor's checks, only the mapped checks."""
    command = [sys.executable, "-m", "checkov.main", "--output", "json", "--skip-download", "--soft-fail"]
    for path in paths:
        command += ["--file" if path.is_file() else "--directory", str(path)]
    command += ["--framework", *frameworks]
    command += ["--external-checks-dir", str(checks_dir)]
    command += ["--check", ",".join(sorted(set(check_ids)))]
    return command


def checkov_environment(params_file: Path, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment checkov runs in: offline settings, no API keys, and the parameters file."""
    environment = {k: v for k, v in base.items() if not k.startswith(REMOVED_ENVIRONMENT_PREFIXES)}
    environment.update(OFFLINE_ENVIRONMENT)
    environment[PARAMS_ENV] = str(params_file)
    return environment


def run_checkov(paths: Sequence[Path], check_ids: Iterable[str], params: Params) -> CheckovRun:
    """Run checkov over the paths and return its records; CheckovError when it cannot run or crashes."""
    frameworks = frameworks_for(paths)
    ids = sorted(set(check_ids))
    if not frameworks or not ids:
        return CheckovRun(frameworks=frameworks)
    if importlib.util.find_spec("checkov") is None:
        raise CheckovError("checkov is not installed: pip install 'azure-policy-auditor[iac]'")
    with tempfile.TemporaryDirectory(prefix="auditor-iac-") as scratch:
        params_file = Path(scratch) / "parameters.json"
        write_params(params, params_file)
        command = checkov_command(paths, frameworks, ids, external_checks_dir())
        completed = subprocess.run(
            command,
            env=checkov_environment(params_file),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    if completed.returncode != 0:
        raise CheckovError(f"checkov exited with status {completed.returncode}: {_stderr_excerpt(completed.stderr)}")
    return parse_report(completed.stdout, frameworks, completed.stderr)


def _stderr_excerpt(stderr: str) -> str:
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "no error output"
    shown = lines[:STDERR_LINES]
    if lines[-1] not in shown:
        # A traceback names the exception on its last line.
        shown += ["...", lines[-1]]
    return " | ".join(shown)


def parse_report(stdout: str, frameworks: Sequence[str] = (), stderr: str = "") -> CheckovRun:
    """checkov's JSON output: one report object per framework, a list of them, or several documents.

    checkov prints one document per --directory, each an object when one framework ran and a list when
    several did; an object without results is the summary it prints when nothing was scanned.
    """
    reports: list[Mapping[str, Any]] = []
    version = ""
    for document in _documents(stdout, stderr):
        for item in document if isinstance(document, list) else [document]:
            if not isinstance(item, dict):
                raise CheckovError(f"checkov printed a report that is not a JSON object: {str(item)[:200]}")
            summary = item.get("summary") if "results" in item else item
            if isinstance(summary, dict):
                version = str(summary.get("checkov_version") or version)
            if "results" in item:
                reports.append(item)
    records: list[CheckovRecord] = []
    errors: list[ParsingError] = []
    for report in reports:
        framework = str(report.get("check_type") or "")
        results = report.get("results")
        if not isinstance(results, dict):
            raise CheckovError(f"checkov report for {framework or 'an unnamed framework'} has no results object")
        for key in ("passed_checks", "failed_checks", "skipped_checks"):
            records.extend(_record(framework, entry) for entry in results.get(key) or [])
        errors.extend(ParsingError(framework, str(path)) for path in results.get("parsing_errors") or [])
    return CheckovRun(tuple(frameworks), tuple(records), tuple(errors), version)


def _documents(stdout: str, stderr: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    position, end = 0, len(stdout)
    while True:
        while position < end and stdout[position].isspace():
            position += 1
        if position >= end:
            return
        try:
            document, position = decoder.raw_decode(stdout, position)
        except json.JSONDecodeError:
            shown = stdout[position : position + 200].strip().splitlines()[0]
            raise CheckovError(f"checkov printed no JSON report ({shown!r}): {_stderr_excerpt(stderr)}") from None
        yield document


def _record(framework: str, entry: Any) -> CheckovRecord:
    if not isinstance(entry, dict):
        raise CheckovError(f"checkov {framework} result is not an object: {str(entry)[:200]}")
    result = _mapping(entry.get("check_result"))
    lines = entry.get("file_line_range") or [0, 0]
    verdict = _mapping(result.get(VERDICT_KEY))
    try:
        start, end = int(lines[0]), int(lines[-1])
    except (TypeError, ValueError, IndexError):
        start = end = 0
    return CheckovRecord(
        framework=framework,
        check_id=str(entry.get("check_id") or ""),
        check_name=str(entry.get("check_name") or ""),
        result=str(result.get("result") or ""),
        file_abs_path=str(entry.get("file_abs_path") or entry.get("file_path") or ""),
        start_line=start,
        end_line=end,
        resource=str(entry.get("resource_address") or entry.get("resource") or ""),
        evaluated_keys=tuple(str(k) for k in result.get("evaluated_keys") or []),
        suppress_comment=str(result.get("suppress_comment") or entry.get("suppress_comment") or ""),
        verdict_status=str(verdict["status"]) if verdict.get("status") else None,
        verdict_message=str(verdict["message"]) if verdict.get("message") else None,
        verdict_severity=str(verdict["severity"]) if verdict.get("severity") else None,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}

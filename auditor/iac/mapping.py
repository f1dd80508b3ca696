"""checkov's records mapped to the baseline's controls: one finding per control, check and resource.

Every control of the baseline appears: controls infrastructure code cannot decide are not applicable with
the reason, never passed; decidable controls with nothing to judge in the code are not applicable too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from auditor import __version__
from auditor.baseline import Baseline, Control
from auditor.evaluate import control_level_finding, control_summary, report_path
from auditor.iac.doors import rule_of
from auditor.iac.runner import CheckovRecord, CheckovRun, ParsingError
from auditor.iac.selection import decidable, iac_check_ids
from auditor.model import Finding, Severity, SourceLocation, Status
from auditor.parameters import Params
from auditor.registry import Registry
from auditor.results import ScanMetadata, ScanResult
from auditor.waivers import Waiver, apply_waivers

NOT_DECIDABLE = "not decidable from infrastructure code"
# Terraform plan JSON runs checkov's Terraform checks, so it takes the baseline's Terraform mapping.
MAPPING_FRAMEWORK = {"terraform": "terraform", "terraform_plan": "terraform", "arm": "arm", "bicep": "bicep"}
STATUS_OF_RESULT = {"PASSED": Status.PASS, "FAILED": Status.FAIL, "SKIPPED": Status.WAIVED}
STATUS_OF_VERDICT = {"pass": Status.PASS, "fail": Status.FAIL, "error": Status.ERROR}
SKIP_SOURCE = "#checkov:skip comment in the code"


def not_decidable_reason(control: Control) -> str:
    """Why infrastructure code cannot show the control kept."""
    if control.iac.not_decidable:
        return control.iac.not_decidable
    if control.is_manual:
        return "a manual control: only an attestation can show it kept"
    return "no check of infrastructure code is mapped to it"


def relative_file(path: str, root: Path) -> str:
    """The file relative to the root with forward slashes, or absolute when it lies outside the root."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


def resource_type_of(address: str) -> str:
    """The resource type in a checkov resource address.

    Terraform: ``module.net.azurerm_network_security_rule.ssh`` gives ``azurerm_network_security_rule``;
    ARM and Bicep: ``Microsoft.Network/networkSecurityGroups/securityRules.web/rdp`` gives everything
    before the dot that follows the first slash.
    """
    if "/" in address:
        slash = address.index("/")
        dot = address.find(".", slash)
        return address[:dot] if dot > 0 else address
    parts = address.split(".")
    while len(parts) > 2 and parts[0] == "module":
        parts = parts[2:]
    return parts[0] if parts else address


def iac_result(
    run: CheckovRun,
    baseline: Baseline,
    registry: Registry,
    params: Params,
    *,
    paths: Iterable[Path],
    root: Path,
    started_at: datetime,
    finished_at: datetime,
    waivers: Sequence[Waiver] = (),
) -> ScanResult:
    """Every control of the baseline judged from checkov's records, as reporters read a scan.

    Waivers apply to the code's findings as to a scan's (resource globs match ``iac:FILE:ADDRESS``), judged
    against the day the run finished.
    """
    findings: list[Finding] = []
    seen: set[str] = set()
    for control in baseline.controls:
        for finding in _control_findings(control, run, registry, root):
            if finding.id not in seen:
                # The same file reached through overlapping paths is reported once.
                seen.add(finding.id)
                findings.append(finding)
    findings, warnings = apply_waivers(findings, waivers, finished_at.date())
    summaries = tuple(control_summary(c, [f for f in findings if f.control_id == c.id]) for c in baseline.controls)
    # Reports name files relative to the root (or by name), never by an absolute path.
    shown = ", ".join(report_path(str(p), root) for p in paths)
    metadata = ScanMetadata(
        tool_version=__version__,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=finished_at.isoformat(timespec="seconds"),
        source=f"infrastructure code: {shown} (checkov {run.version or 'not run'}; "
        f"frameworks: {', '.join(run.frameworks) or 'none found'})",
        subscriptions=(),
        baseline_path=report_path(baseline.path, root),
        baseline_sha256=baseline.sha256,
        baseline_name=baseline.name,
        parameters={name: list(v) if isinstance(v, tuple) else v for name, v in params.values.items()},
        as_of=finished_at.isoformat(timespec="seconds"),
        weakened_parameters=dict(params.weakened),
    )
    return ScanResult(metadata=metadata, controls=summaries, findings=tuple(findings), warnings=tuple(warnings))


def _control_findings(control: Control, run: CheckovRun, registry: Registry, root: Path) -> Iterator[Finding]:
    if not decidable(control):
        yield control_level_finding(
            control, "", Status.NOT_APPLICABLE, f"{NOT_DECIDABLE}: {not_decidable_reason(control)}"
        )
        return
    produced = False
    for error in run.parsing_errors:
        if iac_check_ids(control, MAPPING_FRAMEWORK.get(error.framework, "")):
            produced = True
            yield _parsing_error(control, error, root)
    for record in sorted(run.records, key=lambda r: (r.file_abs_path, r.start_line, r.resource, r.check_id)):
        if record.check_id in iac_check_ids(control, MAPPING_FRAMEWORK.get(record.framework, "")):
            produced = True
            yield _finding(control, record, registry, root)
    if not produced:
        ids = sorted({c for f in MAPPING_FRAMEWORK.values() for c in iac_check_ids(control, f)})
        yield control_level_finding(
            control, "", Status.NOT_APPLICABLE, f"No resource in the scanned code is judged by {', '.join(ids)}"
        )


def _finding(control: Control, record: CheckovRecord, registry: Registry, root: Path) -> Finding:
    file = relative_file(record.file_abs_path, root)
    status, message = _verdict(record)
    evidence: dict[str, object] = {
        "framework": record.framework,
        "checkov_check": record.check_id,
        "checkov_check_name": record.check_name,
        "checkov_result": record.result,
        "file": file,
        "lines": [record.start_line, record.end_line],
        "resource_address": record.resource,
    }
    if record.evaluated_keys:
        evidence["evaluated_keys"] = list(record.evaluated_keys)
    if status is Status.WAIVED:
        evidence["waiver"] = {"reason": record.suppress_comment or "no reason given", "source": SKIP_SOURCE}
    severity = Severity(record.verdict_severity) if record.verdict_severity in set(Severity) else control.severity
    return Finding(
        control_id=control.id,
        # The auditor's own checks report under the rule's id, as the live scan does.
        check_id=rule_of(record.check_id) or record.check_id,
        title=control.title,
        status=status,
        severity=severity,
        resource_id=f"iac:{file}:{record.resource}",
        resource_type=resource_type_of(record.resource),
        subscription_id="",
        message=message,
        evidence=evidence,
        remediation="" if status is Status.PASS else _remediation(record, registry),
        frameworks=control.frameworks,
        location=SourceLocation(file, record.start_line, record.end_line, record.resource),
    )


def _verdict(record: CheckovRecord) -> tuple[Status, str]:
    status = STATUS_OF_RESULT.get(record.result.upper(), Status.ERROR)
    if status is Status.WAIVED:
        reason = record.suppress_comment or "no reason given"
        return status, f"Suppressed by a #checkov:skip comment in the code: {reason}"
    if status is Status.ERROR:
        return status, f"checkov reported {record.check_id} as {record.result or 'no result'}"
    if record.verdict_status is not None:
        status = STATUS_OF_VERDICT.get(record.verdict_status, Status.ERROR)
        if status is Status.ERROR:
            return status, f"Could not be judged from the code: {record.verdict_message or 'no reason given'}"
        return status, record.verdict_message or record.check_name
    outcome = "passed" if status is Status.PASS else "failed"
    return status, f"checkov {record.check_id} {outcome}: {record.check_name}"


def _remediation(record: CheckovRecord, registry: Registry) -> str:
    rule = rule_of(record.check_id)
    if rule is not None and rule in registry:
        return registry[rule].spec.remediation.as_text()
    return f"Make the resource pass checkov check {record.check_id}: {record.check_name}."


def _parsing_error(control: Control, error: ParsingError, root: Path) -> Finding:
    file = relative_file(error.file_abs_path, root)
    return Finding(
        control_id=control.id,
        check_id="",
        title=control.title,
        status=Status.ERROR,
        severity=control.severity,
        resource_id=f"iac:{file}",
        resource_type=error.framework,
        subscription_id="",
        message=f"checkov could not parse {file} as {error.framework}, so none of its resources was judged",
        evidence={"framework": error.framework, "file": file},
        frameworks=control.frameworks,
        location=SourceLocation(file, 1, 1),
    )

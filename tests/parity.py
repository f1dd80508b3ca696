"""Parity tables: one case table per rule, judged through the live door and through the IaC door.

A case is one resource written three ways: the raw JSON ARM returns for it (built into a record by the
collector's own builder, as a live scan builds it), the Terraform that declares it and the ARM template
resource that declares it (Bicep compiles to the same). The live door is the registered judge on the
collector's record; the IaC door is `auditor iac`'s checkov run over the code, one run per table for all
its cases. Every door must give the case's expected status, and the three messages must be the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.baseline import Baseline, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.iac.mapping import iac_result
from auditor.iac.runner import run_checkov
from auditor.model import Severity, Status
from auditor.parameters import Params
from auditor.registry import RegisteredCheck

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
RESOURCE_GROUP = "rg-parity"
# A fixed moment, so rules about expiry judge every door alike.
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
STATUS_OF_CHECKOV = {"PASSED": Status.PASS, "FAILED": Status.FAIL}


@dataclass(frozen=True)
class Case:
    """One resource in the three shapes the doors read, and the status all of them must reach."""

    name: str
    expected: Status
    arm: Mapping[str, Any]  # as ARM GET returns it
    terraform: str  # HCL declaring the same resource (a whole file)
    template: Mapping[str, Any] | None  # the ARM template resource; None where the rule has no ARM door
    params: Mapping[str, str] = field(default_factory=dict)  # --param overrides for this case


@dataclass(frozen=True)
class Door:
    """What one door said about a case: status and message (None: the door gave no verdict), and the control,
    rule and severity its finding is reported under."""

    status: Status | None
    message: str
    reported: tuple[str, str, Severity] | None = None


def arm_id(provider_type: str, name: str) -> str:
    """A canonical ARM id of a resource in the parity resource group."""
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/{provider_type}/{name}"


def params(overrides: Mapping[str, str] = {}) -> Params:
    """The shipped baseline's parameters with the case's overrides, judged as of AS_OF."""
    baseline = load_baseline(default_baseline_path(), builtin_registry())
    return baseline.resolve_params(dict(overrides)).at(AS_OF)


def baseline() -> Baseline:
    """The shipped baseline."""
    return load_baseline(default_baseline_path(), builtin_registry())


def live_door(rule: RegisteredCheck, build: Callable[[Mapping[str, Any]], Any], case: Case) -> Door:
    """The rule's judge on the record the collector's builder makes of the case's ARM JSON, reported under
    the control that lists the rule, with the control's severity unless the verdict names its own."""
    verdict = rule.decide(build(case.arm), params(case.params))
    if verdict is None:
        return Door(None, "")
    control = next(c for c in baseline().controls if rule.spec.id in c.checks)
    return Door(verdict.status, verdict.message, (control.id, rule.spec.id, verdict.severity or control.severity))


def template_document(resource: Mapping[str, Any]) -> dict[str, Any]:
    """An ARM deployment template holding one resource."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [dict(resource)],
    }


def iac_doors(rule: RegisteredCheck, cases: Sequence[Case], scratch: Path) -> dict[tuple[str, str], Door]:
    """Each case's verdict from checkov's run of the rule over its Terraform and ARM files, by (case, language).

    Cases with parameter overrides run in their own checkov run, since parameters are per run.
    """
    found: dict[tuple[str, str], Door] = {}
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(json.dumps(dict(case.params), sort_keys=True), []).append(case)
    for number, (overrides, group) in enumerate(sorted(groups.items())):
        folder = scratch / f"run-{number}"
        for case in group:
            (folder / "terraform" / case.name).mkdir(parents=True)
            (folder / "terraform" / case.name / "main.tf").write_text(case.terraform, encoding="utf-8")
            if case.template is not None:
                (folder / "arm").mkdir(exist_ok=True)
                text = json.dumps(template_document(case.template), indent=2)
                (folder / "arm" / f"{case.name}.json").write_text(text, encoding="utf-8")
        run_params = params(json.loads(overrides))
        run = run_checkov([folder], [rule.spec.iac_id], run_params)
        # What `auditor iac` reports of the run: the control, rule and severity of each finding.
        now = datetime.now(UTC)
        result = iac_result(
            run,
            baseline(),
            builtin_registry(),
            run_params,
            paths=[folder],
            root=folder,
            started_at=now,
            finished_at=now,
        )
        reported = {
            (f.location.file, f.location.address): (f.control_id, f.check_id, f.severity)
            for f in result.findings
            if f.location is not None
        }
        for record in run.records:
            path = Path(record.file_abs_path)
            language = "terraform" if path.suffix == ".tf" else "arm"
            name = path.parent.name if language == "terraform" else path.stem
            status = STATUS_OF_CHECKOV.get(record.result.upper())
            if record.verdict_status is not None:
                status = Status(record.verdict_status)
            where = (path.resolve().relative_to(folder.resolve()).as_posix(), record.resource)
            found[(name, language)] = Door(status, record.verdict_message or "", reported.get(where))
    return found


def assert_parity(
    rule_id: str, build: Callable[[Mapping[str, Any]], Any], cases: Sequence[Case], scratch: Path
) -> None:
    """Every case gives its expected status, with one message, through the live door and each IaC door."""
    pytest.importorskip("checkov")
    rule = builtin_registry()[rule_id]
    code = iac_doors(rule, cases, scratch)
    problems: list[str] = []
    for case in cases:
        live = live_door(rule, build, case)
        doors = {"live": live, "terraform": code.get((case.name, "terraform"), Door(None, "no verdict"))}
        if case.template is not None:
            doors["arm"] = code.get((case.name, "arm"), Door(None, "no verdict"))
        for door, said in doors.items():
            if said.status is not case.expected:
                problems.append(
                    f"{case.name}: {door} door gave {said.status} ({said.message}), expected {case.expected}"
                )
            elif said.message != live.message:
                problems.append(f"{case.name}: {door} door said {said.message!r}, the live door {live.message!r}")
            elif said.reported != live.reported:
                problems.append(f"{case.name}: {door} door reported under {said.reported}, live {live.reported}")
    assert problems == []
    # Every door judged every case: a door that silently judged nothing would pass the table above.
    assert {name for name, _ in code} == {case.name for case in cases}

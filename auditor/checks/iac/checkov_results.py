"""The bridge from the auditor's rules to checkov: one checkov check per IaC door, judged by the rule's judge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from checkov.common.checks.base_check import BaseCheck
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.common.typing import _CheckResult, _SkippedCheck

from auditor.iac.doors import VERDICT_KEY, Door, judge_resource, registered
from auditor.iac.parameters_file import current_params
from auditor.model import Status, Verdict


class VerdictCheck(BaseCheck):
    """A checkov check whose result carries the auditor's verdict (status and message) into the report."""

    verdict: Verdict | None = None

    def run(
        self,
        scanned_file: str,
        entity_configuration: dict[str, Any],
        entity_name: str,
        entity_type: str,
        skip_info: _SkippedCheck,
    ) -> _CheckResult:
        """checkov's run, with the verdict added to the result it reports."""
        self.verdict = None
        result = super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)
        verdict = self.reached()
        if verdict is not None:
            cast(dict[str, Any], result)[VERDICT_KEY] = {
                "status": verdict.status.value,
                "message": verdict.message,
                "severity": verdict.severity.value if verdict.severity else None,
            }
        return result

    def reached(self) -> Verdict | None:
        """The verdict of the last resource judged (None when it was out of scope or suppressed)."""
        return self.verdict

    def conclude(self, door: Door, conf: Mapping[str, Any]) -> CheckResult:
        """checkov's result for the rule's verdict on the resource; UNKNOWN when it is not the rule's subject.

        checkov turns an exception in a check into UNKNOWN, which drops the resource from the report; a
        check that crashes must be an error instead, never silence.
        """
        try:
            verdict = judge_resource(door, self.entity_type, conf, current_params())
        except Exception as exc:  # noqa: BLE001 - reported as an error finding, not swallowed
            verdict = Verdict(Status.ERROR, f"check {self.id} failed: {type(exc).__name__}: {exc}")
        self.verdict = verdict
        if verdict is None:
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if verdict.status is Status.PASS else CheckResult.FAILED


class RuleCheck(VerdictCheck):
    """A rule applied through one door: checkov's id, title and resource types come from the rule and door."""

    def __init__(self, door: Door) -> None:
        self.door = door
        spec = registered(door.rule).spec
        # checkov's resource-check base of the concrete class (Terraform or ARM) takes supported_resources.
        super().__init__(  # type: ignore[call-arg]
            name=spec.title,
            id=spec.iac_id,
            categories=(CheckCategories[door.category],),
            supported_resources=tuple(door.builders),
        )

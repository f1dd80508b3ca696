"""The auditor's rules on ARM template resources; checkov runs them on Bicep resources too."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.arm.registry import arm_resource_registry
from checkov.common.models.enums import CheckResult

from auditor.checks.iac.checkov_results import RuleCheck
from auditor.iac.doors import doors, registered


class ArmRuleCheck(RuleCheck, BaseResourceCheck):
    """A rule applied to ARM (and Bicep) resources through its door."""

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        """checkov's entry point: judge one resource body with the rule's judge."""
        return self.conclude(self.door, conf)


# checkov executes this file once per framework it runs; the first execution registers the checks (into
# checkov's ARM and Bicep registries at once).
for _door in doors("arm"):
    if arm_resource_registry.get_check_by_id(registered(_door.rule).spec.iac_id) is None:
        ArmRuleCheck(_door)

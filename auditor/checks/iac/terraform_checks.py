"""The auditor's rules on Terraform azurerm resources (and on plan JSON, which runs the same checks)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from checkov.terraform.checks.resource.registry import resource_registry

from auditor.checks.iac.checkov_results import RuleCheck
from auditor.iac.doors import doors, registered


class TerraformRuleCheck(RuleCheck, BaseResourceCheck):
    """A rule applied to Terraform resources through its door."""

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        """checkov's entry point: judge one resource configuration with the rule's judge."""
        return self.conclude(self.door, conf)


# checkov executes this file once per framework it runs; the first execution registers the checks.
for _door in doors("terraform"):
    if resource_registry.get_check_by_id(registered(_door.rule).spec.iac_id) is None:
        TerraformRuleCheck(_door)

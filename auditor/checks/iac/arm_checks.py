"""The auditor's checks on ARM template resources; checkov runs them on Bicep resources too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.arm.registry import arm_resource_registry
from checkov.common.models.enums import CheckCategories, CheckResult

from auditor.checks.iac import arm_records as arm
from auditor.checks.iac.checkov_results import VerdictCheck
from auditor.checks.iac.doors import Door, doors, judge_resource, registered
from auditor.checks.iac.verdicts import (
    disk_verdict,
    management_ports_verdict,
    rdp_verdict,
)
from auditor.iac.catalogue import CUSTOM_CHECKS
from auditor.iac.parameters_file import current_params
from auditor.model import Verdict

# (resource type, resource body) -> verdict, or None when the resource is outside the check's scope.
Judge = Callable[[str, Mapping[str, Any]], Verdict | None]


class ArmCheck(VerdictCheck, BaseResourceCheck):
    """One of the auditor's checks on ARM (and Bicep) resources, judged by a verdict function."""

    def __init__(self, check_id: str, category: CheckCategories, resources: Iterable[str], judge: Judge) -> None:
        self.judge = judge
        super().__init__(
            name=CUSTOM_CHECKS[check_id].name,
            id=check_id,
            categories=(category,),
            supported_resources=tuple(resources),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        """checkov's entry point: judge one resource body."""
        resource_type = self.entity_type
        return self.conclude(lambda: self.judge(resource_type, conf))


class ArmRuleCheck(VerdictCheck, BaseResourceCheck):
    """A rule applied to ARM and Bicep resources through its door: the rule's id, title and judge."""

    def __init__(self, door: Door) -> None:
        self.door = door
        spec = registered(door.rule).spec
        super().__init__(
            name=spec.title,
            id=spec.iac_id,
            categories=(CheckCategories[door.category],),
            supported_resources=tuple(door.builders),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        """checkov's entry point: judge one resource body with the rule's judge."""
        resource_type = self.entity_type
        return self.conclude(lambda: judge_resource(self.door, resource_type, conf, current_params()))


def _rdp(resource_type: str, conf: Mapping[str, Any]) -> Verdict:
    return rdp_verdict(arm.security_rules(resource_type, conf), current_params())


def _management_ports(resource_type: str, conf: Mapping[str, Any]) -> Verdict:
    return management_ports_verdict(arm.security_rules(resource_type, conf), current_params())


def _disk(resource_type: str, conf: Mapping[str, Any]) -> Verdict:
    return disk_verdict(*arm.managed_disk(conf))


CHECKS: tuple[tuple[str, CheckCategories, tuple[str, ...], Judge], ...] = (
    ("AUDITOR_NSG_RDP_EXPOSURE", CheckCategories.NETWORKING, (arm.NSG, arm.NSG_RULE), _rdp),
    ("AUDITOR_NSG_MANAGEMENT_PORT_EXPOSURE", CheckCategories.NETWORKING, (arm.NSG, arm.NSG_RULE), _management_ports),
    ("AUDITOR_DISK_KEY_VAULT_ENCRYPTION", CheckCategories.ENCRYPTION, ("Microsoft.Compute/disks",), _disk),
)

# checkov executes this file once per framework it runs; the first execution registers the checks (into
# checkov's ARM and Bicep registries at once).
for _check_id, _category, _resources, _judge in CHECKS:
    if arm_resource_registry.get_check_by_id(_check_id) is None:
        ArmCheck(_check_id, _category, _resources, _judge)
for _door in doors("arm"):
    if arm_resource_registry.get_check_by_id(registered(_door.rule).spec.iac_id) is None:
        ArmRuleCheck(_door)

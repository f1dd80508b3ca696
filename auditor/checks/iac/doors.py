"""The IaC doors: for each rule the gate applies to code, how a resource in code becomes the record its judge reads.

A door names a registered rule, the language it reads (``terraform``, which Terraform plan JSON also uses,
or ``arm``, which checkov also gives Bicep resources in) and, per resource type, a builder from checkov's
resource configuration to the record the live collectors would build. The checkov check id, title and
control all come from the rule's registration; the verdict is the rule's own judge. Kept free of checkov
imports so the gate can plan a run, and tests can judge code, without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from auditor.checks import builtin_registry
from auditor.checks.iac import arm_records as arm
from auditor.checks.iac import terraform_records as tf
from auditor.checks.iac.conf_values import UndecidableError
from auditor.model import Status, Verdict, erroring
from auditor.parameters import Params
from auditor.registry import IAC_PREFIX, RegisteredCheck

Language = Literal["terraform", "arm"]
# (resource type, configuration) -> the record the rule judges; None when the resource is not its subject.
Builder = Callable[[str, Mapping[str, Any]], Any]

# The frameworks each language serves: plan JSON runs checkov's Terraform checks, Bicep its ARM checks.
FRAMEWORKS_OF_LANGUAGE: Mapping[Language, frozenset[str]] = {
    "terraform": frozenset({"terraform"}),
    "arm": frozenset({"arm", "bicep"}),
}
# Key the auditor's checks add to checkov's check_result, holding {"status", "message", "severity"}: checkov
# knows only pass and fail and drops the details of ARM and Bicep results, so the verdict travels there, and a
# resource that cannot be judged (failed in checkov's eyes) is reported as an error.
VERDICT_KEY = "auditor_verdict"


@dataclass(frozen=True)
class Door:
    """How one rule reads one language: the checkov category and a record builder per resource type."""

    rule: str
    language: Language
    category: str  # a checkov CheckCategories member name
    builders: Mapping[str, Builder]


DOORS: tuple[Door, ...] = (
    Door("key_vault_protection", "terraform", "SECRETS", {"azurerm_key_vault": lambda _, conf: tf.key_vault(conf)}),
    Door("key_vault_protection", "arm", "SECRETS", {"Microsoft.KeyVault/vaults": lambda _, conf: arm.key_vault(conf)}),
    # ENC-01, ENC-02 and ENC-03: disks, snapshots, Recovery Services vault keys, storage accounts.
    Door(
        "disk_key_vault_encryption", "terraform", "ENCRYPTION", {"azurerm_managed_disk": lambda _, c: tf.keyed_disk(c)}
    ),
    Door("disk_key_vault_encryption", "arm", "ENCRYPTION", {"Microsoft.Compute/disks": lambda _, c: arm.keyed_disk(c)}),
    Door("snapshot_cmk_private", "terraform", "ENCRYPTION", {"azurerm_snapshot": lambda _, c: tf.snapshot(c)}),
    Door("snapshot_cmk_private", "arm", "ENCRYPTION", {"Microsoft.Compute/snapshots": lambda _, c: arm.snapshot(c)}),
    Door(
        "recovery_vault_cmk_private",
        "terraform",
        "ENCRYPTION",
        {"azurerm_recovery_services_vault": lambda _, c: tf.encrypted_recovery_vault(c)},
    ),
    Door(
        "recovery_vault_cmk_private",
        "arm",
        "ENCRYPTION",
        {"Microsoft.RecoveryServices/vaults": lambda _, c: arm.encrypted_recovery_vault(c)},
    ),
    Door(
        "storage_account_private_https",
        "terraform",
        "GENERAL_SECURITY",
        {"azurerm_storage_account": lambda _, c: tf.protected_storage_account(c)},
    ),
    Door(
        "storage_account_private_https",
        "arm",
        "GENERAL_SECURITY",
        {"Microsoft.Storage/storageAccounts": lambda _, c: arm.protected_storage_account(c)},
    ),
    Door(
        "protecting_keys_hygiene",
        "terraform",
        "ENCRYPTION",
        {"azurerm_key_vault_key": lambda _, conf: tf.key_vault_key(conf)},
    ),
    Door(
        "protecting_keys_hygiene",
        "arm",
        "ENCRYPTION",
        {"Microsoft.KeyVault/vaults/keys": lambda _, conf: arm.key_vault_key(conf)},
    ),
    Door(
        "security_contact_admin_email",
        "terraform",
        "LOGGING",
        {"azurerm_security_center_contact": lambda _, conf: tf.security_contact(conf)},
    ),
    Door(
        "security_contact_admin_email",
        "arm",
        "LOGGING",
        {"Microsoft.Security/securityContacts": lambda _, conf: arm.security_contact(conf)},
    ),
    Door(
        "alert_to_email",
        "terraform",
        "LOGGING",
        {
            "azurerm_monitor_action_group": lambda _, conf: tf.action_group(conf),
            "azurerm_monitor_activity_log_alert": tf.alert_rule,
            "azurerm_monitor_metric_alert": tf.alert_rule,
        },
    ),
    Door(
        "alert_to_email",
        "arm",
        "LOGGING",
        {
            "Microsoft.Insights/actionGroups": lambda _, conf: arm.action_group(conf),
            arm.ACTIVITY_LOG_ALERT: arm.alert_rule,
            arm.METRIC_ALERT: arm.alert_rule,
        },
    ),
    Door(
        "defender_plans",
        "terraform",
        "GENERAL_SECURITY",
        {"azurerm_security_center_subscription_pricing": lambda _, conf: tf.defender_plan(conf)},
    ),
    Door(
        "defender_plans",
        "arm",
        "GENERAL_SECURITY",
        {"Microsoft.Security/pricings": lambda _, conf: arm.defender_plan(conf)},
    ),
    # NET-01 and NET-04: an NSG with its inline rules, or one standalone rule (Bicep declares both the same way).
    *(
        door
        for rule in ("nsg_rdp_exposure", "nsg_management_port_exposure")
        for door in (
            Door(rule, "terraform", "NETWORKING", dict.fromkeys((tf.NSG, tf.NSG_RULE), tf.network_security_group)),
            Door(rule, "arm", "NETWORKING", dict.fromkeys((arm.NSG, arm.NSG_RULE), arm.network_security_group)),
        )
    ),
    # NET-01: the DNAT rules of a firewall policy's rule collection group, and a firewall's classic ones.
    Door(
        "firewall_rdp_dnat",
        "terraform",
        "NETWORKING",
        {
            tf.RULE_COLLECTION_GROUP: lambda _, conf: tf.firewall_rule_collection_group(conf),
            tf.FIREWALL_NAT_RULE_COLLECTION: lambda _, conf: tf.firewall_nat_rule_collection(conf),
        },
    ),
    Door(
        "firewall_rdp_dnat",
        "arm",
        "NETWORKING",
        {
            arm.RULE_COLLECTION_GROUP: lambda _, conf: arm.firewall_rule_collection_group(conf),
            arm.FIREWALL: lambda _, conf: arm.azure_firewall(conf),
        },
    ),
    Door(
        "privileged_role_holders", "terraform", "IAM", {"azurerm_role_assignment": lambda _, c: tf.role_assignment(c)}
    ),
    Door("privileged_role_holders", "arm", "IAM", {arm.ROLE_ASSIGNMENT: lambda _, conf: arm.role_assignment(conf)}),
    # Recovery: a policy is declared apart from what it protects, so code shows its schedule and retention;
    # a SQL VM its Automated Backup; a database its long-term retention; storage and vaults their redundancy.
    Door(
        "vm_daily_backup",
        "terraform",
        "BACKUP_AND_RECOVERY",
        {"azurerm_backup_policy_vm": lambda _, conf: tf.vm_backup_policy(conf)},
    ),
    Door("vm_daily_backup", "arm", "BACKUP_AND_RECOVERY", {arm.BACKUP_POLICY: lambda _, conf: arm.backup_policy(conf)}),
    Door(
        "sql_backup_policy",
        "terraform",
        "BACKUP_AND_RECOVERY",
        {
            "azurerm_backup_policy_vm_workload": lambda _, conf: tf.workload_backup_policy(conf),
            "azurerm_mssql_virtual_machine": lambda _, conf: tf.mssql_virtual_machine(conf),
        },
    ),
    Door(
        "sql_backup_policy",
        "arm",
        "BACKUP_AND_RECOVERY",
        {
            arm.BACKUP_POLICY: lambda _, conf: arm.backup_policy(conf),
            arm.SQL_VIRTUAL_MACHINE: lambda _, conf: arm.sql_virtual_machine(conf),
        },
    ),
    Door(
        "sql_database_retention",
        "terraform",
        "BACKUP_AND_RECOVERY",
        {"azurerm_mssql_database": lambda _, conf: tf.sql_database(conf)},
    ),
    Door(
        "sql_database_retention",
        "arm",
        "BACKUP_AND_RECOVERY",
        {arm.LONG_TERM_RETENTION: lambda _, conf: arm.long_term_retention(conf)},
    ),
    Door(
        "backup_geo_redundancy",
        "terraform",
        "BACKUP_AND_RECOVERY",
        {
            "azurerm_storage_account": lambda _, conf: tf.backup_storage_account(conf),
            "azurerm_recovery_services_vault": lambda _, conf: tf.recovery_vault(conf),
        },
    ),
    Door(
        "backup_geo_redundancy",
        "arm",
        "BACKUP_AND_RECOVERY",
        {
            arm.STORAGE_ACCOUNT: lambda _, conf: arm.backup_storage_account(conf),
            arm.RECOVERY_VAULT: lambda _, conf: arm.recovery_vault(conf),
            arm.VAULT_STORAGE_CONFIG: lambda _, conf: arm.vault_storage_config(conf),
        },
    ),
)


def doors(language: Language) -> tuple[Door, ...]:
    """The doors of one language, in table order."""
    return tuple(d for d in DOORS if d.language == language)


def frameworks_of(rule_id: str) -> frozenset[str]:
    """The IaC frameworks (terraform, arm, bicep) a rule has a door for; empty when code cannot decide it."""
    found: set[str] = set()
    for door in DOORS:
        if door.rule == rule_id:
            found |= FRAMEWORKS_OF_LANGUAGE[door.language]
    return frozenset(found)


@cache
def registered(rule_id: str) -> RegisteredCheck:
    """The built-in rule a door applies."""
    return builtin_registry()[rule_id]


def rule_of(check_id: str) -> str | None:
    """The rule id behind one of the auditor's checkov check ids; None for checkov's own checks."""
    if not check_id.startswith(IAC_PREFIX):
        return None
    wanted = check_id[len(IAC_PREFIX) :].lower()
    return wanted if any(d.rule == wanted for d in DOORS) else None


def judge_resource(door: Door, resource_type: str, conf: Mapping[str, Any], params: Params) -> Verdict | None:
    """The rule's verdict on one resource in code; None when the resource is not the rule's subject.

    A value the code leaves to deployment (an expression, a variable) or an unreadable one is an error naming
    it: the rule never passes what the code does not state.
    """
    try:
        record = door.builders[resource_type](resource_type, conf)
    except UndecidableError as exc:
        return erroring(str(exc))
    if record is None:
        return None
    moment = params.as_of or datetime.now(UTC)
    verdict = registered(door.rule).decide(record, params.at(moment))
    problems = getattr(record, "unreadable", ())
    if verdict is not None and problems and verdict.status in {Status.PASS, Status.NOT_APPLICABLE}:
        named = "; ".join(p.describe() for p in problems)
        return replace(verdict, status=Status.ERROR, message=f"cannot be judged from the code: {named}")
    return verdict

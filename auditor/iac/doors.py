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
from auditor.checks.antimalware import declared_in_code
from auditor.checks.firewall_layers import FirewallLayer, NicCoverage, SubnetEgress
from auditor.checks.images import SupportSubject
from auditor.checks.index import ById
from auditor.checks.vpn import NsgAdminSources
from auditor.iac import arm_records as arm
from auditor.iac import terraform_records as tf
from auditor.iac.conf_values import UndecidableError
from auditor.model import Status, Verdict, erroring
from auditor.parameters import Params
from auditor.records.network import AzureFirewall, FirewallPolicy, RouteTable, VirtualNetwork
from auditor.registry import IAC_PREFIX, RegisteredCheck

Language = Literal["terraform", "arm"]
TF_NSGS = (tf.NSG, tf.NSG_RULE)
ARM_NSGS = (arm.NSG, arm.NSG_RULE)
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
    # NET-02: a gateway's point-to-site authentication; an NSG's admin rules, its VPN pools not being in its code.
    Door(
        "vpn_p2s_authentication",
        "terraform",
        "NETWORKING",
        {"azurerm_virtual_network_gateway": lambda _, conf: tf.virtual_network_gateway(conf)},
    ),
    Door(
        "vpn_p2s_authentication",
        "arm",
        "NETWORKING",
        {"Microsoft.Network/virtualNetworkGateways": lambda _, conf: arm.virtual_network_gateway(conf)},
    ),
    Door(
        "remote_admin_sources_via_vpn",
        "terraform",
        "NETWORKING",
        {kind: lambda kind, conf: NsgAdminSources(tf.network_security_group(kind, conf), None) for kind in TF_NSGS},
    ),
    Door(
        "remote_admin_sources_via_vpn",
        "arm",
        "NETWORKING",
        {kind: lambda kind, conf: NsgAdminSources(arm.network_security_group(kind, conf), None) for kind in ARM_NSGS},
    ),
    # NET-03: the threat-intelligence mode a firewall or firewall policy declares.
    Door(
        "azure_firewall_protects_servers",
        "terraform",
        "NETWORKING",
        {
            "azurerm_firewall": lambda _, conf: declared_layer(tf.azure_firewall(conf)),
            "azurerm_firewall_policy": lambda _, conf: declared_layer(tf.firewall_policy(conf)),
        },
    ),
    Door(
        "azure_firewall_protects_servers",
        "arm",
        "NETWORKING",
        {
            "Microsoft.Network/azureFirewalls": lambda _, conf: declared_layer(arm.threat_intel_firewall(conf)),
            "Microsoft.Network/firewallPolicies": lambda _, conf: declared_layer(arm.firewall_policy(conf)),
        },
    ),
    # NET-03: the NSG on every subnet a virtual network declares; the default route a route table declares.
    Door(
        "vm_nics_have_nsg",
        "terraform",
        "NETWORKING",
        {"azurerm_virtual_network": lambda _, conf: declared_subnets(tf.virtual_network(conf))},
    ),
    Door(
        "vm_nics_have_nsg",
        "arm",
        "NETWORKING",
        {kind: lambda kind, conf: declared_subnets(arm.virtual_network(kind, conf)) for kind in (arm.VNET, arm.SUBNET)},
    ),
    Door(
        "server_egress_filtered",
        "terraform",
        "NETWORKING",
        {
            kind: lambda kind, conf: declared_egress(tf.route_table(kind, conf), tf.names_a_firewall)
            for kind in (tf.ROUTE_TABLE, tf.ROUTE)
        },
    ),
    Door(
        "server_egress_filtered",
        "arm",
        "NETWORKING",
        {
            kind: lambda kind, conf: declared_egress(arm.route_table(kind, conf), arm.names_a_firewall)
            for kind in (arm.ROUTE_TABLE, arm.ROUTE)
        },
    ),
    # ENC-05, ENC-06, EP-01. A SQL registration in code (azurerm_mssql_virtual_machine) names no image: its
    # engine and OS are judged on its VM's image. A VM in code shows only the extensions declared with it
    # (inline in ARM), never the subscription's Defender plan: only a declared anti-malware extension is judged.
    Door(
        "sql_database_tde", "terraform", "ENCRYPTION", {"azurerm_mssql_database": lambda _, c: tf.mssql_database_tde(c)}
    ),
    Door(
        "sql_database_tde", "arm", "ENCRYPTION", {arm.SQL_DATABASE: arm.sql_database_tde, arm.TDE: arm.sql_database_tde}
    ),
    Door(
        "supported_engine_and_os",
        "terraform",
        "GENERAL_SECURITY",
        {t: lambda t, c: SupportSubject(tf.image_vm(t, c), None) for t in (tf.WINDOWS_VM, tf.LINUX_VM, tf.LEGACY_VM)},
    ),
    Door(
        "supported_engine_and_os",
        "arm",
        "GENERAL_SECURITY",
        {arm.VM: lambda _, c: SupportSubject(arm.virtual_machine(c), None)},
    ),
    Door(
        "vm_antimalware",
        "terraform",
        "GENERAL_SECURITY",
        {"azurerm_virtual_machine_extension": lambda _, c: declared_in_code(tf.extension_vm(c))},
    ),
    Door(
        "vm_antimalware",
        "arm",
        "GENERAL_SECURITY",
        {
            arm.VM: lambda _, c: declared_in_code(arm.virtual_machine(c)),
            arm.VM_EXTENSION: lambda _, c: declared_in_code(arm.extension_vm(c)),
        },
    ),
    # ENC-04: App Service sites' HTTPS-only and minimum TLS settings (the certificates and handshakes are live only).
    Door("app_service_https_tls", "terraform", "ENCRYPTION", {kind: tf.web_app for kind in tf.WEB_APP_TLS_ATTRIBUTE}),
    Door("app_service_https_tls", "arm", "ENCRYPTION", {arm.SITE: lambda _, conf: arm.web_app(conf)}),
)


def declared_layer(scope: AzureFirewall | FirewallPolicy | None) -> FirewallLayer | None:
    """The firewall layer a firewall or policy in code declares; None when the resource is not its subject."""
    return FirewallLayer(scope, None) if scope is not None else None


def declared_subnets(vnet: VirtualNetwork | None) -> NicCoverage | None:
    """The VM firewall layer a virtual network in code declares: its subnets and their NSGs."""
    return NicCoverage(vnet, None, vnet.subnets) if vnet is not None else None


def declared_egress(table: RouteTable, names_a_firewall: Callable[[str], bool]) -> SubnetEgress:
    """The outbound layer a route table in code declares; the firewall's address is the next hop naming it."""
    firewall_hops = frozenset(
        r.next_hop_ip.strip() for r in table.routes if r.next_hop_ip and names_a_firewall(r.next_hop_ip)
    )
    return SubnetEgress(None, table, firewall_hops, ById(()))


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

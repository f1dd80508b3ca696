"""Verdicts on resources declared in code, reached by the same rule functions that judge live resources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from auditor.checks.backup import (
    GEO_SKU_MARKERS,
    database_retention_verdict,
    geo_replication_shortfalls,
    sql_policy_shortfalls,
    vault_redundancy_shortfall,
    vm_policy_shortfalls,
)
from auditor.checks.iac.conf_values import UndecidableError
from auditor.model import Status, Verdict
from auditor.parameters import Params
from auditor.records.backup import BackupPolicy, RecoveryVault
from auditor.records.sql import SqlDatabase
from auditor.records.storage import StorageAccount

# Azure's region pairs (Microsoft's "Azure cross-region replication pairings"): the secondary region of
# a geo-redundant account is its primary's pair, which the code cannot choose and so never states.
REGION_PAIRS = {
    "eastus": "westus",
    "westus": "eastus",
    "eastus2": "centralus",
    "centralus": "eastus2",
    "northcentralus": "southcentralus",
    "southcentralus": "northcentralus",
    "westus2": "westcentralus",
    "westcentralus": "westus2",
    "westus3": "eastus",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "northeurope": "westeurope",
    "westeurope": "northeurope",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "francecentral": "francesouth",
    "germanywestcentral": "germanynorth",
    "swedencentral": "swedensouth",
    "switzerlandnorth": "switzerlandwest",
    "norwayeast": "norwaywest",
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
    "koreacentral": "koreasouth",
    "southeastasia": "eastasia",
    "eastasia": "southeastasia",
    "centralindia": "southindia",
    "southindia": "centralindia",
    "brazilsouth": "southcentralus",
    "southafricanorth": "southafricawest",
    "uaenorth": "uaecentral",
}


def decide(judge: Callable[[], Verdict | None]) -> Verdict | None:
    """The verdict (None: out of the check's scope), or an error naming the value the code leaves unknown."""
    try:
        return judge()
    except UndecidableError as exc:
        return Verdict(Status.ERROR, str(exc))


def backup_account_names(params: Params) -> frozenset[str]:
    """The storage account names the baseline treats as backup storage; empty means every account."""
    return frozenset(name.lower() for name in params.get_list("backup_storage_accounts"))


def storage_geo_verdict(account: StorageAccount, location_known: bool, params: Params) -> Verdict | None:
    """BAK-04 for a storage account; None when it is not one of the baseline's backup accounts."""
    names = backup_account_names(params)
    if names and account.name.lower() not in names:
        return None
    primary, secondary = params.get_str("primary_region"), params.get_str("secondary_region")
    geo = any(marker in (account.sku or "").upper() for marker in GEO_SKU_MARKERS)
    if not location_known and geo:
        return Verdict(
            Status.ERROR,
            f"{account.sku} is geo-redundant, but the location is an expression decided at deployment, so "
            f"replication from {primary} to {secondary} cannot be shown",
        )
    paired = REGION_PAIRS.get(account.location.replace(" ", "").lower()) if geo else None
    if geo and paired is None:
        paired = f"the region paired with {account.location}"
    declared = replace(account, primary_location=account.location, secondary_location=paired)
    problems = geo_replication_shortfalls(declared, primary, secondary)
    if problems:
        return Verdict(Status.FAIL, "Backup storage is not geo-replicated as required: " + "; ".join(problems))
    return Verdict(Status.PASS, f"{account.sku} replicates from {account.location} to {paired}")


def vault_geo_verdict(vault: RecoveryVault) -> Verdict:
    """BAK-04 for a Recovery Services vault: its backup storage is geo-redundant."""
    shortfall = vault_redundancy_shortfall(vault)
    if shortfall:
        return Verdict(Status.FAIL, shortfall)
    return Verdict(Status.PASS, "Vault stores backups GeoRedundant (replicated to the paired region)")


def vm_policy_verdict(policy: BackupPolicy, params: Params) -> Verdict:
    """BAK-01: the VM backup policy runs at least daily and keeps daily points long enough."""
    problems = vm_policy_shortfalls(policy, params.get_int("vm_backup_retention_days"))
    if problems:
        return Verdict(Status.FAIL, "VM backup policy falls short: " + "; ".join(problems))
    return Verdict(
        Status.PASS, f"Policy {policy.name} backs up {policy.schedule_frequency} with enough daily retention"
    )


def sql_policy_verdict(policy: BackupPolicy, params: Params) -> Verdict | None:
    """BAK-02 for a SQL workload policy; None for a policy of another workload."""
    if (policy.workload_type or "").lower() != "sqldatabase":
        return None
    problems, platform = sql_policy_shortfalls(
        policy,
        params.get_int("db_backup_retention_days"),
        params.get_int("log_backup_interval_minutes"),
        params.get_int("differential_backups_per_day"),
    )
    if not problems:
        return Verdict(Status.PASS, f"Policy {policy.name} meets the database backup schedule and retention")
    message = f"Policy {policy.name} falls short: " + "; ".join(problems)
    if platform:
        message += ". Platform limits: " + "; ".join(platform)
    return Verdict(Status.FAIL, message)


def database_verdict(database: SqlDatabase, params: Params) -> Verdict:
    """BAK-02 for an Azure SQL database: backups kept long enough through long-term retention."""
    status, message = database_retention_verdict(database, params.get_int("db_backup_retention_days"))
    return Verdict(status, message)

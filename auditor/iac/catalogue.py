"""The auditor's own checkov checks (``auditor.checks.iac``): ids, names and the live checks they mirror.

Kept free of checkov imports so the baseline can validate its ``[controls.iac]`` tables without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TERRAFORM_ONLY = frozenset({"terraform"})
EVERY_FRAMEWORK = frozenset({"terraform", "arm", "bicep"})


@dataclass(frozen=True)
class CustomCheck:
    """One of the auditor's checkov checks: its id, its name and the live check whose rule it applies."""

    id: str
    name: str
    live_check: str
    frameworks: frozenset[str]


CUSTOM_CHECKS: Mapping[str, CustomCheck] = {
    check.id: check
    for check in (
        CustomCheck(
            "AUDITOR_NET_01",
            "NSG rules do not admit RDP from public addresses outside the whitelist",
            "nsg_rdp_exposure",
            EVERY_FRAMEWORK,
        ),
        CustomCheck(
            "AUDITOR_NET_04",
            "NSG rules do not admit management or database ports from the Internet",
            "nsg_management_port_exposure",
            EVERY_FRAMEWORK,
        ),
        CustomCheck(
            "AUDITOR_KV_01",
            "Key vaults keep soft delete and purge protection, deny public networks and use RBAC",
            "key_vault_protection",
            EVERY_FRAMEWORK,
        ),
        CustomCheck(
            "AUDITOR_ENC_01",
            "Managed disks are encrypted with a key held in Key Vault (ADE or a customer key)",
            "disk_key_vault_encryption",
            EVERY_FRAMEWORK,
        ),
        CustomCheck(
            "AUDITOR_BAK_01",
            "VM backup policies run daily and keep daily recovery points long enough",
            "vm_daily_backup",
            TERRAFORM_ONLY,
        ),
        CustomCheck(
            "AUDITOR_BAK_02",
            "SQL workload backup policies meet the database backup schedule and retention",
            "sql_backup_policy",
            TERRAFORM_ONLY,
        ),
        CustomCheck(
            "AUDITOR_BAK_02_LTR",
            "Azure SQL databases keep weekly backups long enough through long-term retention",
            "sql_database_retention",
            TERRAFORM_ONLY,
        ),
        CustomCheck(
            "AUDITOR_BAK_04",
            "Backup storage geo-replicates from the primary region; Recovery Services vaults are geo-redundant",
            "backup_geo_redundancy",
            EVERY_FRAMEWORK,
        ),
    )
}

# Key the auditor's checks add to checkov's check_result, holding {"status", "message"}: checkov knows only
# pass and fail and drops the details of ARM and Bicep results, so the verdict travels there, and a resource
# that cannot be judged (failed in checkov's eyes) is reported as an error.
VERDICT_KEY = "auditor_verdict"

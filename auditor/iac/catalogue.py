"""LEGACY: the auditor's checkov checks not yet reached through a door (``auditor.checks.iac.doors``).

Each entry disappears as its rule gets a door; ids already follow the rules' scheme (``AUDITOR_<RULE ID>``).
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
            "AUDITOR_VM_DAILY_BACKUP",
            "VM backup policies run daily and keep daily recovery points long enough",
            "vm_daily_backup",
            TERRAFORM_ONLY,
        ),
        CustomCheck(
            "AUDITOR_SQL_BACKUP_POLICY",
            "SQL workload backup policies meet the database backup schedule and retention",
            "sql_backup_policy",
            TERRAFORM_ONLY,
        ),
        CustomCheck(
            "AUDITOR_SQL_DATABASE_RETENTION",
            "Azure SQL databases keep weekly backups long enough through long-term retention",
            "sql_database_retention",
            TERRAFORM_ONLY,
        ),
        CustomCheck(
            "AUDITOR_BACKUP_GEO_REDUNDANCY",
            "Backup storage geo-replicates from the primary region; Recovery Services vaults are geo-redundant",
            "backup_geo_redundancy",
            EVERY_FRAMEWORK,
        ),
    )
}

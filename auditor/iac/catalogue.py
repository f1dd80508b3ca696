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
            "AUDITOR_NSG_RDP_EXPOSURE",
            "NSG rules do not admit RDP from public addresses outside the whitelist",
            "nsg_rdp_exposure",
            EVERY_FRAMEWORK,
        ),
        CustomCheck(
            "AUDITOR_NSG_MANAGEMENT_PORT_EXPOSURE",
            "NSG rules do not admit management or database ports from the Internet",
            "nsg_management_port_exposure",
            EVERY_FRAMEWORK,
        ),
        CustomCheck(
            "AUDITOR_DISK_KEY_VAULT_ENCRYPTION",
            "Managed disks are encrypted with a key held in Key Vault (ADE or a customer key)",
            "disk_key_vault_encryption",
            EVERY_FRAMEWORK,
        ),
    )
}

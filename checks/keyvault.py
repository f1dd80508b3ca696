"""Key vault checks: vaults protected against deletion and exposure (KV-01)."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, failed, passed
from auditor.parameters import Params
from auditor.records.keyvault import KeyVault
from auditor.registry import Remediation, check


def vault_shortfalls(vault: KeyVault, min_soft_delete_days: int) -> list[str]:
    """Each way the vault falls short of the protection the policy relies on; empty when none."""
    problems: list[str] = []
    if vault.soft_delete_enabled is not True:
        state = "not reported" if vault.soft_delete_enabled is None else "disabled"
        problems.append(f"soft delete {state}")
    days = vault.soft_delete_retention_days
    if days is None:
        problems.append("soft-delete retention not reported")
    elif days < min_soft_delete_days:
        problems.append(f"soft-delete retention {days} days < {min_soft_delete_days}")
    if vault.purge_protection_enabled is not True:
        problems.append("purge protection " + ("not enabled" if vault.purge_protection_enabled is None else "disabled"))
    public = (vault.public_network_access or "").lower()
    default_action = (vault.network_default_action or "").lower()
    if public != "disabled" and default_action != "deny":
        access = vault.public_network_access or "not set"
        action = vault.network_default_action or "not set"
        problems.append(f"reachable from public networks (publicNetworkAccess {access}, default action {action})")
    if vault.rbac_authorization_enabled is not True:
        problems.append("access policies instead of Azure RBAC authorization")
    return problems


@check(
    id="key_vault_protection",
    title="Key vaults keep soft delete and purge protection, deny public networks and use RBAC",
    severity=Severity.HIGH,
    resource_types=("Microsoft.KeyVault/vaults",),
    requires=("Microsoft.KeyVault/vaults",),
    parameters=("min_soft_delete_days",),
    rationale="The vault keys protect disks and backups: a purged or publicly reachable vault loses or "
    "exposes every copy of the data at once.",
    remediation=Remediation(
        summary="Enable purge protection, keep soft delete with at least the required retention, disable "
        "public network access (private endpoint) and switch the permission model to Azure RBAC.",
        portal="Key vaults > (vault) > Properties: purge protection; Networking: Disable public access; "
        "Access configuration: Azure role-based access control",
        cli="az keyvault update -g RG -n VAULT --enable-purge-protection true --public-network-access "
        "Disabled --enable-rbac-authorization true",
        terraform="purge_protection_enabled = true\nsoft_delete_retention_days = 90\n"
        "public_network_access_enabled = false\nenable_rbac_authorization = true",
        bicep="enablePurgeProtection: true\nsoftDeleteRetentionInDays: 90\npublicNetworkAccess: 'Disabled'\n"
        "enableRbacAuthorization: true",
    ),
)
def key_vault_protection(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail every vault with any shortfall, listing all of them."""
    minimum = params.get_int("min_soft_delete_days")
    for vault in inventory.key_vaults:
        evidence = {
            "enableSoftDelete": vault.soft_delete_enabled,
            "softDeleteRetentionInDays": vault.soft_delete_retention_days,
            "enablePurgeProtection": vault.purge_protection_enabled,
            "enableRbacAuthorization": vault.rbac_authorization_enabled,
            "publicNetworkAccess": vault.public_network_access,
            "networkAcls.defaultAction": vault.network_default_action,
            "private_endpoints": vault.private_endpoint_count,
        }
        problems = vault_shortfalls(vault, minimum)
        if problems:
            yield failed(vault, "Key vault falls short: " + "; ".join(problems), **evidence)
        else:
            yield passed(vault, "Soft delete, purge protection, private network access and RBAC in place", **evidence)

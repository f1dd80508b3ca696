"""Recovery Services vault encryption: backups under a Key Vault key, behind no public endpoint (ENC-02)."""

from __future__ import annotations

from auditor.model import Severity, Verdict, failing, passing
from auditor.parameters import Params
from auditor.records.backup import RecoveryVault
from auditor.registry import Remediation, check


def vault_shortfalls(vault: RecoveryVault) -> list[str]:
    """Each way a Recovery Services vault falls short of key-protected, private storage; empty when none."""
    problems: list[str] = []
    if not vault.cmk_key_uri:
        problems.append("no customer-managed key (encryption.keyVaultProperties.keyUri not set)")
    access = vault.public_network_access
    if access is None:
        problems.append("publicNetworkAccess not reported")
    elif access.lower() != "disabled":
        problems.append(f"public network access {access}")
    return problems


@check(
    id="recovery_vault_cmk_private",
    title="Recovery Services vaults encrypt backups with a Key Vault key and deny public network access",
    severity=Severity.HIGH,
    resource_types=("Microsoft.RecoveryServices/vaults",),
    requires=("Microsoft.RecoveryServices/vaults",),
    over="recovery_vaults",
    subject="Recovery Services vaults",
    rationale="The vault holds every VM backup: the policy promises them private and protected with the "
    "company's vault keys, not only Microsoft-managed ones.",
    remediation=Remediation(
        summary="Give the vault a managed identity with access to a Key Vault key, set that key as the "
        "vault's encryption key, and disable public network access (reach the vault through private endpoints).",
        portal="Recovery Services vaults > (vault) > Properties > Encryption settings: Use your own key; "
        "Networking: Deny public network access",
        cli="az backup vault encryption update -g RG -n VAULT --encryption-key-id KEY_URI "
        "--mi-system-assigned; az backup vault update -g RG -n VAULT --public-network-access Disable",
        terraform="public_network_access_enabled = false\nencryption {\n  key_id = azurerm_key_vault_key.rsv.id\n"
        "  infrastructure_encryption_enabled = true\n  use_system_assigned_identity = true\n}",
        bicep="properties: { publicNetworkAccess: 'Disabled', encryption: { keyVaultProperties: {\n"
        "  keyUri: key.properties.keyUriWithVersion }, kekIdentity: { useSystemAssignedIdentity: true } } }",
    ),
)
def recovery_vault_cmk_private(vault: RecoveryVault, params: Params) -> Verdict:
    """Fail vaults without a customer-managed key or with public network access."""
    evidence = {
        "cmk_key_uri": vault.cmk_key_uri,
        "infrastructure_encryption": vault.infrastructure_encryption,
        "public_network_access": vault.public_network_access,
    }
    problems = vault_shortfalls(vault)
    if problems:
        return failing("Vault falls short: " + "; ".join(problems), **evidence)
    return passing(
        f"Backups encrypted with customer-managed key {vault.cmk_key_uri}; public access disabled", **evidence
    )

"""KV-01 (key_vault_protection) through the live door and the IaC door: one case table, the same verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.collect.keyvault import key_vault
from auditor.model import Status
from auditor.records.keyvault import KeyVault
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity


def vault_json(name: str, **properties: Any) -> dict[str, Any]:
    """A vault as ARM GET returns it (shape of Microsoft's Vaults_Get example)."""
    settled = {
        "tenantId": "00000000-0000-0000-0000-0000000000bb",
        "sku": {"family": "A", "name": "standard"},
        "vaultUri": f"https://{name}.vault.azure.net/",
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True,
        "enableRbacAuthorization": True,
        "publicNetworkAccess": "Disabled",
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
    } | properties
    return {
        "id": arm_id("Microsoft.KeyVault/vaults", name),
        "name": name,
        "type": "Microsoft.KeyVault/vaults",
        "location": "eastus",
        "properties": settled,
    }


def terraform(name: str, *settings: str) -> str:
    """An azurerm_key_vault with the secure settings, then the case's own lines."""
    lines = {
        "purge_protection_enabled": "true",
        "soft_delete_retention_days": "90",
        "public_network_access_enabled": "false",
        "rbac_authorization_enabled": "true",
    }
    for setting in settings:
        key, value = setting.split("=", 1)
        lines[key.strip()] = value.strip()
    body = "\n".join(f"  {k} = {v}" for k, v in lines.items())
    return (
        f'resource "azurerm_key_vault" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  tenant_id = "00000000-0000-0000-0000-0000000000bb"\n'
        f'  sku_name = "standard"\n{body}\n  network_acls {{\n    default_action = "Deny"\n'
        f'    bypass = "AzureServices"\n  }}\n}}\n'
    )


def template(name: str, **properties: Any) -> dict[str, Any]:
    """The ARM template resource of the same vault."""
    body = vault_json(name, **properties)
    return {
        "type": "Microsoft.KeyVault/vaults",
        "apiVersion": "2023-07-01",
        "name": name,
        "location": "eastus",
        "properties": body["properties"],
    }


CASES = (
    Case("kv-secure", Status.PASS, vault_json("kv-secure"), terraform("kv-secure"), template("kv-secure")),
    Case(
        "kv-no-purge",
        Status.FAIL,
        vault_json("kv-no-purge", enablePurgeProtection=False),
        terraform("kv-no-purge", "purge_protection_enabled = false"),
        template("kv-no-purge", enablePurgeProtection=False),
    ),
    Case(
        "kv-short-retention",
        Status.FAIL,
        vault_json("kv-short-retention", softDeleteRetentionInDays=7),
        terraform("kv-short-retention", "soft_delete_retention_days = 7"),
        template("kv-short-retention", softDeleteRetentionInDays=7),
    ),
    Case(
        "kv-access-policies",
        Status.FAIL,
        vault_json("kv-access-policies", enableRbacAuthorization=False),
        terraform("kv-access-policies", "rbac_authorization_enabled = false"),
        template("kv-access-policies", enableRbacAuthorization=False),
    ),
    Case(
        "kv-retention-param",
        Status.PASS,
        vault_json("kv-retention-param", softDeleteRetentionInDays=30),
        terraform("kv-retention-param", "soft_delete_retention_days = 30"),
        template("kv-retention-param", softDeleteRetentionInDays=30),
        params={"min_soft_delete_days": "30"},
    ),
)


def build(raw: Mapping[str, Any]) -> KeyVault:
    """The record a live scan builds of the vault."""
    return key_vault(raw, SUBSCRIPTION)


def test_key_vault_protection_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("key_vault_protection", build, CASES, tmp_path)

"""ENC-03 (storage_account_private_https) through the live door and the IaC door: one case table, the same verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks.storage import BackupAwareAccount
from auditor.collect.storage import storage_account
from auditor.iac.doors import doors, judge_resource
from auditor.model import Status
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, params

VAULT_URI = "https://kv-parity.vault.azure.net/"
SECURE: dict[str, Any] = {
    "allowBlobPublicAccess": False,
    "publicNetworkAccess": "Disabled",
    "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
    "supportsHttpsTrafficOnly": True,
    "minimumTlsVersion": "TLS1_2",
    "encryption": {
        "keySource": "Microsoft.Keyvault",
        "keyvaultproperties": {"keyvaulturi": VAULT_URI, "keyname": "st-cmk"},
        "services": {"blob": {"enabled": True, "keyType": "Account"}},
    },
}
PLATFORM_KEY = {"keySource": "Microsoft.Storage", "services": {"blob": {"enabled": True, "keyType": "Account"}}}


def account_json(name: str, **properties: Any) -> dict[str, Any]:
    """An account as ARM GET returns it (shape of Microsoft's StorageAccounts_GetProperties example)."""
    return {
        "id": arm_id("Microsoft.Storage/storageAccounts", name),
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": "eastus",
        "kind": "StorageV2",
        "sku": {"name": "Standard_RAGRS", "tier": "Standard"},
        "properties": SECURE | properties,
    }


def terraform(name: str, *settings: str, network: str = "Deny", cmk: bool = True) -> str:
    """An azurerm_storage_account with the secure settings, then the case's own lines."""
    lines = {
        "allow_nested_items_to_be_public": "false",
        "public_network_access_enabled": "false",
        "https_traffic_only_enabled": "true",
        "min_tls_version": '"TLS1_2"',
    }
    for setting in settings:
        key, value = setting.split("=", 1)
        lines[key.strip()] = value.strip()
    body = "\n".join(f"  {k} = {v}" for k, v in lines.items())
    key = (
        '  customer_managed_key {\n    key_vault_key_id = "https://kv-parity.vault.azure.net/keys/st-cmk/0123456789"\n'
        '    user_assigned_identity_id = "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-parity'
        '/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-st"\n  }\n'
        if cmk
        else ""
    )
    return (
        f'resource "azurerm_storage_account" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  account_tier = "Standard"\n  account_replication_type = "RAGRS"\n'
        f'{body}\n  network_rules {{\n    default_action = "{network}"\n    bypass = ["AzureServices"]\n  }}\n{key}}}\n'
    )


def template(name: str, **properties: Any) -> dict[str, Any]:
    """The ARM template resource of the same account."""
    body = account_json(name, **properties)
    return {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": "2023-05-01",
        "name": name,
        "location": "eastus",
        "kind": "StorageV2",
        "sku": {"name": "Standard_RAGRS"},
        "properties": body["properties"],
    }


def case(name: str, expected: Status, *settings: str, network: str = "Deny", cmk: bool = True, **props: Any) -> Case:
    """One account written the three ways, the Terraform settings and ARM properties naming the same change."""
    return Case(
        name,
        expected,
        account_json(name, **props),
        terraform(name, *settings, network=network, cmk=cmk),
        template(name, **props),
    )


CASES = (
    case("stparitysecure", Status.PASS),
    case(
        "stparityfirewall",
        Status.PASS,
        "public_network_access_enabled = true",
        publicNetworkAccess="Enabled",
    ),
    case("stparityblob", Status.FAIL, "allow_nested_items_to_be_public = true", allowBlobPublicAccess=True),
    case(
        "stparitypublic",
        Status.FAIL,
        "public_network_access_enabled = true",
        network="Allow",
        publicNetworkAccess="Enabled",
        networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"},
    ),
    case("stparityhttp", Status.FAIL, "https_traffic_only_enabled = false", supportsHttpsTrafficOnly=False),
    case("stparitytls10", Status.FAIL, 'min_tls_version = "TLS1_0"', minimumTlsVersion="TLS1_0"),
    case("stparityplatform", Status.FAIL, cmk=False, encryption=PLATFORM_KEY),
    Case(
        "stparitynotbackup",
        Status.PASS,
        account_json("stparitynotbackup", encryption=PLATFORM_KEY),
        terraform("stparitynotbackup", cmk=False),
        template("stparitynotbackup", encryption=PLATFORM_KEY),
        params={"backup_storage_accounts": "stparityother"},
    ),
)


def build(raw: Mapping[str, Any]) -> BackupAwareAccount:
    """The record a live scan builds of the account (no SQL VM backs up to it)."""
    return BackupAwareAccount(storage_account(raw, SUBSCRIPTION))


def test_storage_account_private_https_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("storage_account_private_https", build, CASES, tmp_path)


(TERRAFORM,) = [d for d in doors("terraform") if d.rule == "storage_account_private_https"]
(ARM,) = [d for d in doors("arm") if d.rule == "storage_account_private_https"]


@pytest.mark.parametrize(
    ("door", "resource_type", "conf", "named"),
    [
        (
            TERRAFORM,
            "azurerm_storage_account",
            {"name": ["st"], "min_tls_version": ["${var.tls}"]},
            "min_tls_version",
        ),
        (
            ARM,
            "Microsoft.Storage/storageAccounts",
            {"name": "st", "properties": {"supportsHttpsTrafficOnly": "[parameters('https')]"}},
            "supportsHttpsTrafficOnly",
        ),
    ],
    ids=["terraform variable", "arm parameter"],
)
def test_a_setting_left_to_deployment_is_an_error(
    door: Any, resource_type: str, conf: dict[str, Any], named: str
) -> None:
    verdict = judge_resource(door, resource_type, conf, params())
    assert verdict is not None
    assert verdict.status is Status.ERROR
    assert named in verdict.message


def test_code_defaults_are_the_platform_defaults() -> None:
    """Terraform left at provider defaults fails on public blobs, the public endpoint and the platform key."""
    verdict = judge_resource(TERRAFORM, "azurerm_storage_account", {"name": ["st"]}, params())
    assert verdict is not None
    assert verdict.status is Status.FAIL
    assert verdict.message == (
        "Storage account falls short: blob public access allowed; reachable from public networks "
        "(publicNetworkAccess Enabled, networkAcls.defaultAction Allow); key source Microsoft.Storage, not Key Vault "
        "(Microsoft.Keyvault)"
    )

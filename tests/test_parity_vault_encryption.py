"""ENC-02's vaults (recovery_vault_cmk_private) through the live door and the IaC door: the same verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.collect.backup import recovery_vault
from auditor.iac.doors import doors, judge_resource
from auditor.model import Status
from auditor.records.backup import RecoveryVault
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, params

KEY_URI = "https://kv-parity.vault.azure.net/keys/rsv-cmk/0123456789abcdef"
CMK = {
    "keyVaultProperties": {"keyUri": KEY_URI},
    "kekIdentity": {"useSystemAssignedIdentity": True},
    "infrastructureEncryption": "Enabled",
}


def vault_json(name: str, **properties: Any) -> dict[str, Any]:
    """A vault as ARM GET returns it (shape of Microsoft's Vaults_Get example)."""
    settled = {
        "provisioningState": "Succeeded",
        "publicNetworkAccess": "Disabled",
        "redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Enabled"},
    } | properties
    return {
        "id": arm_id("Microsoft.RecoveryServices/vaults", name),
        "name": name,
        "type": "Microsoft.RecoveryServices/vaults",
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "sku": {"name": "Standard"},
        "properties": settled,
    }


def terraform(name: str, *, public: bool = False, cmk: bool = True) -> str:
    """An azurerm_recovery_services_vault with or without a customer-managed key and public access."""
    encryption = (
        f'  encryption {{\n    key_id = "{KEY_URI}"\n    infrastructure_encryption_enabled = true\n'
        "    use_system_assigned_identity = true\n  }\n"
        if cmk
        else ""
    )
    return (
        f'resource "azurerm_recovery_services_vault" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  sku = "Standard"\n'
        f"  public_network_access_enabled = {str(public).lower()}\n  cross_region_restore_enabled = true\n"
        f'  identity {{\n    type = "SystemAssigned"\n  }}\n{encryption}}}\n'
    )


def template(name: str, **properties: Any) -> dict[str, Any]:
    """The ARM template resource of the same vault."""
    body = vault_json(name, **properties)["properties"]
    return {
        "type": "Microsoft.RecoveryServices/vaults",
        "apiVersion": "2024-04-01",
        "name": name,
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "sku": {"name": "Standard", "tier": "Standard"},
        "properties": {k: v for k, v in body.items() if k != "provisioningState"},
    }


CASES = (
    Case(
        "rsv-parity-cmk",
        Status.PASS,
        vault_json("rsv-parity-cmk", encryption=CMK),
        terraform("rsv-parity-cmk"),
        template("rsv-parity-cmk", encryption=CMK),
    ),
    Case(
        "rsv-parity-platform",
        Status.FAIL,
        vault_json("rsv-parity-platform"),
        terraform("rsv-parity-platform", cmk=False),
        template("rsv-parity-platform"),
    ),
    Case(
        "rsv-parity-public",
        Status.FAIL,
        vault_json("rsv-parity-public", encryption=CMK, publicNetworkAccess="Enabled"),
        terraform("rsv-parity-public", public=True),
        template("rsv-parity-public", encryption=CMK, publicNetworkAccess="Enabled"),
    ),
)


def build(raw: Mapping[str, Any]) -> RecoveryVault:
    """The record a live scan builds of the vault."""
    return recovery_vault(raw, SUBSCRIPTION)


def test_recovery_vault_cmk_private_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("recovery_vault_cmk_private", build, CASES, tmp_path)


(TERRAFORM,) = [d for d in doors("terraform") if d.rule == "recovery_vault_cmk_private"]
(ARM,) = [d for d in doors("arm") if d.rule == "recovery_vault_cmk_private"]


@pytest.mark.parametrize(
    ("door", "resource_type", "conf", "named"),
    [
        (
            TERRAFORM,
            "azurerm_recovery_services_vault",
            {"name": ["rsv"], "public_network_access_enabled": ["${var.public}"]},
            "public_network_access_enabled",
        ),
        (
            ARM,
            "Microsoft.RecoveryServices/vaults",
            {"name": "rsv", "properties": {"publicNetworkAccess": "[parameters('access')]"}},
            "publicNetworkAccess",
        ),
    ],
    ids=["terraform variable", "arm parameter"],
)
def test_public_access_left_to_deployment_is_an_error(
    door: Any, resource_type: str, conf: dict[str, Any], named: str
) -> None:
    verdict = judge_resource(door, resource_type, conf, params())
    assert verdict is not None
    assert verdict.status is Status.ERROR
    assert named in verdict.message


@pytest.mark.parametrize(
    ("door", "resource_type", "conf"),
    [
        (TERRAFORM, "azurerm_recovery_services_vault", {"name": ["rsv"]}),
        (ARM, "Microsoft.RecoveryServices/vaults", {"name": "rsv", "properties": {}}),
    ],
    ids=["terraform", "arm"],
)
def test_a_vault_left_at_defaults_is_public_and_under_platform_keys(
    door: Any, resource_type: str, conf: dict[str, Any]
) -> None:
    verdict = judge_resource(door, resource_type, conf, params())
    assert verdict is not None
    assert verdict.message == (
        "Vault falls short: no customer-managed key (encryption.keyVaultProperties.keyUri not set); "
        "public network access Enabled"
    )


def test_a_key_named_by_reference_counts_as_the_vault_key() -> None:
    conf = {
        "name": ["rsv"],
        "public_network_access_enabled": [False],
        "encryption": [{"key_id": ["azurerm_key_vault_key.rsv.id"], "infrastructure_encryption_enabled": [True]}],
    }
    verdict = judge_resource(TERRAFORM, "azurerm_recovery_services_vault", conf, params())
    assert verdict is not None
    assert verdict.status is Status.PASS
    assert verdict.evidence["cmk_key_uri"] == "azurerm_key_vault_key.rsv.id"

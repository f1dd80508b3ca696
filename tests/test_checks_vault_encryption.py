"""ENC-02's Recovery Services vaults: backups under a Key Vault key, no public network access."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.vault_encryption import recovery_vault_cmk_private
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.backup import RecoveryVault
from tests.builders import SUB, make_inventory, results, rid


def make_recovery_vault(**settings: Any) -> RecoveryVault:
    """A Recovery Services vault with a customer key and public access disabled unless settings say otherwise."""
    values: dict[str, Any] = {
        "public_network_access": "Disabled",
        "cmk_key_uri": "https://kv.vault.azure.net/keys/rsv/1",
        "infrastructure_encryption": "Enabled",
        "storage_redundancy": "GeoRedundant",
        "cross_region_restore": True,
    } | settings
    return RecoveryVault(rid("Microsoft.RecoveryServices/vaults", "rsv"), "rsv", SUB, "rg-test", "eastus", **values)


@pytest.mark.parametrize(
    ("settings", "expected", "says"),
    [
        ({}, Status.PASS, "customer-managed key https://kv.vault.azure.net/keys/rsv/1"),
        ({"cmk_key_uri": None}, Status.FAIL, "no customer-managed key (encryption.keyVaultProperties.keyUri not set)"),
        ({"public_network_access": "Enabled"}, Status.FAIL, "public network access Enabled"),
        ({"public_network_access": None}, Status.FAIL, "publicNetworkAccess not reported"),
        (
            {"cmk_key_uri": None, "public_network_access": "Enabled"},
            Status.FAIL,
            "keyUri not set); public network access Enabled",
        ),
    ],
    ids=["CMK and private", "platform key", "public", "access not reported", "both"],
)
def test_recovery_vault_cmk_private(settings: dict[str, Any], expected: Status, says: str) -> None:
    vault = make_recovery_vault(**settings)
    verdict = recovery_vault_cmk_private(vault, Params({}))
    assert verdict.status is expected
    assert says in verdict.message
    assert verdict.evidence == {
        "cmk_key_uri": vault.cmk_key_uri,
        "infrastructure_encryption": "Enabled",
        "public_network_access": vault.public_network_access,
    }


def test_every_vault_is_judged_and_none_is_not_applicable() -> None:
    vaults = [make_recovery_vault(), make_recovery_vault(public_network_access="Enabled")]
    found = results(recovery_vault_cmk_private, make_inventory(recovery_vaults=vaults), Params({}))
    assert [r.status for r in found] == [Status.PASS, Status.FAIL]
    assert results(recovery_vault_cmk_private, make_inventory(), Params({})) == []

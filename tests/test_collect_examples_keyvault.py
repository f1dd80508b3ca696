"""Microsoft's key vault example (Microsoft.KeyVault 2025-05-01) through the real clients.

The Get example is an access-policy vault open to public networks that reports neither soft delete nor
purge protection: KV-01 fails, naming each shortfall, and the absent soft-delete settings are reported as
not reported rather than taken as on.
"""

from __future__ import annotations

from typing import Any

from auditor.collect import keyvault
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import rehome
from tests.test_collect_integration import judge

VAULTS = "keyvault/resource-manager/Microsoft.KeyVault/KeyVault/stable/2025-05-01/examples/"


def vault_example() -> dict[str, Any]:
    """The vault Get example, re-homed into the test subscription."""
    return rehome(example_body(VAULTS + "getVault.json"), keyvault.VAULTS_API)


def scan(*resources: dict[str, Any]) -> Inventory:
    """Collect key vaults from an estate of these resources."""
    with serve(e.estate(*resources)) as (_, session):
        return collect_inventory(session, steps=keyvault.STEPS)


def kv01(inventory: Inventory) -> tuple[Status, str]:
    """The KV-01 verdict of the one vault."""
    (finding,) = [f for f in judge(inventory).findings if f.check_id == "key_vault_protection"]
    return finding.status, finding.message


def test_the_vault_example_is_collected_as_published() -> None:
    inventory = scan(vault_example())
    assert not [c for c in inventory.collections if not c.ok]
    (vault,) = inventory.key_vaults
    assert vault.unreadable == ()
    assert vault.name == "sample-vault" and vault.resource_group == "sample-resource-group"
    assert vault.public_network_access == "Enabled"
    assert vault.vault_uri == "https://sample-vault.vault.azure.net"
    # Absent from the answer, so not known: never read as enabled.
    assert vault.soft_delete_enabled is None and vault.purge_protection_enabled is None
    assert vault.rbac_authorization_enabled is None


def test_a_public_access_policy_vault_without_purge_protection_fails_kv01() -> None:
    status, message = kv01(scan(vault_example()))
    assert status is Status.FAIL
    assert "purge protection not enabled" in message
    assert "soft delete not reported" in message
    assert "reachable from public networks" in message


def test_the_vault_with_every_protection_set_passes_kv01() -> None:
    body = vault_example()
    body["properties"] |= {
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True,
        "enableRbacAuthorization": True,
        "publicNetworkAccess": "Disabled",
    }
    status, _ = kv01(scan(body))
    assert status is Status.PASS

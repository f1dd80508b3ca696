"""Microsoft's key vault example (Microsoft.KeyVault 2025-05-01) through the real clients.

The Get example is an access-policy vault open to public networks that reports neither soft delete nor
purge protection: KV-01 fails, naming each shortfall, and the absent soft-delete settings are reported as
not reported rather than taken as on.

The keys examples (the same api-version, in the older folder layout) list two keys with attributes and URIs
only; the collector reads each again with its GET, answered with the getKey example under the listed key's
name. The key URIs carry an explicit ``:443``; a SQL TDE protector (Microsoft's example, pointed at the first
key without the port) still finds its key, an RSA 2048 key with no expiry and no rotation policy: KV-02 fails.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.collect import backup, compute, keys, keyvault, sql, storage
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


KEYS = "keyvault/resource-manager/Microsoft.KeyVault/stable/2025-05-01/examples/"
SQL = "sql/resource-manager/Microsoft.Sql/stable/2025-01-01/examples/"
KEY_VERSION = "fd618d9519b74f9aae94ade66b876acc"  # The getKey example's version.


def keys_estate() -> dict[str, Any]:
    """The vault example renamed to the keys examples' vault, its key list and each key's GET served raw, and a
    SQL server whose TDE protector uses the first key."""
    listing = rehome(example_body(KEYS + "listKeys.json"), "")
    del listing["type"]  # Added by rehome; a list body has none.
    vault = vault_example()
    vault["id"] = listing["value"][0]["id"].rsplit("/keys/", 1)[0]
    vault["name"] = "sample-vault-name"
    raw = [{"path": vault["id"] + "/keys", "status": 200, "body": json.dumps(listing)}]
    for item in listing["value"]:
        detail = json.dumps(rehome(example_body(KEYS + "getKey.json"), "")).replace("sample-key-name", item["name"])
        raw.append({"path": item["id"], "status": 200, "body": detail})
    protector = rehome(example_body(SQL + "EncryptionProtectorGet.json"), sql.PROTECTOR_API)
    protector["properties"]["uri"] = f"https://sample-vault-name.vault.azure.net/keys/sample-key-name-1/{KEY_VERSION}"
    found = e.estate(vault, rehome(example_body(SQL + "ServerGet.json"), sql.SERVERS_API), protector)
    found["raw"] = raw
    return found


def scan_keys(served: dict[str, Any]) -> Inventory:
    """Collect vaults, keys and what KV-02 reads the uses of keys from."""
    steps = keyvault.STEPS + keys.STEPS + sql.STEPS + compute.STEPS + backup.STEPS + storage.STEPS
    with serve(served) as (_, session):
        return collect_inventory(session, steps=steps)


def test_the_keys_examples_are_collected_with_their_details() -> None:
    inventory = scan_keys(keys_estate())
    assert not [c for c in inventory.collections if not c.ok]
    found = {k.name: k for k in inventory.key_vault_keys}
    assert sorted(found) == ["sample-key-name-1", "sample-key-name-2"]
    for name, key in found.items():
        assert key.unreadable == ()
        assert (key.kty, key.key_size, key.enabled, key.expires, key.rotation_policy) == (
            "RSA",
            2048,
            True,
            None,
            False,
        )
        assert key.key_uri == f"https://sample-vault-name.vault.azure.net:443/keys/{name}"


def test_a_tde_key_without_expiry_or_rotation_fails_kv02() -> None:
    (finding,) = [f for f in judge(scan_keys(keys_estate())).findings if f.check_id == "protecting_keys_hygiene"]
    assert finding.status is Status.FAIL and finding.resource_name == "sample-key-name-1"
    assert "SQL TDE protector of sqlcrudtest-4645" in finding.message
    assert "no expiry date and no rotation policy" in finding.message

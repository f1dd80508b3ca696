"""Microsoft's SQL examples (Microsoft.Sql 2025-01-01, the api-version the collector sends) through the real clients.

A server with a Key Vault TDE protector and one vCore database whose TDE, short-term and long-term retention
answers are Microsoft's own, served at the paths the collector asks for with their bodies unchanged: the TDE
answer's ``id`` is its database's and the long-term policy's ``id`` and ``type`` put ``resourceGroups`` under
the provider, and neither stops them being read. TDE Enabled passes ENC-05; 7 days of point-in-time and a
1-month weekly long-term retention fail BAK-02's 60 days; the protector's key was not collected, so KV-02 is an
error, never a pass.
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

SQL = "sql/resource-manager/Microsoft.Sql/stable/2025-01-01/examples/"
CHILDREN = {
    "transparentDataEncryption/current": "TransparentDataEncryptionGet.json",
    "backupShortTermRetentionPolicies/default": "GetShortTermRetentionPolicy.json",
    "backupLongTermRetentionPolicies/default": "LongTermRetentionPolicyGet.json",
}


def example(name: str, kind: str) -> dict[str, Any]:
    """One SQL example, re-homed into the test subscription."""
    return rehome(example_body(SQL + name), kind)


def estate(**tde_properties: Any) -> dict[str, Any]:
    """The server and its protector as published, the database re-parented onto that server, and the
    database's child answers served raw at the database's paths; ``tde_properties`` replace TDE properties."""
    server = example("ServerGet.json", sql.SERVERS_API)
    database = example("GetVCoreDatabase.json", sql.DATABASES_API)
    # The database example names another server (testsvr); it is served as the published server's.
    database["id"] = server["id"] + "/databases/testdb"
    raw = []
    for child, name in CHILDREN.items():
        # The answer keeps its own id and type; only the path it is served at is ours.
        body = rehome(example_body(SQL + name), "")
        if child.startswith("transparentDataEncryption"):
            body["properties"] |= tde_properties
        raw.append({"path": f"{database['id']}/{child}", "status": 200, "body": json.dumps(body)})
    found = e.estate(server, example("EncryptionProtectorGet.json", sql.PROTECTOR_API), database)
    found["raw"] = raw
    return found


def scan(served: dict[str, Any]) -> Inventory:
    """Collect SQL and what its checks also read (vaults and keys, disks, backup, storage)."""
    steps = sql.STEPS + keyvault.STEPS + keys.STEPS + compute.STEPS + backup.STEPS + storage.STEPS
    with serve(served) as (_, session):
        return collect_inventory(session, steps=steps)


def finding(inventory: Inventory, check_id: str) -> tuple[Status, str]:
    """The one verdict of a check."""
    (found,) = [f for f in judge(inventory).findings if f.check_id == check_id and f.resource_id]
    return found.status, found.message


def test_the_sql_examples_are_collected_whole() -> None:
    inventory = scan(estate())
    assert not [c for c in inventory.collections if not c.ok]
    (server,) = inventory.sql_servers
    assert server.unreadable == ()
    assert server.public_network_access == "Enabled" and server.minimal_tls_version is None
    assert server.protector_kind == "AzureKeyVault" and server.protector_auto_rotation is False
    assert server.protector_key_uri == "https://someVault.vault.azure.net/keys/someKey/01234567890123456789012345678901"
    (database,) = inventory.sql_databases
    assert database.unreadable == ()
    assert (database.sku, database.tde_state, database.short_term_retention_days) == ("BC_Gen5", "Enabled", 7)
    assert (database.ltr_weekly, database.ltr_monthly, database.ltr_yearly, database.ltr_week_of_year) == (
        "P1M",
        "P1Y",
        "P5Y",
        5,
    )


def test_tde_enabled_passes_enc05() -> None:
    status, _ = finding(scan(estate()), "sql_database_tde")
    assert status is Status.PASS


def test_tde_disabled_fails_enc05() -> None:
    status, _ = finding(scan(estate(state="Disabled")), "sql_database_tde")
    assert status is Status.FAIL


def test_seven_days_and_a_month_of_weekly_backups_fail_the_60_day_retention() -> None:
    status, message = finding(scan(estate()), "sql_database_retention")
    assert status is Status.FAIL
    assert "weekly retention P1M" in message and "point-in-time retention 7 days" in message


def test_a_protector_key_that_was_not_collected_is_an_error() -> None:
    status, message = finding(scan(estate()), "protecting_keys_hygiene")
    assert status is Status.ERROR and "not among the collected keys" in message

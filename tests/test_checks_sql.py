"""ENC-05: Transparent Data Encryption of Azure SQL databases, and the attestation SQL Server on VMs needs."""

from __future__ import annotations

import pytest

from auditor.checks.sql import sql_database_tde, sql_server_machines, sql_vm_tde_attestation
from auditor.model import Status
from auditor.parameters import Params
from auditor.records.compute import ImageReference
from auditor.records.sql import SqlDatabase
from tests.builders import SUB, make_image_vm, make_inventory, make_sql_registration, rid


def make_database(name: str = "db", tde_state: str | None = "Enabled") -> SqlDatabase:
    """An Azure SQL database of the test server."""
    server = rid("Microsoft.Sql/servers", "sql")
    return SqlDatabase(f"{server}/databases/{name}", name, SUB, "rg-test", "eastus", server, "S0", tde_state)


@pytest.mark.parametrize(
    ("state", "expected", "says"),
    [
        ("Enabled", Status.PASS, "Transparent Data Encryption is Enabled"),
        ("enabled", Status.PASS, "Transparent Data Encryption is enabled"),
        ("Disabled", Status.FAIL, "Transparent Data Encryption is Disabled"),
        (None, Status.ERROR, "TDE state not collected"),
    ],
    ids=["enabled", "enabled lower case", "disabled", "not collected"],
)
def test_sql_database_tde(state: str | None, expected: Status, says: str) -> None:
    verdict = sql_database_tde(make_database(tde_state=state), Params({}))
    assert verdict is not None
    assert verdict.status is expected
    assert verdict.message == says
    assert verdict.evidence == {"server": "sql", "tde_state": state, "sku": "S0"}


def test_master_database_is_not_a_subject() -> None:
    assert sql_database_tde(make_database("master", None), Params({})) is None


TDE_PARAMS = Params({"min_tde_key_bits": 128})
SQL2014 = ImageReference("MicrosoftSQLServer", "SQL2014SP3-WS2012R2", "Enterprise", "latest")


def test_sql_vm_tde_is_manual_with_what_to_attest() -> None:
    verdict = sql_vm_tde_attestation(make_sql_registration(), TDE_PARAMS)
    assert verdict.status is Status.MANUAL
    assert "invisible to Azure Resource Manager" in verdict.message
    assert "sys.dm_database_encryption_keys encryption_state 3 and AES key >= 128 bits" in verdict.message
    assert verdict.evidence["image_offer"] == "SQL2014SP3-WS2012R2"
    assert verdict.evidence["image_sku"] == "Enterprise"
    assert verdict.evidence["min_tde_key_bits"] == 128


def test_unregistered_sql_image_vm_is_manual_too() -> None:
    image = ImageReference("MicrosoftSQLServer", "sql2022-ws2022", "enterprise-gen2", "latest")
    verdict = sql_vm_tde_attestation(make_image_vm(image=image), Params({"min_tde_key_bits": 256}))
    assert verdict.status is Status.MANUAL
    assert "without a SQL virtual machine registration" in verdict.message
    assert "AES key >= 256 bits" in verdict.message
    assert verdict.evidence["image_offer"] == "sql2022-ws2022"


def test_sql_server_machines_are_registrations_and_unregistered_sql_image_vms() -> None:
    registered = make_image_vm("sqlvm", image=SQL2014)
    unregistered = make_image_vm("sqlvm-loose", image=SQL2014)
    inventory = make_inventory(
        virtual_machines=[registered, unregistered, make_image_vm("web")],
        sql_virtual_machines=[make_sql_registration("sqlvm")],
    )
    assert [(m.type, m.name) for m in sql_server_machines(inventory)] == [
        ("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "sqlvm"),
        ("Microsoft.Compute/virtualMachines", "sqlvm-loose"),
    ]

"""SQL checks: transparent data encryption of Azure SQL databases and of SQL Server on VMs (ENC-05)."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.arm_ids import key, name_of
from auditor.checks.images import SQL_IMAGE_PUBLISHER
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, attesting, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.compute import VirtualMachine
from auditor.records.sql import SqlDatabase, SqlVirtualMachine
from auditor.registry import Remediation, check


@check(
    id="sql_database_tde",
    title="Every Azure SQL user database has Transparent Data Encryption enabled",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Sql/servers/databases",),
    requires=(
        "Microsoft.Sql/servers",
        "Microsoft.Sql/servers/databases",
        "Microsoft.Sql/servers/databases/transparentDataEncryption",
    ),
    over="sql_databases",
    subject="Azure SQL user databases",
    rationale="The policy promises the data is encrypted at rest with TDE; a database with TDE off stores its "
    "data, logs and backups in clear.",
    remediation=Remediation(
        summary="Enable Transparent Data Encryption on the database (Azure SQL uses AES-256 for the database "
        "encryption key).",
        portal="SQL databases > (database) > Security > Transparent data encryption: On",
        cli="az sql db tde set -g RG -s SERVER -d DATABASE --status Enabled",
        terraform="# TDE is on by default; re-enable it if it was turned off:\n"
        'resource "azapi_update_resource" "tde" {\n  type = "Microsoft.Sql/servers/databases/'
        'transparentDataEncryption@2023-05-01-preview"\n  name = "current"\n  parent_id = azurerm_mssql_database.'
        'db.id\n  body = { properties = { state = "Enabled" } }\n}',
        bicep="resource tde 'Microsoft.Sql/servers/databases/transparentDataEncryption@2023-05-01-preview' = "
        "{ parent: db\n  name: 'current'\n  properties: { state: 'Enabled' } }",
    ),
)
def sql_database_tde(database: SqlDatabase, params: Params) -> Verdict | None:
    """Pass user databases with TDE Enabled; error when the TDE state was not collected."""
    if database.is_system:
        return None
    evidence = {"server": name_of(database.server_id), "tde_state": database.tde_state, "sku": database.sku}
    if database.tde_state is None:
        return erroring("TDE state not collected", **evidence)
    if database.tde_state.lower() == "enabled":
        return passing(f"Transparent Data Encryption is {database.tde_state}", **evidence)
    return failing(f"Transparent Data Encryption is {database.tde_state}", **evidence)


def sql_server_machines(inventory: Inventory) -> Iterator[SqlVirtualMachine | VirtualMachine]:
    """Every SQL Server on a VM: its registration, or the VM itself where a SQL Server image has none."""
    registered = {key(m.vm_id) for m in inventory.sql_virtual_machines if m.vm_id}
    yield from inventory.sql_virtual_machines
    for vm in inventory.virtual_machines:
        if (vm.image.publisher or "").lower() == SQL_IMAGE_PUBLISHER and key(vm.id) not in registered:
            yield vm


@check(
    id="sql_vm_tde_attestation",
    title="TDE of SQL Server on VMs, invisible to Azure Resource Manager, is attested",
    severity=Severity.HIGH,
    resource_types=("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "Microsoft.Compute/virtualMachines"),
    requires=("Microsoft.SqlVirtualMachine/sqlVirtualMachines", "Microsoft.Compute/virtualMachines"),
    over=sql_server_machines,
    subject="SQL Server instances on VMs",
    parameters=("min_tde_key_bits",),
    rationale="Inside a VM, TDE is a setting of each database that only the SQL engine reports; the policy's "
    "AES-128 TDE promise needs that evidence.",
    remediation=Remediation(
        summary="Attest, per instance, that every user database shows encryption_state 3 (encrypted) in "
        "sys.dm_database_encryption_keys with an AES key of at least the required length, or enable TDE: "
        "CREATE DATABASE ENCRYPTION KEY WITH ALGORITHM = AES_256 ENCRYPTION BY SERVER CERTIFICATE cert; "
        "ALTER DATABASE db SET ENCRYPTION ON.",
        portal="SQL virtual machines > (SQL VM) > Security configuration shows Azure Key Vault integration only; "
        "verify TDE from SQL Server Management Studio > database > Tasks > Manage Database Encryption",
        cli='sqlcmd -S HOST -Q "SELECT DB_NAME(database_id), encryption_state, key_algorithm, key_length FROM '
        'sys.dm_database_encryption_keys"',
    ),
)
def sql_vm_tde_attestation(machine: SqlVirtualMachine | VirtualMachine, params: Params) -> Verdict:
    """Manual for every SQL Server on a VM (registered, or built from a SQL Server image), with what to attest."""
    bits = params.get_int("min_tde_key_bits")
    needed = (
        f"needs an attestation or the SQL connection: sys.dm_database_encryption_keys encryption_state 3 and "
        f"AES key >= {bits} bits for every user database"
    )
    if isinstance(machine, SqlVirtualMachine):
        return attesting(
            f"TDE of SQL Server on a VM is invisible to Azure Resource Manager: {needed}",
            image_offer=machine.image_offer,
            image_sku=machine.image_sku,
            vm_id=machine.vm_id,
            min_tde_key_bits=bits,
        )
    # Not registered with the SQL IaaS extension, yet built from a SQL Server image: it holds databases too.
    return attesting(
        f"SQL Server image without a SQL virtual machine registration; its TDE is invisible to Azure "
        f"Resource Manager: {needed}",
        image_publisher=machine.image.publisher,
        image_offer=machine.image.offer,
        image_sku=machine.image.sku,
        min_tde_key_bits=bits,
    )

"""Records from Resource Graph rows, through the same builders the ARM listings use.

Rows carry ``id``, ``name``, ``type``, ``location`` and ``properties`` as ARM GET returns them, so each
step hands a row to the builder of its ARM listing. VM extensions, which Resource Graph holds as rows
of their own, are joined to their VM here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from auditor.collect import (
    authorization,
    backup,
    compute,
    defender,
    firewall,
    keyvault,
    monitor,
    network,
    sql,
    storage,
    web,
)
from auditor.collect.sources import EachRow, GraphChildren, GraphListing, GraphStep, Row, rows_of

EXTENSION_TYPE = "microsoft.compute/virtualmachines/extensions"
VM_TYPE = "microsoft.compute/virtualmachines"
# Parts of "/subscriptions/S/resourceGroups/R/providers/NS/TYPE/NAME".split("/") and of a group's id.
RESOURCE_PARTS = 9
GROUP_PARTS = 5


def _each(convert: Callable[[Mapping[str, Any], str], Any]) -> EachRow:
    """A listing builder: every row through the ARM listing's builder, as the rows arrive."""
    return EachRow(convert)


def _children(convert: Callable[[Mapping[str, Any], Any], Any]) -> Callable[[Sequence[Row], Any], Iterator[Any]]:
    """A per-parent builder: every row filed under one parent through the ARM step's builder."""

    def build(rows: Sequence[Row], parent: Any) -> Iterator[Any]:
        for row in rows:
            yield convert(row, parent)

    return build


def virtual_machines(rows: Sequence[Row], subscription_id: str) -> Iterator[Any]:
    """VMs with the extensions Resource Graph lists as rows of their own, embedded as ARM embeds them."""
    extensions: dict[str, list[Row]] = {}
    for row in rows_of(rows, EXTENSION_TYPE):
        vm_id = str(row.get("id", "")).lower().rsplit("/extensions/", 1)[0]
        extensions.setdefault(vm_id, []).append(row)
    for row in rows_of(rows, VM_TYPE):
        embedded = extensions.get(str(row.get("id", "")).lower(), [])
        yield compute.virtual_machine({**row, "resources": embedded}, subscription_id)


def resource_groups(rows: Sequence[Row], subscription_id: str) -> Iterable[Any]:
    """Resource groups from ``resourcecontainers``, typed as ARM's group GET types them."""
    for row in rows:
        yield firewall.resource_group({**row, "type": "Microsoft.Resources/resourceGroups"}, subscription_id)


def gateways(rows: Sequence[Row], group: Any) -> Iterator[Any]:
    """A resource group's virtual network gateways."""
    for row in rows:
        yield firewall.virtual_network_gateway(row, group.subscription_id)


GRAPH_STEPS: tuple[GraphStep, ...] = (
    GraphListing(
        "Microsoft.Network/networkSecurityGroups",
        "resources",
        ("microsoft.network/networksecuritygroups",),
        _each(network.network_security_group),
    ),
    GraphListing(
        "Microsoft.Network/virtualNetworks",
        "resources",
        ("microsoft.network/virtualnetworks",),
        _each(network.virtual_network),
    ),
    GraphListing(
        "Microsoft.Network/networkInterfaces",
        "resources",
        ("microsoft.network/networkinterfaces",),
        _each(network.network_interface),
    ),
    GraphListing(
        "Microsoft.Network/publicIPAddresses",
        "resources",
        ("microsoft.network/publicipaddresses",),
        _each(network.public_ip_address),
    ),
    GraphListing(
        "Microsoft.Network/azureFirewalls",
        "resources",
        ("microsoft.network/azurefirewalls",),
        _each(firewall.azure_firewall),
    ),
    GraphListing(
        "Microsoft.Network/firewallPolicies",
        "resources",
        ("microsoft.network/firewallpolicies",),
        _each(firewall.firewall_policy),
    ),
    GraphListing(
        "Microsoft.Network/routeTables",
        "resources",
        ("microsoft.network/routetables",),
        _each(firewall.route_table),
    ),
    GraphListing(
        "Microsoft.Resources/resourceGroups",
        "resourcecontainers",
        ("microsoft.resources/subscriptions/resourcegroups",),
        resource_groups,
    ),
    GraphChildren(
        "Microsoft.Network/virtualNetworkGateways",
        "resources",
        ("microsoft.network/virtualnetworkgateways",),
        GROUP_PARTS,
        gateways,
    ),
    GraphListing("Microsoft.Compute/virtualMachines", "resources", (VM_TYPE, EXTENSION_TYPE), virtual_machines),
    GraphListing("Microsoft.Compute/disks", "resources", ("microsoft.compute/disks",), _each(compute.disk)),
    GraphListing("Microsoft.Compute/snapshots", "resources", ("microsoft.compute/snapshots",), _each(compute.snapshot)),
    GraphListing(
        "Microsoft.Compute/diskEncryptionSets",
        "resources",
        ("microsoft.compute/diskencryptionsets",),
        _each(compute.disk_encryption_set),
    ),
    GraphListing("Microsoft.KeyVault/vaults", "resources", ("microsoft.keyvault/vaults",), _each(keyvault.key_vault)),
    GraphListing(sql.SERVERS_API, "resources", ("microsoft.sql/servers",), _each(sql.sql_server)),
    GraphChildren(
        sql.DATABASES_API,
        "resources",
        ("microsoft.sql/servers/databases",),
        RESOURCE_PARTS,
        _children(sql.sql_database),
    ),
    GraphListing(
        sql.SQL_VMS_API,
        "resources",
        ("microsoft.sqlvirtualmachine/sqlvirtualmachines",),
        _each(sql.sql_virtual_machine),
    ),
    GraphListing(
        storage.STORAGE_ACCOUNTS_API,
        "resources",
        ("microsoft.storage/storageaccounts",),
        _each(storage.storage_account),
    ),
    GraphListing(
        "Microsoft.RecoveryServices/vaults",
        "resources",
        ("microsoft.recoveryservices/vaults",),
        _each(backup.recovery_vault),
    ),
    GraphChildren(
        "Microsoft.RecoveryServices/vaults/backupPolicies",
        "recoveryservicesresources",
        ("microsoft.recoveryservices/vaults/backuppolicies",),
        RESOURCE_PARTS,
        _children(backup.backup_policy),
    ),
    GraphChildren(
        "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "recoveryservicesresources",
        ("microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems",),
        RESOURCE_PARTS,
        _children(backup.protected_item),
    ),
    GraphListing(
        "Microsoft.Security/pricings",
        "securityresources",
        ("microsoft.security/pricings",),
        _each(defender.defender_plan),
    ),
    GraphListing(
        "Microsoft.Insights/activityLogAlerts",
        "resources",
        ("microsoft.insights/activitylogalerts",),
        _each(monitor.activity_log_alert),
    ),
    GraphListing(
        "Microsoft.Insights/metricAlerts",
        "resources",
        ("microsoft.insights/metricalerts",),
        _each(monitor.metric_alert),
    ),
    GraphListing(
        "Microsoft.Insights/actionGroups",
        "resources",
        ("microsoft.insights/actiongroups",),
        _each(monitor.action_group),
    ),
    GraphListing(
        "Microsoft.Authorization/roleAssignments",
        "authorizationresources",
        ("microsoft.authorization/roleassignments",),
        _each(authorization.role_assignment),
    ),
    GraphListing("Microsoft.Web/sites", "resources", ("microsoft.web/sites",), _each(web.web_app)),
)

"""Records from Resource Graph rows, through the same builders the ARM listings use.

Rows carry ``id``, ``name``, ``type``, ``location`` and ``properties`` as ARM GET returns them, so each
step hands a row to the builder of its ARM listing. VM extensions, which Resource Graph holds as rows
of their own, are joined to their VM here.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from azure.mgmt.authorization.models import RoleAssignment
from azure.mgmt.compute.models import (
    Disk,
    DiskEncryptionSet,
    Snapshot,
    VirtualMachine,
    VirtualMachineExtension,
)
from azure.mgmt.keyvault.models import Vault as KeyVault
from azure.mgmt.monitor.models import ActionGroupResource, ActivityLogAlertResource, MetricAlertResource
from azure.mgmt.network.models import (
    AzureFirewall,
    FirewallPolicy,
    RouteTable,
    VirtualNetworkGateway,
)
from azure.mgmt.recoveryservices.models import Vault as RecoveryVault
from azure.mgmt.recoveryservicesbackup.models import ProtectedItemResource, ProtectionPolicyResource
from azure.mgmt.sql.models import Database, Server
from azure.mgmt.sqlvirtualmachine.models import SqlVirtualMachine
from azure.mgmt.storage.models import StorageAccount
from azure.mgmt.web.models import Site

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
from auditor.collect.sources import GraphChildren, GraphListing, GraphStep, Row, rows_of

EXTENSION_TYPE = "microsoft.compute/virtualmachines/extensions"
VM_TYPE = "microsoft.compute/virtualmachines"
# Parts of "/subscriptions/S/resourceGroups/R/providers/NS/TYPE/NAME".split("/") and of a group's id.
RESOURCE_PARTS = 9
GROUP_PARTS = 5


def _reads_raw(convert: Callable[..., Any]) -> bool:
    """True for a builder that takes the raw ARM object (annotated ``Mapping``), False for an SDK model."""
    first = next(iter(inspect.signature(convert).parameters.values()))
    return "Mapping" in str(first.annotation) or "dict" in str(first.annotation)


def _model(model: type[Any], row: Row) -> Any:
    """The SDK model of a row: older (msrest) models deserialize a dict, newer ones wrap the mapping."""
    deserialize = getattr(model, "deserialize", None)
    return deserialize(dict(row)) if deserialize is not None else model(dict(row))


def _input(model: type[Any], convert: Callable[..., Any]) -> Callable[[Row], Any]:
    """What the ARM listing's builder takes, made from a row: the raw object, or its SDK model."""
    if _reads_raw(convert):
        return dict
    return lambda row: _model(model, row)


def _each(model: type[Any], convert: Callable[[Any, str], Any]) -> Callable[[Sequence[Row], str], Iterator[Any]]:
    """A listing builder: every row through the ARM listing's builder."""
    prepare = _input(model, convert)

    def build(rows: Sequence[Row], subscription_id: str) -> Iterator[Any]:
        for row in rows:
            yield convert(prepare(row), subscription_id)

    return build


def _children(model: type[Any], convert: Callable[[Any, Any], Any]) -> Callable[[Sequence[Row], Any], Iterator[Any]]:
    """A per-parent builder: every row under one parent through the ARM step's builder."""
    prepare = _input(model, convert)

    def build(rows: Sequence[Row], parent: Any) -> Iterator[Any]:
        for row in rows:
            yield convert(prepare(row), parent)

    return build


def virtual_machines(rows: Sequence[Row], subscription_id: str) -> Iterator[Any]:
    """VMs with the extensions Resource Graph lists as rows of their own."""
    vm_input = _input(VirtualMachine, compute.virtual_machine)
    extension_input = _input(VirtualMachineExtension, compute.extension)
    extensions: dict[str, list[Row]] = {}
    for row in rows_of(rows, EXTENSION_TYPE):
        vm_id = str(row.get("id", "")).lower().rsplit("/extensions/", 1)[0]
        extensions.setdefault(vm_id, []).append(row)
    for row in rows_of(rows, VM_TYPE):
        vm = compute.virtual_machine(vm_input(row), subscription_id)
        found = extensions.get(str(row.get("id", "")).lower(), [])
        yield dataclasses.replace(
            vm,
            extensions=tuple(compute.extension(extension_input(e)) for e in found),
            extensions_known=True,
        )


def resource_groups(rows: Sequence[Row], subscription_id: str) -> Iterable[Any]:
    """Resource groups from ``resourcecontainers``, typed as ARM's group GET types them."""
    for row in rows:
        yield firewall.resource_group(dict(row) | {"type": "Microsoft.Resources/resourceGroups"}, subscription_id)


GRAPH_STEPS: tuple[GraphStep, ...] = (
    GraphListing(
        "Microsoft.Network/networkSecurityGroups",
        "resources",
        ("microsoft.network/networksecuritygroups",),
        _each(dict, network.network_security_group),
    ),
    GraphListing(
        "Microsoft.Network/virtualNetworks",
        "resources",
        ("microsoft.network/virtualnetworks",),
        _each(dict, network.virtual_network),
    ),
    GraphListing(
        "Microsoft.Network/networkInterfaces",
        "resources",
        ("microsoft.network/networkinterfaces",),
        _each(dict, network.network_interface),
    ),
    GraphListing(
        "Microsoft.Network/publicIPAddresses",
        "resources",
        ("microsoft.network/publicipaddresses",),
        _each(dict, network.public_ip_address),
    ),
    GraphListing(
        "Microsoft.Network/azureFirewalls",
        "resources",
        ("microsoft.network/azurefirewalls",),
        _each(AzureFirewall, firewall.azure_firewall),
    ),
    GraphListing(
        "Microsoft.Network/firewallPolicies",
        "resources",
        ("microsoft.network/firewallpolicies",),
        _each(FirewallPolicy, firewall.firewall_policy),
    ),
    GraphListing(
        "Microsoft.Network/routeTables",
        "resources",
        ("microsoft.network/routetables",),
        _each(RouteTable, firewall.route_table),
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
        lambda rows, group: _each(VirtualNetworkGateway, firewall.virtual_network_gateway)(rows, group.subscription_id),
    ),
    GraphListing("Microsoft.Compute/virtualMachines", "resources", (VM_TYPE, EXTENSION_TYPE), virtual_machines),
    GraphListing("Microsoft.Compute/disks", "resources", ("microsoft.compute/disks",), _each(Disk, compute.disk)),
    GraphListing(
        "Microsoft.Compute/snapshots", "resources", ("microsoft.compute/snapshots",), _each(Snapshot, compute.snapshot)
    ),
    GraphListing(
        "Microsoft.Compute/diskEncryptionSets",
        "resources",
        ("microsoft.compute/diskencryptionsets",),
        _each(DiskEncryptionSet, compute.disk_encryption_set),
    ),
    GraphListing(
        "Microsoft.KeyVault/vaults", "resources", ("microsoft.keyvault/vaults",), _each(KeyVault, keyvault.key_vault)
    ),
    GraphListing(sql.SERVERS_API, "resources", ("microsoft.sql/servers",), _each(Server, sql.sql_server)),
    GraphChildren(
        sql.DATABASES_API,
        "resources",
        ("microsoft.sql/servers/databases",),
        RESOURCE_PARTS,
        _children(Database, sql.sql_database),
    ),
    GraphListing(
        sql.SQL_VMS_API,
        "resources",
        ("microsoft.sqlvirtualmachine/sqlvirtualmachines",),
        _each(SqlVirtualMachine, sql.sql_virtual_machine),
    ),
    GraphListing(
        storage.STORAGE_ACCOUNTS_API,
        "resources",
        ("microsoft.storage/storageaccounts",),
        _each(StorageAccount, storage.storage_account),
    ),
    GraphListing(
        "Microsoft.RecoveryServices/vaults",
        "resources",
        ("microsoft.recoveryservices/vaults",),
        _each(RecoveryVault, backup.recovery_vault),
    ),
    GraphChildren(
        "Microsoft.RecoveryServices/vaults/backupPolicies",
        "recoveryservicesresources",
        ("microsoft.recoveryservices/vaults/backuppolicies",),
        RESOURCE_PARTS,
        _children(ProtectionPolicyResource, backup.backup_policy),
    ),
    GraphChildren(
        "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "recoveryservicesresources",
        ("microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems",),
        RESOURCE_PARTS,
        _children(ProtectedItemResource, backup.protected_item),
    ),
    GraphListing(
        "Microsoft.Security/pricings",
        "securityresources",
        ("microsoft.security/pricings",),
        _each(dict, defender.defender_plan),
    ),
    GraphListing(
        "Microsoft.Insights/activityLogAlerts",
        "resources",
        ("microsoft.insights/activitylogalerts",),
        _each(ActivityLogAlertResource, monitor.activity_log_alert),
    ),
    GraphListing(
        "Microsoft.Insights/metricAlerts",
        "resources",
        ("microsoft.insights/metricalerts",),
        _each(MetricAlertResource, monitor.metric_alert),
    ),
    GraphListing(
        "Microsoft.Insights/actionGroups",
        "resources",
        ("microsoft.insights/actiongroups",),
        _each(ActionGroupResource, monitor.action_group),
    ),
    GraphListing(
        "Microsoft.Authorization/roleAssignments",
        "authorizationresources",
        ("microsoft.authorization/roleassignments",),
        _each(RoleAssignment, authorization.role_assignment),
    ),
    GraphListing("Microsoft.Web/sites", "resources", ("microsoft.web/sites",), _each(Site, web.web_app)),
)

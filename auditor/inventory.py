"""Typed, frozen inventory records: what collectors produce and checks read.

Fields are snake_case and hold values as Azure reported them; ``None`` means Azure did not report the
value, which checks must never read as compliant.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Subscription:
    """A subscription the credential can see."""

    subscription_id: str
    display_name: str
    state: str

    @property
    def id(self) -> str:
        """ARM id of the subscription."""
        return f"/subscriptions/{self.subscription_id}"

    type = "Microsoft.Resources/subscriptions"


@dataclass(frozen=True)
class Collection:
    """The outcome of one listing: which API, over which scope, and why it failed if it did."""

    api: str
    subscription_id: str
    scope: str
    ok: bool
    status_code: int | None = None
    error_code: str = ""
    reason: str = ""
    items: int = 0

    def describe(self) -> str:
        """One line naming the API, the status and the reason."""
        status = f"HTTP {self.status_code}" if self.status_code else "no HTTP status"
        code = f" {self.error_code}" if self.error_code else ""
        return f"{self.api} not collected for {self.scope}: {status}{code}: {self.reason}"


# --- network -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityRule:
    """One NSG rule with singular and plural fields merged into tuples."""

    name: str
    priority: int
    direction: str
    access: str
    protocol: str
    source_prefixes: tuple[str, ...]
    destination_ports: tuple[str, ...]
    source_asg_ids: tuple[str, ...] = ()
    destination_prefixes: tuple[str, ...] = ()
    is_default: bool = False
    description: str = ""


@dataclass(frozen=True)
class NetworkSecurityGroup:
    """A network security group with its custom and default rules."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    rules: tuple[SecurityRule, ...]
    subnet_ids: tuple[str, ...] = ()
    nic_ids: tuple[str, ...] = ()
    type: str = "Microsoft.Network/networkSecurityGroups"


@dataclass(frozen=True)
class Subnet:
    """A subnet of a virtual network."""

    id: str
    name: str
    address_prefixes: tuple[str, ...]
    nsg_id: str | None = None
    route_table_id: str | None = None


@dataclass(frozen=True)
class VirtualNetwork:
    """A virtual network and its subnets."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    address_prefixes: tuple[str, ...]
    subnets: tuple[Subnet, ...]
    type: str = "Microsoft.Network/virtualNetworks"


@dataclass(frozen=True)
class PublicIpAddress:
    """A public IP address resource."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    sku: str | None
    ip_address: str | None = None
    attached_to: str | None = None
    type: str = "Microsoft.Network/publicIPAddresses"


@dataclass(frozen=True)
class IpConfiguration:
    """One IP configuration of a NIC."""

    name: str
    subnet_id: str | None
    private_ip: str | None = None
    public_ip_id: str | None = None


@dataclass(frozen=True)
class NetworkInterface:
    """A network interface, the unit Azure applies NSGs to."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    ip_configurations: tuple[IpConfiguration, ...]
    nsg_id: str | None = None
    vm_id: str | None = None
    type: str = "Microsoft.Network/networkInterfaces"


# --- compute -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageReference:
    """The marketplace image a VM was built from."""

    publisher: str | None = None
    offer: str | None = None
    sku: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class VmDisk:
    """A disk as the VM's storage profile names it."""

    name: str
    lun: int | None = None
    managed_disk_id: str | None = None
    vhd_uri: str | None = None


@dataclass(frozen=True)
class VmExtension:
    """A VM extension."""

    name: str
    publisher: str | None
    extension_type: str | None
    provisioning_state: str | None = None
    type_handler_version: str | None = None


@dataclass(frozen=True)
class VirtualMachine:
    """A virtual machine with what the controls need of it."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    os_type: str | None
    image: ImageReference
    os_disk: VmDisk | None
    data_disks: tuple[VmDisk, ...] = ()
    nic_ids: tuple[str, ...] = ()
    extensions: tuple[VmExtension, ...] = ()
    vm_size: str | None = None
    type: str = "Microsoft.Compute/virtualMachines"


@dataclass(frozen=True)
class DiskEncryption:
    """Encryption of a managed disk or snapshot at rest and through Azure Disk Encryption."""

    encryption_type: str | None
    disk_encryption_set_id: str | None = None
    ade_enabled: bool | None = None
    ade_secret_urls: tuple[str, ...] = ()
    ade_key_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disk:
    """A managed disk."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    os_type: str | None
    encryption: DiskEncryption
    managed_by: str | None = None
    disk_state: str | None = None
    size_gb: int | None = None
    type: str = "Microsoft.Compute/disks"


@dataclass(frozen=True)
class Snapshot:
    """A managed disk snapshot."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    encryption: DiskEncryption
    source_resource_id: str | None = None
    public_network_access: str | None = None
    network_access_policy: str | None = None
    type: str = "Microsoft.Compute/snapshots"


@dataclass(frozen=True)
class DiskEncryptionSet:
    """A disk encryption set: the link from disks to a customer-managed key."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    encryption_type: str | None
    active_key_url: str | None
    source_vault_id: str | None = None
    auto_rotation: bool | None = None
    type: str = "Microsoft.Compute/diskEncryptionSets"


# --- key vault ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyVault:
    """A key vault's protection settings."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    soft_delete_enabled: bool | None
    soft_delete_retention_days: int | None
    purge_protection_enabled: bool | None
    rbac_authorization_enabled: bool | None
    public_network_access: str | None
    network_default_action: str | None
    vault_uri: str | None = None
    ip_rules: tuple[str, ...] = ()
    private_endpoint_count: int = 0
    type: str = "Microsoft.KeyVault/vaults"


# --- the inventory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """Everything one scan collected, with a record of what it could not collect."""

    source: str
    started_at: str
    finished_at: str
    subscriptions: tuple[Subscription, ...] = ()
    collections: tuple[Collection, ...] = ()
    network_security_groups: tuple[NetworkSecurityGroup, ...] = ()
    virtual_networks: tuple[VirtualNetwork, ...] = ()
    network_interfaces: tuple[NetworkInterface, ...] = ()
    public_ip_addresses: tuple[PublicIpAddress, ...] = ()
    virtual_machines: tuple[VirtualMachine, ...] = ()
    disks: tuple[Disk, ...] = ()
    snapshots: tuple[Snapshot, ...] = ()
    disk_encryption_sets: tuple[DiskEncryptionSet, ...] = ()
    key_vaults: tuple[KeyVault, ...] = ()

    def failed_collections(self) -> tuple[Collection, ...]:
        """Listings that did not complete."""
        return tuple(c for c in self.collections if not c.ok)

    def resource_fields(self) -> tuple[str, ...]:
        """Names of the fields that hold resource records (each record has a subscription_id)."""
        return tuple(
            f.name
            for f in dataclasses.fields(self)
            if f.name not in {"source", "started_at", "finished_at", "subscriptions", "collections"}
        )

    def without_subscriptions(self, excluded: frozenset[str]) -> Inventory:
        """The same inventory with every resource of the excluded subscriptions removed."""
        if not excluded:
            return self
        changes = {
            name: tuple(r for r in getattr(self, name) if r.subscription_id not in excluded)
            for name in self.resource_fields()
        }
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

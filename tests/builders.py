"""Record builders for check tests: a valid record with only the fields a test cares about changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.checks import builtin_registry
from auditor.evaluate import judge_each
from auditor.inventory import Collection, Inventory
from auditor.model import CheckResult
from auditor.parameters import Params
from auditor.records.backup import RecoveryVault
from auditor.records.compute import (
    Disk,
    DiskEncryption,
    DiskEncryptionSet,
    ImageReference,
    VirtualMachine,
    VmDisk,
    VmExtension,
)
from auditor.records.keyvault import KeyVault
from auditor.records.network import (
    IpConfiguration,
    NetworkInterface,
    NetworkSecurityGroup,
    PublicIpAddress,
    SecurityRule,
    Subnet,
    VirtualNetwork,
)
from auditor.records.sql import SqlVirtualMachine
from auditor.records.storage import StorageAccount
from auditor.registry import RegisteredCheck

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-test"


def rid(kind: str, name: str) -> str:
    """An ARM id in the test resource group."""
    return f"{RG}/providers/{kind}/{name}"


def make_rule(
    name: str = "rule",
    *,
    priority: int = 100,
    access: str = "Allow",
    direction: str = "Inbound",
    protocol: str = "Tcp",
    sources: tuple[str, ...] = ("*",),
    ports: tuple[str, ...] = ("3389",),
) -> SecurityRule:
    """An NSG rule."""
    return SecurityRule(name, priority, direction, access, protocol, sources, ports)


DEFAULT_RULES = (
    SecurityRule("AllowVnetInBound", 65000, "Inbound", "Allow", "*", ("VirtualNetwork",), ("*",), is_default=True),
    SecurityRule(
        "AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "*", ("AzureLoadBalancer",), ("*",), is_default=True
    ),
    SecurityRule("DenyAllInBound", 65500, "Inbound", "Deny", "*", ("*",), ("*",), is_default=True),
)


def make_nsg(name: str = "nsg", rules: tuple[SecurityRule, ...] = ()) -> NetworkSecurityGroup:
    """An NSG with the given custom rules and Azure's default inbound rules."""
    return NetworkSecurityGroup(
        rid("Microsoft.Network/networkSecurityGroups", name), name, SUB, "rg-test", "eastus", rules + DEFAULT_RULES
    )


def make_subnet(name: str = "servers", nsg: NetworkSecurityGroup | None = None) -> Subnet:
    """A subnet of the test VNet."""
    return Subnet(
        rid("Microsoft.Network/virtualNetworks", f"vnet/subnets/{name}"),
        name,
        ("10.0.1.0/24",),
        nsg.id if nsg else None,
    )


def make_vnet(*subnets: Subnet) -> VirtualNetwork:
    """The test VNet holding the given subnets."""
    return VirtualNetwork(
        rid("Microsoft.Network/virtualNetworks", "vnet"), "vnet", SUB, "rg-test", "eastus", ("10.0.0.0/16",), subnets
    )


def make_pip(name: str = "pip", sku: str | None = "Standard") -> PublicIpAddress:
    """A public IP of the given SKU."""
    return PublicIpAddress(
        rid("Microsoft.Network/publicIPAddresses", name), name, SUB, "rg-test", "eastus", sku, "20.1.2.3"
    )


def make_nic(
    name: str = "nic",
    *,
    subnet: Subnet | None = None,
    nsg: NetworkSecurityGroup | None = None,
    public_ip: PublicIpAddress | None = None,
) -> NetworkInterface:
    """A NIC with one IP configuration."""
    config = IpConfiguration(
        "ipconfig1", subnet.id if subnet else None, "10.0.1.4", public_ip.id if public_ip else None
    )
    return NetworkInterface(
        rid("Microsoft.Network/networkInterfaces", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        (config,),
        nsg.id if nsg else None,
    )


def make_disk(name: str = "disk", os_type: str | None = "Windows", **encryption: Any) -> Disk:
    """A managed disk; keyword arguments set DiskEncryption fields."""
    settings = {"encryption_type": "EncryptionAtRestWithPlatformKey"} | encryption
    return Disk(
        rid("Microsoft.Compute/disks", name), name, SUB, "rg-test", "eastus", os_type, DiskEncryption(**settings)
    )


def make_des(name: str = "des", key_url: str | None = "https://kv.vault.azure.net/keys/disk/1") -> DiskEncryptionSet:
    """A disk encryption set with an active key."""
    return DiskEncryptionSet(
        rid("Microsoft.Compute/diskEncryptionSets", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        "EncryptionAtRestWithCustomerKey",
        key_url,
        rid("Microsoft.KeyVault/vaults", "kv"),
    )


def make_vm(name: str = "vm", *, vhd_uri: str | None = None) -> VirtualMachine:
    """A VM whose OS disk is managed, or an unmanaged VHD when a URI is given."""
    os_disk = (
        VmDisk("osdisk", vhd_uri=vhd_uri)
        if vhd_uri
        else VmDisk("osdisk", managed_disk_id=rid("Microsoft.Compute/disks", "osdisk"))
    )
    return VirtualMachine(
        rid("Microsoft.Compute/virtualMachines", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        "Windows",
        ImageReference(),
        os_disk,
    )


def make_vault(name: str = "kv", **settings: Any) -> KeyVault:
    """A key vault that passes KV-01 unless keyword arguments say otherwise."""
    values: dict[str, Any] = {
        "soft_delete_enabled": True,
        "soft_delete_retention_days": 90,
        "purge_protection_enabled": True,
        "rbac_authorization_enabled": True,
        "public_network_access": "Disabled",
        "network_default_action": "Deny",
    } | settings
    return KeyVault(rid("Microsoft.KeyVault/vaults", name), name, SUB, "rg-test", "eastus", **values)


def complete_collections(given: tuple[Collection, ...] = ()) -> tuple[Collection, ...]:
    """The given collections plus a successful one for every API a built-in check reads and they omit."""
    named = {c.api for c in given}
    apis = sorted({api for registered in builtin_registry() for api in registered.spec.requires} - named)
    return given + tuple(Collection(api, SUB, f"/subscriptions/{SUB}", ok=True) for api in apis)


def make_inventory(**records: Any) -> Inventory:
    """An inventory holding the given record tuples, with every listing recorded as complete."""
    fields = {name: tuple(value) for name, value in records.items()}
    fields["collections"] = complete_collections(fields.get("collections", ()))
    return Inventory(
        source="test",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        **fields,  # type: ignore[arg-type]  # record tuples only
    )


# A rule's judge as tests hold it: typed per rule, so only callable here.
CheckFunction = Callable[..., Any]


def results(check: CheckFunction, inventory: Inventory, params: Params) -> list[CheckResult]:
    """Every result a rule gives over an inventory, its records looped as evaluation loops them."""
    return judge_each(RegisteredCheck(check.__check_spec__, check), inventory, params)  # type: ignore[attr-defined]


def make_image_vm(
    name: str = "vm",
    *,
    image: ImageReference | None = None,
    os_type: str | None = "Windows",
    extensions: tuple[VmExtension, ...] = (),
    extensions_known: bool = True,
) -> VirtualMachine:
    """A VM built from an image (Windows Server 2022 unless told otherwise), with its extensions."""
    return VirtualMachine(
        rid("Microsoft.Compute/virtualMachines", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        os_type,
        image or ImageReference("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", "latest"),
        VmDisk("osdisk", managed_disk_id=rid("Microsoft.Compute/disks", f"{name}-os")),
        extensions=extensions,
        extensions_known=extensions_known,
    )


def make_sql_registration(
    name: str = "vm", offer: str | None = "SQL2014SP3-WS2012R2", *, vm_id: str | None = None
) -> SqlVirtualMachine:
    """A SQL virtual machine registration, pointing at the VM of the same name unless told otherwise."""
    return SqlVirtualMachine(
        rid("Microsoft.SqlVirtualMachine/sqlVirtualMachines", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        vm_id if vm_id is not None else rid("Microsoft.Compute/virtualMachines", name),
        offer,
        "Enterprise",
    )


def make_account(
    name: str = "stbackup",
    *,
    sku: str | None = "Standard_RAGRS",
    primary: str | None = "eastus",
    secondary: str | None = "westus",
    key_source: str | None = "Microsoft.Storage",
    vault_uri: str | None = None,
    key_name: str | None = None,
) -> StorageAccount:
    """A storage account, geo-replicated from eastus to westus unless arguments say otherwise."""
    return StorageAccount(
        rid("Microsoft.Storage/storageAccounts", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        sku,
        "StorageV2",
        False,
        "Disabled",
        "Deny",
        True,
        "TLS1_2",
        key_source,
        key_vault_uri=vault_uri,
        key_name=key_name,
        primary_location=primary,
        secondary_location=secondary,
    )


def make_recovery_vault(
    name: str = "rsv", *, redundancy: str | None = "GeoRedundant", cmk: str | None = None
) -> RecoveryVault:
    """A Recovery Services vault."""
    return RecoveryVault(
        rid("Microsoft.RecoveryServices/vaults", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        "Disabled",
        cmk,
        None,
        redundancy,
        True,
    )

"""Raw ARM objects, shaped as ARM's GET returns them, for estates the integration tests serve."""

from __future__ import annotations

from typing import Any

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "22222222-2222-2222-2222-222222222222"


def arm_id(kind: str, name: str, *, group: str = "rg-app", sub: str = SUB) -> str:
    """Id of a top-level resource."""
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/{kind}/{name}"


def estate(
    *resources: dict[str, Any], subs: tuple[str, ...] = (SUB,), graph: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An estate document."""
    return {
        "subscriptions": [{"subscriptionId": s, "displayName": f"sub {s[:4]}", "state": "Enabled"} for s in subs],
        "resources": list(resources),
        "graph": graph or {},
    }


def security_rule(nsg_id: str, name: str, priority: int, **props: Any) -> dict[str, Any]:
    """An NSG rule; properties default to an inbound TCP allow."""
    base = {
        "protocol": "Tcp",
        "access": "Allow",
        "direction": "Inbound",
        "priority": priority,
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
    }
    return {
        "id": f"{nsg_id}/securityRules/{name}",
        "name": name,
        "type": "Microsoft.Network/networkSecurityGroups/securityRules",
        "properties": base | props | {"provisioningState": "Succeeded"},
    }


def nsg(name: str, *rules: tuple[str, int, dict[str, Any]], sub: str = SUB) -> dict[str, Any]:
    """An NSG whose custom rules are (name, priority, properties) triples."""
    nsg_id = arm_id("Microsoft.Network/networkSecurityGroups", name, sub=sub)
    deny = security_rule(
        nsg_id, "DenyAllInBound", 65500, protocol="*", access="Deny", sourceAddressPrefix="*", destinationPortRange="*"
    )
    deny["id"] = f"{nsg_id}/defaultSecurityRules/DenyAllInBound"
    return {
        "id": nsg_id,
        "name": name,
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": "eastus",
        "properties": {
            "securityRules": [security_rule(nsg_id, n, p, **props) for n, p, props in rules],
            "defaultSecurityRules": [deny],
            "provisioningState": "Succeeded",
        },
    }


def vnet(name: str, subnets: dict[str, str | None], sub: str = SUB) -> dict[str, Any]:
    """A VNet whose subnets map name to the id of their NSG (or None)."""
    vnet_id = arm_id("Microsoft.Network/virtualNetworks", name, sub=sub)
    return {
        "id": vnet_id,
        "name": name,
        "type": "Microsoft.Network/virtualNetworks",
        "location": "eastus",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [
                {
                    "id": f"{vnet_id}/subnets/{s}",
                    "name": s,
                    "type": "Microsoft.Network/virtualNetworks/subnets",
                    "properties": {
                        "addressPrefix": "10.0.1.0/24",
                        **({"networkSecurityGroup": {"id": n}} if n else {}),
                    },
                }
                for s, n in subnets.items()
            ],
        },
    }


def public_ip(name: str, sku: str, sub: str = SUB) -> dict[str, Any]:
    """A public IP of the given SKU."""
    return {
        "id": arm_id("Microsoft.Network/publicIPAddresses", name, sub=sub),
        "name": name,
        "type": "Microsoft.Network/publicIPAddresses",
        "location": "eastus",
        "sku": {"name": sku, "tier": "Regional"},
        "properties": {"ipAddress": "20.0.0.1", "publicIPAllocationMethod": "Static"},
    }


def nic(
    name: str, subnet_id: str, *, nsg_id: str | None = None, pip_id: str | None = None, sub: str = SUB
) -> dict[str, Any]:
    """A NIC with one IP configuration."""
    nic_id = arm_id("Microsoft.Network/networkInterfaces", name, sub=sub)
    config: dict[str, Any] = {"subnet": {"id": subnet_id}, "privateIPAddress": "10.0.1.4"}
    if pip_id:
        config["publicIPAddress"] = {"id": pip_id}
    props: dict[str, Any] = {
        "ipConfigurations": [{"id": f"{nic_id}/ipConfigurations/ipconfig1", "name": "ipconfig1", "properties": config}]
    }
    if nsg_id:
        props["networkSecurityGroup"] = {"id": nsg_id}
    return {
        "id": nic_id,
        "name": name,
        "type": "Microsoft.Network/networkInterfaces",
        "location": "eastus",
        "properties": props,
    }


def vm(
    name: str, *, nic_id: str, os_disk_id: str, extensions: list[tuple[str, str]] | None = None, sub: str = SUB
) -> dict[str, Any]:
    """A Windows VM; ``extensions`` (publisher, type) are embedded as ``resources`` unless None."""
    vm_id = arm_id("Microsoft.Compute/virtualMachines", name, sub=sub)
    body: dict[str, Any] = {
        "id": vm_id,
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "MicrosoftWindowsServer",
                    "offer": "WindowsServer",
                    "sku": "2022-datacenter",
                    "version": "latest",
                },
                "osDisk": {
                    "osType": "Windows",
                    "name": os_disk_id.rsplit("/", 1)[-1],
                    "createOption": "FromImage",
                    "managedDisk": {"id": os_disk_id},
                },
                "dataDisks": [],
            },
            "networkProfile": {"networkInterfaces": [{"id": nic_id}]},
            "provisioningState": "Succeeded",
        },
    }
    if extensions is not None:
        body["resources"] = [extension(vm_id, publisher, kind) for publisher, kind in extensions]
    return body


def extension(vm_id: str, publisher: str, kind: str) -> dict[str, Any]:
    """A VM extension resource."""
    return {
        "id": f"{vm_id}/extensions/{kind}",
        "name": kind,
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "location": "eastus",
        "properties": {
            "publisher": publisher,
            "type": kind,
            "typeHandlerVersion": "1.0",
            "provisioningState": "Succeeded",
        },
    }


def disk(name: str, *, encryption: dict[str, Any], ade: dict[str, Any] | None = None, sub: str = SUB) -> dict[str, Any]:
    """A managed disk."""
    props: dict[str, Any] = {
        "osType": "Windows",
        "diskSizeGB": 128,
        "diskState": "Attached",
        "encryption": encryption,
        "creationData": {"createOption": "FromImage"},
    }
    if ade is not None:
        props["encryptionSettingsCollection"] = ade
    return {
        "id": arm_id("Microsoft.Compute/disks", name, sub=sub),
        "name": name,
        "type": "Microsoft.Compute/disks",
        "location": "eastus",
        "sku": {"name": "Premium_LRS"},
        "properties": props,
    }


def des(name: str, key_url: str, vault_id: str, sub: str = SUB) -> dict[str, Any]:
    """A disk encryption set."""
    return {
        "id": arm_id("Microsoft.Compute/diskEncryptionSets", name, sub=sub),
        "name": name,
        "type": "Microsoft.Compute/diskEncryptionSets",
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "encryptionType": "EncryptionAtRestWithCustomerKey",
            "activeKey": {"keyUrl": key_url, "sourceVault": {"id": vault_id}},
        },
    }


def vault(name: str, sub: str = SUB, **props: Any) -> dict[str, Any]:
    """A key vault; properties default to a fully protected vault."""
    base = {
        "tenantId": "33333333-3333-3333-3333-333333333333",
        "sku": {"family": "A", "name": "standard"},
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True,
        "enableRbacAuthorization": True,
        "publicNetworkAccess": "Disabled",
        "vaultUri": f"https://{name}.vault.azure.net/",
    }
    return {
        "id": arm_id("Microsoft.KeyVault/vaults", name, group="rg-keys", sub=sub),
        "name": name,
        "type": "Microsoft.KeyVault/vaults",
        "location": "eastus",
        "properties": base | props,
    }

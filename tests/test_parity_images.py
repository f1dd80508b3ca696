"""ENC-06 (supported_engine_and_os) through the live door and the IaC door: one case table, the same verdicts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import builtin_registry
from auditor.checks.images import SupportSubject
from auditor.collect.compute import virtual_machine
from auditor.model import Status
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, iac_doors, live_door

RULE = "supported_engine_and_os"
CUSTOM_IMAGE = arm_id("Microsoft.Compute/images", "img-golden")
NIC = arm_id("Microsoft.Network/networkInterfaces", "nic-parity")


def image(publisher: str, offer: str, sku: str) -> dict[str, str]:
    """A marketplace image reference."""
    return {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"}


def vm_json(name: str, reference: Mapping[str, str], os_type: str = "Windows") -> dict[str, Any]:
    """A VM as ARM GET returns it (shape of Microsoft's VirtualMachines_Get example)."""
    return {
        "id": arm_id("Microsoft.Compute/virtualMachines", name),
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": dict(reference),
                "osDisk": {"osType": os_type, "name": f"{name}-os", "createOption": "FromImage"},
                "dataDisks": [],
            },
            "networkProfile": {"networkInterfaces": [{"id": NIC}]},
        },
        "resources": [],
    }


def _hcl_image(block: str, reference: Mapping[str, str]) -> str:
    """The image lines of a VM resource: a marketplace reference block, or a custom image by id."""
    if "id" in reference:
        if block == "source_image_reference":
            return f'  source_image_id = "{reference["id"]}"\n'
        return f'  {block} {{\n    id = "{reference["id"]}"\n  }}\n'
    lines = "".join(f"    {k} = {v if v.startswith('var.') else json.dumps(v)}\n" for k, v in reference.items())
    return f"  {block} {{\n{lines}  }}\n"


def terraform(name: str, reference: Mapping[str, str], kind: str = "windows") -> str:
    """A VM built from the image: azurerm_windows/linux_virtual_machine, or the legacy azurerm_virtual_machine."""
    if kind == "legacy":
        return (
            f'resource "azurerm_virtual_machine" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
            f'  resource_group_name = "rg-parity"\n  vm_size = "Standard_D2s_v5"\n'
            f'  network_interface_ids = ["{NIC}"]\n'
            + _hcl_image("storage_image_reference", reference)
            + f'  storage_os_disk {{\n    name = "{name}-os"\n    create_option = "FromImage"\n  }}\n'
            "  os_profile_windows_config {\n    provision_vm_agent = true\n  }\n}\n"
        )
    return (
        f'resource "azurerm_{kind}_virtual_machine" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  size = "Standard_D2s_v5"\n  admin_username = "azureadmin"\n'
        f'  network_interface_ids = ["{NIC}"]\n'
        '  os_disk {\n    caching = "ReadWrite"\n    storage_account_type = "Premium_LRS"\n  }\n'
        + _hcl_image("source_image_reference", reference)
        + "}\n"
    )


def template(name: str, reference: Mapping[str, str], os_type: str = "Windows") -> dict[str, Any]:
    """The ARM template VM: an osProfile of the OS, the image reference, no osDisk.osType (templates leave it)."""
    configuration = "windowsConfiguration" if os_type == "Windows" else "linuxConfiguration"
    return {
        "type": "Microsoft.Compute/virtualMachines",
        "apiVersion": "2024-03-01",
        "name": name,
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "osProfile": {"computerName": name, "adminUsername": "azureadmin", configuration: {}},
            "storageProfile": {"imageReference": dict(reference), "osDisk": {"createOption": "FromImage"}},
            "networkProfile": {"networkInterfaces": [{"id": NIC}]},
        },
    }


WS2022 = image("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition")
SQL2014 = image("MicrosoftSQLServer", "SQL2014SP3-WS2012R2", "Enterprise")
SQL2022 = image("MicrosoftSQLServer", "sql2022-ws2022", "enterprise-gen2")
WS2012R2 = image("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter")
UBUNTU = image("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2")
CUSTOM = {"id": CUSTOM_IMAGE}

CASES = (
    Case(
        "vm-ws2022",
        Status.PASS,
        vm_json("vm-ws2022", WS2022),
        terraform("vm-ws2022", WS2022),
        template("vm-ws2022", WS2022),
    ),
    Case(
        "vm-sql2022",
        Status.PASS,
        vm_json("vm-sql2022", SQL2022),
        terraform("vm-sql2022", SQL2022),
        template("vm-sql2022", SQL2022),
    ),
    Case(
        "vm-ubuntu",
        Status.PASS,
        vm_json("vm-ubuntu", UBUNTU, "Linux"),
        terraform("vm-ubuntu", UBUNTU, "linux"),
        template("vm-ubuntu", UBUNTU, "Linux"),
    ),
    Case(
        "vm-sql2014",
        Status.FAIL,
        vm_json("vm-sql2014", SQL2014),
        terraform("vm-sql2014", SQL2014),
        template("vm-sql2014", SQL2014),
    ),
    Case(
        "vm-ws2012r2-legacy",
        Status.FAIL,
        vm_json("vm-ws2012r2-legacy", WS2012R2),
        terraform("vm-ws2012r2-legacy", WS2012R2, "legacy"),
        template("vm-ws2012r2-legacy", WS2012R2),
    ),
    # A custom image names no version: only an attestation can settle it, live and in code alike.
    Case(
        "vm-custom-image",
        Status.MANUAL,
        vm_json("vm-custom-image", CUSTOM),
        terraform("vm-custom-image", CUSTOM),
        template("vm-custom-image", CUSTOM),
    ),
)


def build(raw: Mapping[str, Any]) -> SupportSubject:
    """The subject a live scan builds of the VM (no SQL registration)."""
    return SupportSubject(virtual_machine(raw, SUBSCRIPTION), None)


def test_supported_engine_and_os_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity(RULE, build, CASES, tmp_path)


def test_an_image_left_to_a_variable_is_an_error_in_code(tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    rule = builtin_registry()[RULE]
    reference = WS2022 | {"sku": "var.sku"}
    case = Case(
        "vm-sku-variable",
        Status.ERROR,
        vm_json("vm-sku-variable", WS2022),
        'variable "sku" {\n  type = string\n}\n\n' + terraform("vm-sku-variable", reference),
        template("vm-sku-variable", WS2022 | {"sku": "[parameters('sku')]"}),
    )
    code = iac_doors(rule, (case,), tmp_path)
    assert {lang: door.status for (_, lang), door in code.items()} == {"terraform": Status.ERROR, "arm": Status.ERROR}
    assert "sku" in code[(case.name, "terraform")].message
    assert "parameters('sku')" in code[(case.name, "arm")].message
    # The live estate always reports the image the VM was built from.
    assert live_door(rule, build, case).status is Status.PASS

"""Network, compute and key vault collection through the local endpoint and the real SDK clients."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import NetworkSecurityGroup

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.collect.policies import WriteRefusedError
from auditor.collect.scan import collect_inventory
from auditor.emulator import Fault
from auditor.evaluate import evaluate
from auditor.inventory import Inventory
from auditor.model import Status
from auditor.results import ScanResult
from tests import estates as e
from tests.harness import core_steps, example_body, serve

NSG_EXAMPLE = "network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/NetworkSecurityGroupGet.json"
VAULT_EXAMPLE = "keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/examples/getVault.json"


def rebase(body: dict[str, Any], sub: str = e.SUB) -> dict[str, Any]:
    """A Microsoft example re-homed into a test subscription (their ids use placeholders like 'subid')."""
    text = re.sub(r"/subscriptions/[^/\"]+/", f"/subscriptions/{sub}/", json.dumps(body), flags=re.IGNORECASE)
    result: dict[str, Any] = json.loads(text)
    return result


def scan(estate: dict[str, Any], **options: Any) -> Inventory:
    """Collect the estate through the endpoint."""
    with serve(estate, **options) as (_, session):
        return collect_inventory(session, steps=core_steps())


def judge(inventory: Inventory) -> ScanResult:
    """Evaluate with the shipped baseline."""
    registry = builtin_registry()
    baseline = load_baseline(default_baseline_path(), registry)
    return evaluate(inventory, baseline, registry, baseline.resolve_params())


def statuses(result: ScanResult, control: str) -> dict[str, Status]:
    """Finding status by resource name for one control."""
    return {f.resource_name: f.status for f in result.findings if f.control_id == control and f.resource_id}


def test_microsoft_nsg_example_port_80_open_to_star_is_not_an_rdp_finding() -> None:
    body = rebase(example_body(NSG_EXAMPLE))
    inventory = scan(e.estate(body))
    (collected,) = inventory.network_security_groups
    assert any(r.name == "rule1" and r.destination_ports == ("80",) for r in collected.rules)
    assert len([r for r in collected.rules if r.is_default]) == 6
    assert statuses(judge(inventory), "NET-01") == {"testnsg": Status.PASS}


def test_microsoft_vault_example_without_purge_protection_fails_kv01() -> None:
    inventory = scan(e.estate(rebase(example_body(VAULT_EXAMPLE))))
    (vault,) = inventory.key_vaults
    assert vault.purge_protection_enabled is None
    (finding,) = [f for f in judge(inventory).findings if f.control_id == "KV-01"]
    assert finding.status is Status.FAIL
    assert "purge protection not enabled" in finding.message


def small_estate() -> dict[str, Any]:
    """One VNet with an open and a closed NSG, two VMs, disks and vaults, in two subscriptions."""
    open_nsg = e.nsg(
        "nsg-open",
        (
            "rdp",
            100,
            {"sourceAddressPrefixes": ["198.51.100.0/24", "10.0.0.0/8"], "destinationPortRanges": ["22", "3380-3390"]},
        ),
    )
    closed_nsg = e.nsg(
        "nsg-closed", ("vpn-rdp", 100, {"sourceAddressPrefix": "172.16.201.0/24", "destinationPortRange": "3389"})
    )
    network = e.vnet("vnet-hub", {"servers": closed_nsg["id"], "legacy": None})
    servers, legacy = (s["id"] for s in network["properties"]["subnets"])
    basic_ip = e.public_ip("pip-basic", "Basic")
    kv = e.vault("kv-good")
    key_set = e.des("des-1", "https://kv-good.vault.azure.net/keys/disk/1", kv["id"])
    cmk_disk = e.disk(
        "disk-cmk", encryption={"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": key_set["id"]}
    )
    pmk_disk = e.disk("disk-pmk", encryption={"type": "EncryptionAtRestWithPlatformKey"})
    nic_ok = e.nic("nic-ok", servers)
    nic_open = e.nic("nic-open", legacy, pip_id=basic_ip["id"])
    return e.estate(
        open_nsg,
        closed_nsg,
        network,
        basic_ip,
        nic_ok,
        nic_open,
        kv,
        key_set,
        cmk_disk,
        pmk_disk,
        e.vault("kv-weak", sub=e.SUB2, enablePurgeProtection=False, publicNetworkAccess="Enabled"),
        e.vm(
            "vm-listed",
            nic_id=nic_ok["id"],
            os_disk_id=cmk_disk["id"],
            extensions=[("Microsoft.Azure.Security", "IaaSAntimalware")],
        ),
        e.vm("vm-bare", nic_id=nic_open["id"], os_disk_id=pmk_disk["id"], extensions=None),
        subs=(e.SUB, e.SUB2),
    )


def test_collection_builds_typed_records_across_subscriptions_and_pages() -> None:
    with serve(small_estate(), page_size=2) as (endpoint, session):
        inventory = collect_inventory(session, steps=core_steps())
        requests = endpoint.requests
    assert {s.subscription_id for s in inventory.subscriptions} == {e.SUB, e.SUB2}
    assert all(c.ok for c in inventory.collections), [c for c in inventory.collections if not c.ok]
    nsgs = {n.name: n for n in inventory.network_security_groups}
    rule = next(r for r in nsgs["nsg-open"].rules if r.name == "rdp")
    assert rule.source_prefixes == ("198.51.100.0/24", "10.0.0.0/8")
    assert rule.destination_ports == ("22", "3380-3390")
    vms = {v.name: v for v in inventory.virtual_machines}
    assert [x.extension_type for x in vms["vm-listed"].extensions] == ["IaaSAntimalware"]
    assert vms["vm-bare"].extensions_known and vms["vm-bare"].extensions == ()
    # Extensions come from the VM listing when ARM embeds them; only the VM without them costs a call.
    extension_calls = [r.path for r in requests if r.path.lower().endswith("/extensions")]
    assert extension_calls == [vms["vm-bare"].id + "/extensions"]
    assert {k.name: k.subscription_id for k in inventory.key_vaults} == {"kv-good": e.SUB, "kv-weak": e.SUB2}
    (basic,) = inventory.public_ip_addresses
    assert basic.sku == "Basic"
    assert {d.name: d.encryption.encryption_type for d in inventory.disks} == {
        "disk-cmk": "EncryptionAtRestWithCustomerKey",
        "disk-pmk": "EncryptionAtRestWithPlatformKey",
    }


def test_small_estate_is_judged_end_to_end() -> None:
    result = judge(scan(small_estate()))
    assert statuses(result, "NET-01") == {
        "nsg-open": Status.FAIL,
        "nsg-closed": Status.PASS,
        "nic-ok": Status.PASS,
        "nic-open": Status.FAIL,
    }
    assert statuses(result, "ENC-01") == {"disk-cmk": Status.PASS, "disk-pmk": Status.FAIL}
    assert statuses(result, "KV-01") == {"kv-good": Status.PASS, "kv-weak": Status.FAIL}


def test_forbidden_listing_is_an_error_for_its_scope_only() -> None:
    fault = Fault(
        pattern=f"/subscriptions/{e.SUB2}/providers/Microsoft.KeyVault/vaults",
        status=403,
        error_code="AuthorizationFailed",
    )
    inventory = scan(small_estate(), faults=(fault,))
    (failed,) = [c for c in inventory.collections if not c.ok]
    assert (failed.api, failed.subscription_id, failed.status_code, failed.error_code) == (
        "Microsoft.KeyVault/vaults",
        e.SUB2,
        403,
        "AuthorizationFailed",
    )
    kv = {f.resource_id: f.status for f in judge(inventory).findings if f.control_id == "KV-01"}
    assert kv[f"/subscriptions/{e.SUB2}"] is Status.ERROR
    assert kv[e.arm_id("Microsoft.KeyVault/vaults", "kv-good", group="rg-keys")] is Status.PASS


def test_a_put_is_refused_before_it_reaches_the_endpoint() -> None:
    with serve(small_estate()) as (endpoint, session):
        client = session.client(NetworkManagementClient, e.SUB)
        with pytest.raises(WriteRefusedError, match="refused PUT"):
            client.network_security_groups.begin_create_or_update(
                "rg-app", "nsg-new", NetworkSecurityGroup(location="eastus")
            )
        with pytest.raises(WriteRefusedError, match="refused DELETE"):
            client.network_security_groups.begin_delete("rg-app", "nsg-open")
        assert all(r.method == "GET" for r in endpoint.requests)
        assert not endpoint.requests


def test_a_next_link_to_another_host_is_refused() -> None:
    path = f"/subscriptions/{e.SUB}/providers/Microsoft.Network/networkSecurityGroups"
    estate = small_estate()
    estate["raw"] = [
        {
            "path": path,
            "status": 200,
            "body": '{"value": [], "nextLink": "https://attacker.invalid/steal?api-version=1"}',
        }
    ]
    inventory = scan(estate)
    (failed,) = [c for c in inventory.collections if not c.ok]
    assert failed.api == "Microsoft.Network/networkSecurityGroups"
    assert "attacker.invalid" in failed.reason and "only https://127.0.0.1" in failed.reason


COMPUTE = "compute/resource-manager/Microsoft.Compute"
VM_EXAMPLE = f"{COMPUTE}/ComputeRP/stable/2024-07-01/examples/virtualMachineExamples/VirtualMachine_Get.json"
DISK_EXAMPLES = f"{COMPUTE}/DiskRP/stable/2024-03-02/examples"
NSG_LIST_EXAMPLE = (
    "network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/NetworkSecurityGroupListAll.json"
)


def test_microsoft_compute_examples_are_collected_and_judged() -> None:
    vm = rebase(example_body(VM_EXAMPLE))
    ade_disk = rebase(example_body(f"{DISK_EXAMPLES}/diskExamples/Disk_Get.json"))
    des_disk = rebase(example_body(f"{DISK_EXAMPLES}/diskExamples/Disk_Create_WithDiskEncryptionSet.json"))
    key_set = rebase(example_body(f"{DISK_EXAMPLES}/diskEncryptionSetExamples/DiskEncryptionSet_Get.json"))
    # The create example names its set by a placeholder: point it at the set the other example returns.
    des_disk["properties"]["encryption"]["diskEncryptionSetId"] = key_set["id"]
    inventory = scan(e.estate(vm, ade_disk, des_disk, key_set))
    (collected_vm,) = inventory.virtual_machines
    assert collected_vm.os_type == "Windows"
    assert [x.extension_type for x in collected_vm.extensions] == ["CustomScriptExtension"]
    assert collected_vm.os_disk is not None and collected_vm.os_disk.managed_disk_id
    disks = {d.name: d for d in inventory.disks}
    assert disks["myManagedDisk"].encryption.ade_enabled is True
    assert disks["myDisk"].encryption.disk_encryption_set_id == key_set["id"]
    (collected_set,) = inventory.disk_encryption_sets
    assert collected_set.active_key_url and collected_set.encryption_type == "EncryptionAtRestWithCustomerKey"
    assert statuses(judge(inventory), "ENC-01") == {"myManagedDisk": Status.PASS, "myDisk": Status.PASS}


def test_microsoft_nsg_list_example_with_only_default_rules_passes() -> None:
    listed = [rebase(nsg) for nsg in example_body(NSG_LIST_EXAMPLE)["value"]]
    inventory = scan(e.estate(*listed), page_size=1)
    assert {n.name for n in inventory.network_security_groups} == {"nsg1", "nsg3"}
    assert all(r.is_default for n in inventory.network_security_groups for r in n.rules)
    verdicts = {f.resource_name: f.status for f in judge(inventory).findings if f.check_id == "nsg_rdp_exposure"}
    assert verdicts == {"nsg1": Status.PASS, "nsg3": Status.PASS}

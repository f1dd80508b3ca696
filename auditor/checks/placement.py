"""Where the VMs sit: the NICs attached to VMs, the subnets and VNets they are in, and VPN appliances."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from auditor.arm_ids import key, parent_of
from auditor.checks.index import ById
from auditor.inventory import Inventory
from auditor.model import Verdict, erroring
from auditor.records.compute import VirtualMachine
from auditor.records.network import NetworkInterface, Subnet, VirtualNetwork

SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"


def is_vpn_appliance(vm: VirtualMachine, publishers: Iterable[str]) -> bool:
    """True when the VM runs a marketplace image of a listed VPN appliance publisher."""
    publisher = (vm.image.publisher or "").strip().lower()
    return bool(publisher) and publisher in {p.strip().lower() for p in publishers}


@dataclass(frozen=True)
class VmNic:
    """A network interface attached to a VM (None: the VM was not collected)."""

    nic: NetworkInterface
    vm_id: str
    vm: VirtualMachine | None

    def is_appliance(self, publishers: Iterable[str]) -> bool:
        """True when the VM runs a VPN appliance image; a VM not collected cannot be shown to, so it is a server."""
        return self.vm is not None and is_vpn_appliance(self.vm, publishers)


def servers(nics: Iterable[VmNic], publishers: Iterable[str]) -> tuple[VmNic, ...]:
    """The NICs of VMs that are not VPN appliances."""
    wanted = tuple(publishers)
    return tuple(n for n in nics if not n.is_appliance(wanted))


def appliances(nics: Iterable[VmNic], publishers: Iterable[str]) -> tuple[VmNic, ...]:
    """The NICs of VMs that are VPN appliances."""
    wanted = tuple(publishers)
    return tuple(n for n in nics if n.is_appliance(wanted))


@dataclass(frozen=True)
class PlacedSubnet:
    """A subnet holding NICs of VMs, with its virtual network."""

    subnet: Subnet
    vnet: VirtualNetwork
    nics: tuple[VmNic, ...]

    def servers(self, publishers: Iterable[str]) -> tuple[VmNic, ...]:
        """The NICs here of VMs that are not VPN appliances."""
        return servers(self.nics, publishers)

    @property
    def id(self) -> str:
        """The subnet's id."""
        return self.subnet.id

    @property
    def type(self) -> str:
        """The subnet resource type."""
        return SUBNET_TYPE

    @property
    def subscription_id(self) -> str:
        """The subscription of the subnet's virtual network."""
        return self.vnet.subscription_id


@dataclass(frozen=True)
class PlacementProblem:
    """A VM or NIC reference that could not be followed: the rules about where VMs sit cannot judge it."""

    resource: Any
    message: str
    evidence: dict[str, object]

    @property
    def id(self) -> str:
        """The id of the VM or NIC holding the reference."""
        return str(self.resource.id)

    @property
    def type(self) -> str:
        """The type of the VM or NIC holding the reference."""
        return str(self.resource.type)

    @property
    def subscription_id(self) -> str:
        """The subscription of the VM or NIC holding the reference."""
        return str(self.resource.subscription_id)

    def verdict(self) -> Verdict:
        """The error this reference is: what the rules about placement cannot show."""
        return erroring(self.message, **self.evidence)


@dataclass(frozen=True)
class Placement:
    """VM NICs and the subnets they sit in, plus the references that could not be followed."""

    nics: tuple[VmNic, ...]
    subnets: tuple[PlacedSubnet, ...]
    problems: tuple[PlacementProblem, ...]
    # Subnet id (canonical) -> subnet and its virtual network, for every collected subnet.
    subnet_index: dict[str, tuple[Subnet, VirtualNetwork]] = field(default_factory=dict)

    def vnets(self) -> list[tuple[VirtualNetwork, tuple[PlacedSubnet, ...]]]:
        """Virtual networks holding VM NICs, with the subnets holding them."""
        by_vnet: dict[str, tuple[VirtualNetwork, list[PlacedSubnet]]] = {}
        for placed in self.subnets:
            by_vnet.setdefault(key(placed.vnet.id), (placed.vnet, []))[1].append(placed)
        return [(vnet, tuple(subnets)) for vnet, subnets in by_vnet.values()]


# The placement of the inventory placed last: several rules place the VMs of the same (frozen) inventory.
_last: list[tuple[weakref.ref[Inventory], Placement]] = []
_last_lock = threading.Lock()


def place_vms(inventory: Inventory) -> Placement:
    """Every NIC attached to a VM (as the NIC or the VM reports it) and the subnets they sit in."""
    with _last_lock:
        if _last and _last[0][0]() is inventory:
            return _last[0][1]
    placement = _placed(inventory)
    with _last_lock:
        _last[:] = [(weakref.ref(inventory), placement)]
    return placement


def _placed(inventory: Inventory) -> Placement:
    vms = ById(inventory.virtual_machines)
    nics = ById(inventory.network_interfaces)
    subnet_index = {key(s.id): (s, vnet) for vnet in inventory.virtual_networks for s in vnet.subnets}
    problems: list[PlacementProblem] = []
    attached: dict[str, VmNic] = {}

    def attach(nic: NetworkInterface, vm_id: str) -> None:
        attached[key(nic.id)] = VmNic(nic, vm_id, vms.get(vm_id))

    for nic in inventory.network_interfaces:
        if nic.vm_id:
            attach(nic, nic.vm_id)
    for vm in inventory.virtual_machines:
        for nic_id in vm.nic_ids:
            if key(nic_id) in attached:
                continue
            found = nics.get(nic_id)
            if found is None:
                message = f"Network interface {nic_id} of this VM was not collected"
                problems.append(PlacementProblem(vm, message, {"nic_id": nic_id}))
            else:
                attach(found, vm.id)
    by_subnet: dict[str, list[VmNic]] = {}
    for placed in attached.values():
        missing = [
            c.subnet_id for c in placed.nic.ip_configurations if c.subnet_id and key(c.subnet_id) not in subnet_index
        ]
        if missing:
            message = f"Subnet {', '.join(missing)} of this VM network interface was not collected"
            problems.append(PlacementProblem(placed.nic, message, {"subnet_ids": missing}))
        for config in placed.nic.ip_configurations:
            if config.subnet_id and key(config.subnet_id) in subnet_index:
                members = by_subnet.setdefault(key(config.subnet_id), [])
                if placed not in members:
                    members.append(placed)
    subnets = tuple(
        PlacedSubnet(subnet_index[sid][0], subnet_index[sid][1], tuple(members))
        for sid, members in sorted(by_subnet.items())
    )
    return Placement(tuple(attached.values()), subnets, tuple(problems), subnet_index)


def vnet_of_nic(nic: NetworkInterface) -> set[str]:
    """Canonical ids of the virtual networks a NIC's IP configurations sit in."""
    return {key(parent_of(c.subnet_id)) for c in nic.ip_configurations if c.subnet_id}

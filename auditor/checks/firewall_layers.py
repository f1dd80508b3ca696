"""Firewall layer checks (NET-03): an Azure Firewall in front of every server VNet, an NSG over every VM NIC,
and server egress through the firewall or denied."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from auditor.arm_ids import key, name_of, parent_of
from auditor.checks.index import ById
from auditor.checks.placement import PlacedSubnet, PlacementProblem, VmNic, place_vms
from auditor.checks.primitives import (
    MAX_PORT,
    NO_ADDRESS,
    PUBLIC_ADDRESSES,
    AddressSet,
    carries,
    port_bounds,
    source_addresses,
)
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NetworkInterface,
    NetworkSecurityGroup,
    RouteTable,
    SecurityRule,
    Subnet,
    VirtualNetwork,
)
from auditor.registry import Remediation, check

SUCCEEDED = "succeeded"
CONNECTED = "connected"
ENFORCING_THREAT_INTEL = frozenset({"alert", "deny"})
DEFAULT_ROUTE = "0.0.0.0/0"
VIRTUAL_APPLIANCE = "virtualappliance"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
# Egress is judged per protocol: a Deny for TCP alone leaves UDP and ICMP open.
EGRESS_PROTOCOLS = ("Tcp", "Udp", "Icmp")

VMS = "Microsoft.Compute/virtualMachines"
NICS = "Microsoft.Network/networkInterfaces"
VNETS = "Microsoft.Network/virtualNetworks"
NSGS = "Microsoft.Network/networkSecurityGroups"
FIREWALLS = "Microsoft.Network/azureFirewalls"
FIREWALL_POLICIES = "Microsoft.Network/firewallPolicies"
ROUTE_TABLES = "Microsoft.Network/routeTables"


def _publishers(params: Params) -> tuple[str, ...]:
    return params.get_list("allowed_vpn_publishers")


def _server_subnets(subnets: Iterable[PlacedSubnet], publishers: tuple[str, ...]) -> list[PlacedSubnet]:
    """The subnets holding NICs of VMs that are not VPN appliances, with those NICs only."""
    found = []
    for placed in subnets:
        nics = placed.servers(publishers)
        if nics:
            found.append(PlacedSubnet(placed.subnet, placed.vnet, nics))
    return found


# --- NET-03: an Azure Firewall in front of every server VNet --------------------------------------


@dataclass(frozen=True)
class ThreatIntel:
    """The threat-intelligence mode that applies to a firewall, and where it is set."""

    mode: str | None
    source: str
    missing_policy: str | None = None


def effective_threat_intel(firewall: AzureFirewall, policies: ById[FirewallPolicy]) -> ThreatIntel:
    """The mode in force: a policy-managed firewall follows its policy (or the policy's parents), not itself."""
    if not firewall.firewall_policy_id:
        return ThreatIntel(firewall.threat_intel_mode, f"firewall {firewall.name}")
    policy_id: str | None = firewall.firewall_policy_id
    seen: set[str] = set()
    while policy_id and key(policy_id) not in seen:
        seen.add(key(policy_id))
        policy = policies.get(policy_id)
        if policy is None:
            return ThreatIntel(None, f"firewall policy {name_of(policy_id)}", missing_policy=policy_id)
        if policy.threat_intel_mode:
            return ThreatIntel(policy.threat_intel_mode, f"firewall policy {policy.name}")
        policy_id = policy.base_policy_id
    return ThreatIntel(None, f"firewall policy {name_of(firewall.firewall_policy_id)}")


def firewall_vnet(firewall: AzureFirewall) -> str | None:
    """Canonical id of the virtual network a firewall sits in (None for a Virtual WAN hub firewall)."""
    return key(parent_of(firewall.subnet_ids[0])) if firewall.subnet_ids else None


def _firewall_evidence(firewall: AzureFirewall, intel: ThreatIntel) -> dict[str, object]:
    return {
        "firewall": firewall.name,
        "provisioning_state": firewall.provisioning_state,
        "threat_intel_mode": intel.mode,
        "threat_intel_set_on": intel.source,
        "sku_tier": firewall.sku_tier,
        "private_ips": list(firewall.private_ips),
    }


@dataclass(frozen=True)
class FirewallLayer:
    """The Azure Firewall layer as NET-03 judges it.

    Live, a virtual network holding VM NICs, with the Azure Firewalls in it or a connected peer and the
    threat-intelligence mode in force on each. From code, one firewall or firewall policy as declared
    (``subnets`` None): the VNets it filters for and its provisioning are not in its code, its mode is.
    """

    scope: VirtualNetwork | AzureFirewall | FirewallPolicy
    subnets: tuple[PlacedSubnet, ...] | None
    firewalls: tuple[tuple[AzureFirewall, ThreatIntel], ...] = ()
    vnets_searched: int = 0

    @property
    def id(self) -> str:
        """The id of the virtual network (live) or of the declared firewall or policy (code)."""
        return self.scope.id

    @property
    def type(self) -> str:
        """The type of the virtual network, firewall or policy."""
        return self.scope.type

    @property
    def subscription_id(self) -> str:
        """The subscription of the virtual network, firewall or policy."""
        return self.scope.subscription_id


def declared_threat_intel(scope: AzureFirewall | FirewallPolicy) -> ThreatIntel:
    """The mode a firewall or policy in code sets for itself."""
    if isinstance(scope, FirewallPolicy):
        return ThreatIntel(scope.threat_intel_mode, f"firewall policy {scope.name}")
    return ThreatIntel(scope.threat_intel_mode, f"firewall {scope.name}")


def _declared_verdict(scope: AzureFirewall | FirewallPolicy) -> Verdict:
    intel = declared_threat_intel(scope)
    evidence = {"threat_intel_mode": intel.mode, "threat_intel_set_on": intel.source}
    if (intel.mode or "").lower() in ENFORCING_THREAT_INTEL:
        return passing(
            f"Threat intelligence {intel.mode} on {intel.source}; the VNets it filters for are not stated by its code",
            **evidence,
        )
    return failing(
        f"Threat intelligence {intel.mode} on {intel.source}: the firewall lets known malicious traffic through "
        "unflagged",
        **evidence,
    )


def vnets_with_firewalls(inventory: Inventory) -> Iterator[FirewallLayer | PlacementProblem]:
    """Every VNet holding VM NICs with the firewalls that can filter for it, and every unfollowable VM reference."""
    placement = place_vms(inventory)
    yield from placement.problems
    policies = ById(inventory.firewall_policies)
    by_vnet: dict[str, list[AzureFirewall]] = {}
    for firewall in inventory.azure_firewalls:
        where = firewall_vnet(firewall)
        if where:
            by_vnet.setdefault(where, []).append(firewall)
    for vnet, subnets in placement.vnets():
        reach = [key(vnet.id)] + [
            key(p.remote_vnet_id)
            for p in vnet.peerings
            if p.remote_vnet_id and (p.peering_state or "").lower() == CONNECTED
        ]
        candidates = [f for vnet_id in reach for f in by_vnet.get(vnet_id, [])]
        judged = tuple((f, effective_threat_intel(f, policies)) for f in candidates)
        yield FirewallLayer(vnet, subnets, judged, len(reach))


@check(
    id="azure_firewall_protects_servers",
    title="Every VNet hosting servers has a provisioned Azure Firewall with threat intelligence on, in it or a peer",
    severity=Severity.HIGH,
    resource_types=(VNETS,),
    requires=(VNETS, NICS, VMS, FIREWALLS, FIREWALL_POLICIES),
    over=vnets_with_firewalls,
    subject="virtual networks hosting servers",
    parameters=("allowed_vpn_publishers",),
    rationale="The policy names the Azure Firewall as one of three filtering layers; a firewall that failed to "
    "provision or ignores threat intelligence filters nothing of what it promises.",
    remediation=Remediation(
        summary="Deploy an Azure Firewall in the hub VNet the server VNets peer with, make sure it provisions "
        "successfully, and set threat intelligence to Alert and deny on the firewall or its firewall policy.",
        portal="Firewall Policies > (policy) > Threat Intelligence > Threat intelligence mode: Alert and deny",
        cli="az network firewall policy update -g RG -n POLICY --threat-intel-mode Deny",
        terraform='threat_intelligence_mode = "Deny"  # azurerm_firewall_policy',
        bicep="threatIntelMode: 'Deny' // Microsoft.Network/firewallPolicies properties",
    ),
)
def azure_firewall_protects_servers(subject: FirewallLayer | PlacementProblem, params: Params) -> Verdict | None:
    """Pass a server VNet with a healthy, threat-intel-enforcing Azure Firewall in it or a connected peer; a
    VNet holding only VPN appliances is not a server VNet. A firewall or policy in code is judged by the
    threat-intelligence mode it declares."""
    if isinstance(subject, PlacementProblem):
        return subject.verdict()
    if subject.subnets is None:
        if isinstance(subject.scope, VirtualNetwork):
            raise TypeError("a virtual network is judged with the subnets holding its VMs")
        return _declared_verdict(subject.scope)
    if not _server_subnets(subject.subnets, _publishers(params)):
        return None
    judged = subject.firewalls
    evidence = {"firewalls": [_firewall_evidence(f, t) for f, t in judged], "vnets_searched": subject.vnets_searched}
    healthy = [
        f
        for f, t in judged
        if (f.provisioning_state or "").lower() == SUCCEEDED and (t.mode or "").lower() in ENFORCING_THREAT_INTEL
    ]
    if healthy:
        names = ", ".join(f.name for f in healthy)
        return passing(f"Protected by Azure Firewall {names} (provisioned, threat intelligence on)", **evidence)
    missing = [t.missing_policy for _, t in judged if t.missing_policy]
    if missing:
        return erroring(
            f"Firewall policy {', '.join(missing)} was not collected, so the threat-intelligence mode in force "
            "cannot be shown",
            **evidence,
        )
    if judged:
        reasons = "; ".join(
            f"{f.name}: provisioning {f.provisioning_state}, threat intelligence {t.mode} ({t.source})"
            for f, t in judged
        )
        return failing(f"No Azure Firewall here is provisioned with threat intelligence on: {reasons}", **evidence)
    return failing("No Azure Firewall in this VNet or any connected peered VNet", **evidence)


# --- NET-03: every VM NIC behind an NSG -----------------------------------------------------------


# Subnets Azure reserves for its own gateways, firewalls, route servers and Bastion hosts hold no VM NICs
# (and most do not take an NSG), so the VM firewall layer is not about them.
PLATFORM_SUBNETS = frozenset(
    {"gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet", "routeserversubnet", "azurebastionsubnet"}
)


@dataclass(frozen=True)
class NicCoverage:
    """The VM firewall layer as NET-03 judges it.

    Live, a VM NIC with the subnet each of its IP configurations sits in (None: not collected). From code, a
    virtual network with the subnets it declares inline (``vm_nic`` None): which of them hold VMs, and whether
    those VMs' NICs carry NSGs, is not in its code.
    """

    scope: NetworkInterface | VirtualNetwork
    vm_nic: VmNic | None
    subnets: tuple[Subnet | None, ...]  # one per IP configuration in order; from code, the declared subnets

    @property
    def id(self) -> str:
        """The NIC's (live) or the virtual network's (code) id."""
        return self.scope.id

    @property
    def type(self) -> str:
        """The NIC's or the virtual network's type."""
        return self.scope.type

    @property
    def subscription_id(self) -> str:
        """The NIC's or the virtual network's subscription."""
        return self.scope.subscription_id


def _declared_subnets_verdict(vnet: VirtualNetwork, subnets: Iterable[Subnet | None]) -> Verdict | None:
    judged = [s for s in subnets if s is not None and s.name.lower() not in PLATFORM_SUBNETS]
    if not judged:
        return None
    evidence = {"subnets": [{"subnet": s.name, "nsg": name_of(s.nsg_id) if s.nsg_id else None} for s in judged]}
    bare = [s.name for s in judged if not s.nsg_id]
    if bare:
        return erroring(
            f"Subnet {', '.join(bare)} of {vnet.name} has no NSG: VMs placed there are covered only by NSGs on "
            "their interfaces, which the code of this virtual network does not state",
            **evidence,
        )
    return passing(f"Every subnet of {vnet.name} has an NSG: any VM interface in it is covered", **evidence)


def vm_nics_with_subnets(inventory: Inventory) -> Iterator[NicCoverage | PlacementProblem]:
    """Every NIC attached to a VM with its subnets, and every VM NIC reference that cannot be followed."""
    placement = place_vms(inventory)
    # A NIC whose subnet was not collected is judged below (error on the NIC), so only VM problems stand alone.
    yield from (p for p in placement.problems if p.type == VMS)
    for placed in placement.nics:
        found = (
            placement.subnet_index.get(key(c.subnet_id)) if c.subnet_id else None for c in placed.nic.ip_configurations
        )
        yield NicCoverage(placed.nic, placed, tuple(f[0] if f else None for f in found))


@check(
    id="vm_nics_have_nsg",
    title="Every VM network interface is covered by an NSG on the interface or on its subnet",
    severity=Severity.HIGH,
    resource_types=(NICS,),
    requires=(NICS, VNETS, VMS),
    over=vm_nics_with_subnets,
    subject="network interfaces of VMs",
    rationale="The NSG is the virtual machine firewall layer the policy names; a VM with neither a NIC nor a "
    "subnet NSG accepts whatever the layers in front of it let through.",
    remediation=Remediation(
        summary="Associate an NSG with the VM's subnet (preferred) or its network interface, with inbound rules "
        "limited to the VPN and the application's ports.",
        portal="Virtual networks > (VNet) > Subnets > (subnet) > Network security group > select an NSG",
        cli="az network vnet subnet update -g RG --vnet-name VNET -n SUBNET --network-security-group NSG",
        terraform="azurerm_subnet_network_security_group_association { subnet_id = ... "
        "network_security_group_id = ... }",
        bicep="networkSecurityGroup: { id: nsg.id } // subnets[].properties",
    ),
)
def vm_nics_have_nsg(subject: NicCoverage | PlacementProblem, params: Params) -> Verdict | None:
    """Fail a VM NIC with an IP configuration whose subnet has no NSG while the NIC has none either; a virtual
    network in code passes when every subnet it declares has an NSG."""
    if isinstance(subject, PlacementProblem):
        return subject.verdict()
    if subject.vm_nic is None:
        if not isinstance(subject.scope, VirtualNetwork):
            raise TypeError("a network interface is judged with the VM it is attached to")
        return _declared_subnets_verdict(subject.scope, subject.subnets)
    nic = subject.vm_nic.nic
    configs: list[dict[str, object]] = []
    uncovered: list[str] = []
    unknown: list[str] = []
    for config, found in zip(nic.ip_configurations, subject.subnets, strict=True):
        subnet_nsg = found.nsg_id if found else None
        configs.append(
            {
                "ip_configuration": config.name,
                "subnet": name_of(config.subnet_id) if config.subnet_id else None,
                "subnet_nsg": name_of(subnet_nsg) if subnet_nsg else None,
            }
        )
        if found is None:
            unknown.append(
                f"subnet {config.subnet_id} was not collected"
                if config.subnet_id
                else f"IP configuration {config.name} reports no subnet"
            )
        elif not subnet_nsg:
            uncovered.append(found.name)
    evidence = {
        "vm": name_of(subject.vm_nic.vm_id),
        "nic_nsg": name_of(nic.nsg_id) if nic.nsg_id else None,
        "ip_configurations": configs,
    }
    if nic.nsg_id:
        return passing(f"Covered by NIC NSG {name_of(nic.nsg_id)}", **evidence)
    if uncovered:
        return failing(f"Neither this interface nor its subnet {', '.join(uncovered)} has an NSG", **evidence)
    if unknown:
        return erroring(f"The subnet NSG cannot be shown: {'; '.join(unknown)}", **evidence)
    if not nic.ip_configurations:
        return erroring("Azure reported no IP configuration and no NSG for this interface", **evidence)
    names = ", ".join(sorted({str(c["subnet_nsg"]) for c in configs}))
    return passing(f"Covered by subnet NSG {names}", **evidence)


# --- NET-03: server egress through the firewall or denied ------------------------------------------


def _covers_all_ports(rule: SecurityRule) -> bool:
    # An unreadable spec is not proof that its ports are denied, so it covers nothing here.
    ranges = sorted(bounds for spec in rule.destination_ports if (bounds := port_bounds(spec)))
    reached = -1
    for first, last in ranges:
        if first > reached + 1:
            return False
        reached = max(reached, last)
    return reached >= MAX_PORT


def _destinations(rule: SecurityRule) -> AddressSet:
    result = NO_ADDRESS
    for prefix in rule.destination_prefixes:
        result = result.union(source_addresses(prefix))
    return result


@dataclass(frozen=True)
class Egress:
    """An outbound Allow rule that lets traffic reach public addresses over one protocol."""

    rule: SecurityRule
    protocol: str
    reachable: AddressSet

    def evidence(self) -> dict[str, object]:
        """The rule fields and values that decided the verdict."""
        return {
            "rule": self.rule.name,
            "priority": self.rule.priority,
            "protocol": self.rule.protocol,
            "destination_prefixes": list(self.rule.destination_prefixes),
            "destination_ports": list(self.rule.destination_ports),
            "over": self.protocol,
            "public_destinations_example": self.reachable.describe(),
            "default_rule": self.rule.is_default,
        }


def internet_egress(rules: Iterable[SecurityRule]) -> list[Egress]:
    """Outbound Allow rules, in priority order, through which public destinations stay reachable.

    A Deny removes its destinations only when it covers every port of the protocol; a Deny for some ports
    leaves the rest open. Service tags other than Internet name Azure services and are not the Internet.
    """
    ordered = sorted((r for r in rules if r.direction.lower() == "outbound"), key=lambda r: r.priority)
    found: list[Egress] = []
    for protocol in EGRESS_PROTOCOLS:
        undecided = PUBLIC_ADDRESSES
        for rule in ordered:
            if not undecided:
                break
            if not carries(rule, protocol):
                continue
            destinations = _destinations(rule)
            if rule.access.lower() == "allow":
                reachable = undecided.intersection(destinations)
                if reachable:
                    found.append(Egress(rule, protocol, reachable))
                    break
            elif protocol == "Icmp" or _covers_all_ports(rule):
                undecided = undecided.difference(destinations)
    return found


def default_route_to(table: RouteTable, targets: frozenset[str]) -> str | None:
    """The name of the table's 0.0.0.0/0 route to one of the target virtual appliance addresses, if any."""
    for route in table.routes:
        if (
            (route.address_prefix or "").strip() == DEFAULT_ROUTE
            and (route.next_hop_type or "").lower() == VIRTUAL_APPLIANCE
            and (route.next_hop_ip or "").strip() in targets
        ):
            return route.name
    return None


def _route_evidence(table: RouteTable) -> dict[str, object]:
    return {
        "route_table": table.name,
        "routes": [
            {"name": r.name, "prefix": r.address_prefix, "next_hop_type": r.next_hop_type, "next_hop_ip": r.next_hop_ip}
            for r in table.routes
        ],
    }


@dataclass(frozen=True)
class SubnetEgress:
    """The outbound layer as NET-03 judges it.

    Live, a subnet holding VM NICs with the route table on it, the Azure Firewall addresses and the NSGs that
    can deny its egress. From code, one route table (``placed`` None) with the firewall addresses its routes
    name: the subnets it serves and their NSGs are other resources.
    """

    placed: PlacedSubnet | None
    route_table: RouteTable | None
    firewall_ips: frozenset[str]
    nsgs: ById[NetworkSecurityGroup]

    @property
    def scope(self) -> PlacedSubnet | RouteTable:
        """What the verdict is about: the subnet (live) or the route table (code)."""
        if self.placed is not None:
            return self.placed
        if self.route_table is None:
            raise TypeError("an egress subject needs a subnet or a route table")
        return self.route_table

    @property
    def id(self) -> str:
        """The subnet's (live) or the route table's (code) id."""
        return self.scope.id

    @property
    def type(self) -> str:
        """The subnet or route table resource type."""
        return self.scope.type

    @property
    def subscription_id(self) -> str:
        """The subscription of the subnet's virtual network or of the route table."""
        return self.scope.subscription_id


def _declared_route_verdict(table: RouteTable, firewall_ips: frozenset[str]) -> Verdict | None:
    defaults = [r for r in table.routes if (r.address_prefix or "").strip() == DEFAULT_ROUTE]
    if not defaults:
        return None
    evidence = _route_evidence(table)
    route = default_route_to(table, firewall_ips)
    if route:
        return passing(f"Route {table.name}/{route} sends 0.0.0.0/0 to the Azure Firewall", **evidence)
    hops = ", ".join(f"{r.name} to {r.next_hop_type} {r.next_hop_ip or ''}".strip() for r in defaults)
    return erroring(
        f"Route table {table.name} sends 0.0.0.0/0 elsewhere than an Azure Firewall its code names ({hops}); "
        "whether the NSGs of the subnets it serves deny outbound Internet is not stated by its code",
        **evidence,
    )


def subnets_with_egress(inventory: Inventory) -> Iterator[SubnetEgress | PlacementProblem]:
    """Every subnet holding VM NICs with its route table and the NSGs in reach, and every unfollowable VM
    reference."""
    placement = place_vms(inventory)
    yield from placement.problems
    firewall_ips = frozenset(ip.strip() for f in inventory.azure_firewalls for ip in f.private_ips)
    tables = ById(inventory.route_tables)
    attached: dict[str, RouteTable] = {
        key(subnet_id): table for table in inventory.route_tables for subnet_id in table.subnet_ids
    }
    nsgs = ById(inventory.network_security_groups)
    for placed in placement.subnets:
        table = tables.get(placed.subnet.route_table_id) or attached.get(key(placed.subnet.id))
        yield SubnetEgress(placed, table, firewall_ips, nsgs)


@check(
    id="server_egress_filtered",
    title="Server subnets send Internet-bound traffic to the Azure Firewall or deny it in their NSGs",
    severity=Severity.MEDIUM,
    resource_types=(SUBNET_TYPE,),
    requires=(VNETS, NICS, VMS, NSGS, ROUTE_TABLES, FIREWALLS),
    over=subnets_with_egress,
    subject="subnets hosting servers",
    parameters=("allowed_vpn_publishers",),
    rationale="The policy promises restricted outbound policies: a server that reaches the Internet directly can "
    "exfiltrate data or fetch tooling past every firewall layer.",
    remediation=Remediation(
        summary="Attach a route table to each server subnet with a 0.0.0.0/0 route whose next hop is the Azure "
        "Firewall's private IP (next hop type VirtualAppliance), or add an outbound NSG rule denying Internet "
        "ahead of any outbound allow.",
        portal="Route tables > (table) > Routes > Add: 0.0.0.0/0, Virtual appliance, the firewall's private IP; "
        "then Subnets > Associate",
        cli="az network route-table route create -g RG --route-table-name RT -n default-to-afw --address-prefix "
        "0.0.0.0/0 --next-hop-type VirtualAppliance --next-hop-ip-address FIREWALL_PRIVATE_IP",
        terraform='route { name = "default-to-afw" address_prefix = "0.0.0.0/0" next_hop_type = "VirtualAppliance" '
        "next_hop_in_ip_address = azurerm_firewall.hub.ip_configuration[0].private_ip_address }",
        bicep="routes: [ { name: 'default-to-afw', properties: { addressPrefix: '0.0.0.0/0', nextHopType: "
        "'VirtualAppliance', nextHopIpAddress: firewallPrivateIp } } ]",
    ),
)
def server_egress_filtered(subject: SubnetEgress | PlacementProblem, params: Params) -> Verdict | None:
    """Judge a server subnet by its default route, then by the NSGs on it or on all its server NICs; a subnet
    holding only VPN appliances is not a server subnet."""
    if isinstance(subject, PlacementProblem):
        return subject.verdict()
    if subject.placed is None:
        if subject.route_table is None:
            raise TypeError("an egress subject needs a subnet or a route table")
        return _declared_route_verdict(subject.route_table, subject.firewall_ips)
    servers = subject.placed.servers(_publishers(params))
    if not servers:
        return None
    return _judge_server_subnet(subject.placed, servers, subject)


def _judge_server_subnet(placed: PlacedSubnet, servers: tuple[VmNic, ...], subject: SubnetEgress) -> Verdict:
    firewall_ips, table, nsgs = subject.firewall_ips, subject.route_table, subject.nsgs
    subnet = placed.subnet
    evidence: dict[str, object] = {"vnet": placed.vnet.name, "azure_firewall_ips": sorted(firewall_ips)}
    unknown: list[str] = []
    if subnet.route_table_id and table is None:
        unknown.append(f"route table {subnet.route_table_id} was not collected")
    if table is not None:
        evidence.update(_route_evidence(table))
        route = default_route_to(table, firewall_ips)
        if route:
            return passing(
                f"Route {table.name}/{route} sends 0.0.0.0/0 to the Azure Firewall",
                **evidence,
            )
    else:
        evidence["route_table"] = None
    subnet_nsg = nsgs.get(subnet.nsg_id)
    if subnet.nsg_id and subnet_nsg is None:
        unknown.append(f"subnet NSG {subnet.nsg_id} was not collected")
    evidence["subnet_nsg"] = subnet_nsg.name if subnet_nsg else None
    subnet_egress: list[Egress] = []
    if subnet_nsg is not None:
        subnet_egress = internet_egress(subnet_nsg.rules)
        evidence["subnet_nsg_egress"] = [e.evidence() for e in subnet_egress]
        if not subnet_egress:
            return passing(f"Subnet NSG {subnet_nsg.name} denies outbound Internet", **evidence)
    # Without a denying subnet NSG, every server NIC must deny egress on its own NSG.
    nic_verdicts: dict[str, dict[str, object] | None] = {}
    all_nics_deny = True
    for server in servers:
        nic_nsg = nsgs.get(server.nic.nsg_id)
        if server.nic.nsg_id and nic_nsg is None:
            unknown.append(f"NIC NSG {server.nic.nsg_id} was not collected")
            all_nics_deny = False
            continue
        if nic_nsg is None:
            nic_verdicts[server.nic.name] = None
            all_nics_deny = False
            continue
        egress = internet_egress(nic_nsg.rules)
        nic_verdicts[server.nic.name] = {"nsg": nic_nsg.name, "egress": [e.evidence() for e in egress]}
        all_nics_deny = all_nics_deny and not egress
    evidence["nic_nsgs"] = nic_verdicts
    if all_nics_deny:
        return passing("Every server NIC's NSG denies outbound Internet", **evidence)
    if unknown:
        return erroring(f"Egress cannot be judged: {'; '.join(unknown)}", unknown=unknown, **evidence)
    route_part = f"route table {table.name} has no 0.0.0.0/0 route to the Azure Firewall" if table else "no route table"
    allowing = sorted({f"{e.rule.name} (priority {e.rule.priority})" for e in subnet_egress})
    nsg_part = (
        f"subnet NSG {subnet_nsg.name} allows outbound Internet through {', '.join(allowing)}"
        if subnet_nsg is not None
        else "the subnet has no NSG"
    )
    open_nics = sorted(name for name, verdict in nic_verdicts.items() if verdict is None or verdict["egress"])
    if open_nics:
        nsg_part += f"; no NSG on {', '.join(open_nics)} denies it either"
    return failing(f"Servers here reach the Internet directly: {route_part}, and {nsg_part}", **evidence)

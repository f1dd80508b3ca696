"""Network layer checks: VPN access to the servers (NET-02) and the firewall layers in front of them (NET-03)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from auditor.arm_ids import key, name_of, parent_of
from auditor.checks.index import ById
from auditor.checks.primitives import (
    ANY_SOURCE,
    EVERY_ADDRESS,
    INTERNET_TAG,
    MAX_PORT,
    NO_ADDRESS,
    PROTOCOLS,
    PUBLIC_ADDRESSES,
    AddressSet,
    applies_to,
    carries,
    is_ip_prefix,
    ordered_inbound,
    port_bounds,
    rule_sources,
    source_addresses,
    whitelist,
)
from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, Status, errored, failed, passed
from auditor.parameters import Params
from auditor.records.compute import VirtualMachine
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NetworkInterface,
    NetworkSecurityGroup,
    RouteTable,
    SecurityRule,
    Subnet,
    VirtualNetwork,
    VirtualNetworkGateway,
)
from auditor.registry import Remediation, check

# Remote administration: RDP and SSH.
REMOTE_ADMIN_PORTS = (3389, 22)
GATEWAY_SUBNET = "gatewaysubnet"
VPN_GATEWAY_TYPE = "vpn"
SUCCEEDED = "succeeded"
CONNECTED = "connected"
STRONG_P2S_AUTH = frozenset({"aad", "certificate"})
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
# Gateways are listed per resource group, so a failed group listing hides them.
GATEWAYS = ("Microsoft.Network/virtualNetworkGateways", "Microsoft.Resources/resourceGroups")
FIREWALLS = "Microsoft.Network/azureFirewalls"
FIREWALL_POLICIES = "Microsoft.Network/firewallPolicies"
ROUTE_TABLES = "Microsoft.Network/routeTables"


# --- where the VMs sit ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VmNic:
    """A network interface attached to a VM, and whether that VM is a VPN appliance."""

    nic: NetworkInterface
    vm_id: str
    vm: VirtualMachine | None
    appliance: bool


@dataclass(frozen=True)
class ServerSubnet:
    """A subnet holding NICs of VMs, with its virtual network."""

    subnet: Subnet
    vnet: VirtualNetwork
    nics: tuple[VmNic, ...]


@dataclass(frozen=True)
class Placement:
    """VM NICs and the subnets they sit in, plus the references that could not be followed."""

    nics: tuple[VmNic, ...]
    subnets: tuple[ServerSubnet, ...]
    problems: tuple[CheckResult, ...]
    # Subnet id (canonical) -> subnet and its virtual network, for every collected subnet.
    subnet_index: dict[str, tuple[Subnet, VirtualNetwork]] = field(default_factory=dict)

    def server_subnets(self) -> list[ServerSubnet]:
        """Subnets holding at least one NIC of a VM that is not a VPN appliance, with those NICs only."""
        found = []
        for placed in self.subnets:
            servers = tuple(n for n in placed.nics if not n.appliance)
            if servers:
                found.append(ServerSubnet(placed.subnet, placed.vnet, servers))
        return found

    def server_vnets(self) -> list[tuple[VirtualNetwork, list[ServerSubnet]]]:
        """Virtual networks hosting servers, with their server subnets."""
        by_vnet: dict[str, tuple[VirtualNetwork, list[ServerSubnet]]] = {}
        for placed in self.server_subnets():
            by_vnet.setdefault(key(placed.vnet.id), (placed.vnet, []))[1].append(placed)
        return list(by_vnet.values())


def is_vpn_appliance(vm: VirtualMachine, publishers: Iterable[str]) -> bool:
    """True when the VM runs a marketplace image of a listed VPN appliance publisher."""
    publisher = (vm.image.publisher or "").strip().lower()
    return bool(publisher) and publisher in {p.strip().lower() for p in publishers}


def place_vms(inventory: Inventory, publishers: Iterable[str]) -> Placement:
    """Every NIC attached to a VM (as the NIC or the VM reports it) and the subnets they sit in."""
    wanted = tuple(publishers)
    vms = ById(inventory.virtual_machines)
    nics = ById(inventory.network_interfaces)
    subnet_index = {key(s.id): (s, vnet) for vnet in inventory.virtual_networks for s in vnet.subnets}
    problems: list[CheckResult] = []
    attached: dict[str, VmNic] = {}

    def attach(nic: NetworkInterface, vm_id: str) -> None:
        vm = vms.get(vm_id)
        # A VM that was not collected cannot be shown to be an appliance, so it counts as a server.
        attached[key(nic.id)] = VmNic(nic, vm_id, vm, vm is not None and is_vpn_appliance(vm, wanted))

    for nic in inventory.network_interfaces:
        if nic.vm_id:
            attach(nic, nic.vm_id)
    for vm in inventory.virtual_machines:
        for nic_id in vm.nic_ids:
            if key(nic_id) in attached:
                continue
            found = nics.get(nic_id)
            if found is None:
                problems.append(errored(vm, f"Network interface {nic_id} of this VM was not collected", nic_id=nic_id))
            else:
                attach(found, vm.id)
    by_subnet: dict[str, list[VmNic]] = {}
    for placed in attached.values():
        missing = [
            c.subnet_id for c in placed.nic.ip_configurations if c.subnet_id and key(c.subnet_id) not in subnet_index
        ]
        if missing:
            problems.append(
                errored(
                    placed.nic,
                    f"Subnet {', '.join(missing)} of this VM network interface was not collected",
                    subnet_ids=missing,
                )
            )
        for config in placed.nic.ip_configurations:
            if config.subnet_id and key(config.subnet_id) in subnet_index:
                members = by_subnet.setdefault(key(config.subnet_id), [])
                if placed not in members:
                    members.append(placed)
    subnets = tuple(
        ServerSubnet(subnet_index[sid][0], subnet_index[sid][1], tuple(members))
        for sid, members in sorted(by_subnet.items())
    )
    return Placement(tuple(attached.values()), subnets, tuple(problems), subnet_index)


def vnet_of_nic(nic: NetworkInterface) -> set[str]:
    """Canonical ids of the virtual networks a NIC's IP configurations sit in."""
    return {key(parent_of(c.subnet_id)) for c in nic.ip_configurations if c.subnet_id}


def _subnet_result(status: Status, placed: ServerSubnet, message: str, **evidence: object) -> CheckResult:
    return CheckResult(placed.subnet.id, SUBNET_TYPE, placed.vnet.subscription_id, status, message, evidence)


# --- NET-02: a VPN path into every server VNet ----------------------------------------------------


def is_vpn_gateway(gateway: VirtualNetworkGateway) -> bool:
    """True for a virtual network gateway of type Vpn (not ExpressRoute)."""
    return (gateway.gateway_type or "").lower() == VPN_GATEWAY_TYPE


@dataclass(frozen=True)
class VpnPaths:
    """How VPN users reach one virtual network, and what stood in the way of finding out."""

    paths: list[str]
    notes: list[str]
    unknown: list[str]


def vpn_paths(
    vnet: VirtualNetwork,
    gateways: Sequence[VirtualNetworkGateway],
    appliances: Sequence[VmNic],
    collected_vnets: ById[VirtualNetwork],
) -> VpnPaths:
    """The VPN paths into a VNet: a VPN gateway or appliance in it, or in a connected peer it can use."""
    paths: list[str] = []
    notes: list[str] = []
    unknown: list[str] = []
    gateways_in: dict[str, list[VirtualNetworkGateway]] = {}
    for gateway in gateways:
        if gateway.vnet_id:
            gateways_in.setdefault(key(gateway.vnet_id), []).append(gateway)
    appliances_in: dict[str, list[VmNic]] = {}
    for appliance in appliances:
        for vnet_id in vnet_of_nic(appliance.nic):
            appliances_in.setdefault(vnet_id, []).append(appliance)

    def usable(gateway: VirtualNetworkGateway, where: str) -> bool:
        if gateway.gateway_type is None:
            unknown.append(f"gateway {gateway.name} {where} has no gateway type reported")
            return False
        if not is_vpn_gateway(gateway):
            return False
        if (gateway.provisioning_state or "").lower() != SUCCEEDED:
            notes.append(f"VPN gateway {gateway.name} {where} is in state {gateway.provisioning_state}")
            return False
        return True

    def appliance_names(vnet_id: str) -> list[str]:
        return sorted({name_of(a.vm_id) for a in appliances_in.get(vnet_id, [])})

    for gateway in gateways_in.get(key(vnet.id), []):
        if usable(gateway, "in this VNet"):
            paths.append(f"VPN gateway {gateway.name} in this VNet")
    for name in appliance_names(key(vnet.id)):
        paths.append(f"VPN appliance {name} in this VNet")
    for peering in vnet.peerings:
        remote_id = peering.remote_vnet_id
        if not remote_id:
            unknown.append(f"peering {peering.name} names no remote virtual network")
            continue
        remote = name_of(remote_id)
        if (peering.peering_state or "").lower() != CONNECTED:
            notes.append(f"peering {peering.name} to {remote} is {peering.peering_state}")
            continue
        if collected_vnets.get(remote_id) is None:
            unknown.append(f"peered virtual network {remote_id} was not collected")
        for gateway in gateways_in.get(key(remote_id), []):
            if not usable(gateway, f"in peered VNet {remote}"):
                continue
            if peering.use_remote_gateways is None:
                unknown.append(f"peering {peering.name} does not report useRemoteGateways")
            elif peering.use_remote_gateways:
                paths.append(f"VPN gateway {gateway.name} in peered hub {remote} (peering {peering.name} uses it)")
            else:
                # Without useRemoteGateways the hub's gateway does not advertise this VNet to VPN clients.
                notes.append(
                    f"VPN gateway {gateway.name} in peered VNet {remote}, but peering {peering.name} does not "
                    "use remote gateways"
                )
        for name in appliance_names(key(remote_id)):
            paths.append(f"VPN appliance {name} in peered VNet {remote} (peering {peering.name})")
    return VpnPaths(paths, notes, unknown)


def _publishers(params: Params) -> tuple[str, ...]:
    return params.get_list("allowed_vpn_publishers")


VPN_PATH_REMEDIATION = Remediation(
    summary="Give every VNet hosting servers a VPN path: deploy a route-based VPN gateway in a hub VNet and peer "
    "the server VNet to it with 'Use the remote virtual network's gateway' (the hub side allowing gateway "
    "transit), or deploy the Fortinet VPN appliance in or next to it.",
    portal="Virtual networks > (server VNet) > Peerings > (peering to hub) > Remote virtual network's gateway: "
    "Use the remote virtual network's gateway or Route Server",
    cli="az network vnet peering update -g RG --vnet-name SPOKE -n PEERING --set useRemoteGateways=true",
    terraform="use_remote_gateways = true  # azurerm_virtual_network_peering (spoke to hub); "
    "allow_gateway_transit = true on the hub side",
    bicep="useRemoteGateways: true // virtualNetworkPeerings properties, spoke side",
)


@check(
    id="vpn_path_to_servers",
    title="Every virtual network hosting servers is reachable through a VPN gateway or VPN appliance",
    severity=Severity.HIGH,
    resource_types=(VNETS,),
    requires=(VNETS, NICS, VMS, *GATEWAYS),
    parameters=("allowed_vpn_publishers",),
    rationale="The policy requires administrators to reach the servers over an authenticated VPN; a server VNet "
    "without a VPN path can only be administered through some other, unauthenticated route.",
    remediation=VPN_PATH_REMEDIATION,
)
def vpn_path_to_servers(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass each server VNet with a VPN gateway or appliance in it or in a peered hub it can use."""
    placement = place_vms(inventory, _publishers(params))
    yield from placement.problems
    appliances = [n for n in placement.nics if n.appliance]
    collected = ById(inventory.virtual_networks)
    for vnet, subnets in placement.server_vnets():
        found = vpn_paths(vnet, inventory.virtual_network_gateways, appliances, collected)
        evidence: dict[str, object] = {
            "server_subnets": [s.subnet.name for s in subnets],
            "servers": sorted({name_of(n.vm_id) for s in subnets for n in s.nics}),
            "vpn_paths": found.paths,
            "notes": found.notes,
            "peerings": [
                {
                    "name": p.name,
                    "remote_vnet": p.remote_vnet_id,
                    "state": p.peering_state,
                    "use_remote_gateways": p.use_remote_gateways,
                    "allow_gateway_transit": p.allow_gateway_transit,
                }
                for p in vnet.peerings
            ],
            "allowed_vpn_publishers": list(_publishers(params)),
        }
        if found.paths:
            yield passed(vnet, f"VPN path: {'; '.join(found.paths)}", **evidence)
        elif found.unknown:
            yield errored(vnet, f"No VPN path found, and {'; '.join(found.unknown)}", unknown=found.unknown, **evidence)
        else:
            detail = f" ({'; '.join(found.notes)})" if found.notes else ""
            yield failed(
                vnet,
                f"No VPN gateway or VPN appliance serves this VNet, which hosts servers{detail}",
                **evidence,
            )


# --- NET-02: point-to-site authentication ---------------------------------------------------------


def p2s_configured(gateway: VirtualNetworkGateway) -> bool:
    """True when the gateway has any point-to-site setting."""
    return bool(
        gateway.p2s_address_pools
        or gateway.p2s_auth_types
        or gateway.p2s_protocols
        or gateway.p2s_root_certificates
        or gateway.aad_tenant
        or gateway.radius_server
    )


def p2s_auth_types(gateway: VirtualNetworkGateway) -> tuple[tuple[str, ...], bool]:
    """The point-to-site authentication types, and whether they were inferred from the settings.

    Gateways configured before ``vpnAuthenticationTypes`` existed report none; their settings (root
    certificates, RADIUS server, AAD tenant) show which types are in use.
    """
    if gateway.p2s_auth_types:
        return gateway.p2s_auth_types, False
    inferred = [
        name
        for name, present in (
            ("Certificate", gateway.p2s_root_certificates > 0),
            ("Radius", bool(gateway.radius_server)),
            ("AAD", bool(gateway.aad_tenant)),
        )
        if present
    ]
    return tuple(inferred), True


@check(
    id="vpn_p2s_authentication",
    title="Point-to-site VPN gateways authenticate users with Microsoft Entra ID or certificates",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Network/virtualNetworkGateways",),
    requires=GATEWAYS,
    rationale="The policy requires VPN authentication; Entra ID (with MFA through Conditional Access) and "
    "client certificates bind a connection to a person or device, while RADIUS alone hands the decision to a "
    "server this audit cannot see.",
    remediation=Remediation(
        summary="Configure the gateway's point-to-site authentication type as Azure AD (Microsoft Entra ID) or "
        "Azure certificate, with the OpenVPN tunnel type for Entra ID.",
        portal="Virtual network gateways > (gateway) > Point-to-site configuration > Authentication type: Azure "
        "Active Directory or Azure certificate",
        cli="az network vnet-gateway update -g RG -n GATEWAY --vpn-auth-type AAD --client-protocol OpenVPN "
        "--aad-tenant https://login.microsoftonline.com/TENANT/ --aad-audience AUDIENCE --aad-issuer "
        "https://sts.windows.net/TENANT/",
        terraform='vpn_client_configuration { vpn_auth_types = ["AAD"] aad_tenant = "..." aad_audience = "..." '
        'aad_issuer = "..." }  # azurerm_virtual_network_gateway',
        bicep="vpnClientConfiguration: { vpnAuthenticationTypes: [ 'AAD' ], aadTenant: '...', aadAudience: "
        "'...', aadIssuer: '...' }",
    ),
)
def vpn_p2s_authentication(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass VPN gateways whose point-to-site users authenticate with Entra ID or certificates."""
    for gateway in inventory.virtual_network_gateways:
        if gateway.gateway_type is None:
            yield errored(gateway, "Azure reported no gateway_type for this gateway", gateway_type=None)
            continue
        if not is_vpn_gateway(gateway):
            continue
        types, inferred = p2s_auth_types(gateway)
        evidence: dict[str, object] = {
            "gateway_type": gateway.gateway_type,
            "vpn_type": gateway.vpn_type,
            "sku": gateway.sku,
            "p2s_address_pools": list(gateway.p2s_address_pools),
            "p2s_auth_types": list(types),
            "auth_types_inferred": inferred,
            "p2s_protocols": list(gateway.p2s_protocols),
            "p2s_root_certificates": gateway.p2s_root_certificates,
            "aad_tenant": gateway.aad_tenant,
            "radius_server": gateway.radius_server,
        }
        if not p2s_configured(gateway):
            yield passed(gateway, "No point-to-site configuration: the gateway serves site-to-site only", **evidence)
            continue
        strong = sorted({t for t in types if t.lower() in STRONG_P2S_AUTH})
        if strong:
            yield passed(gateway, f"Point-to-site users authenticate with {', '.join(strong)}", **evidence)
        elif types:
            yield failed(
                gateway,
                f"Point-to-site authentication is {', '.join(types)} only, not Entra ID (AAD) or certificates",
                **evidence,
            )
        else:
            yield failed(
                gateway,
                "Point-to-site is configured but no authentication type, root certificate, RADIUS server or AAD "
                "tenant is reported",
                **evidence,
            )


# --- NET-02: remote administration only from VPN sources ------------------------------------------


@dataclass(frozen=True)
class VpnSources:
    """The addresses remote administration may come from, and where each part comes from."""

    addresses: AddressSet
    described: dict[str, list[str]]


def vpn_sources(
    gateways: Iterable[VirtualNetworkGateway],
    vnets: Iterable[VirtualNetwork],
    appliances: Iterable[VmNic],
    allowed: Sequence[str],
) -> VpnSources:
    """VPN client pools, GatewaySubnets of VNets with a VPN gateway, VPN appliance addresses and the whitelist."""
    vpn_gateways = [g for g in gateways if is_vpn_gateway(g)]
    pools = [p for g in vpn_gateways for p in g.p2s_address_pools if is_ip_prefix(p)]
    hubs = {key(g.vnet_id) for g in vpn_gateways if g.vnet_id}
    gateway_subnets = [
        prefix
        for vnet in vnets
        if key(vnet.id) in hubs
        for subnet in vnet.subnets
        if subnet.name.lower() == GATEWAY_SUBNET
        for prefix in subnet.address_prefixes
        if is_ip_prefix(prefix)
    ]
    appliance_ips = sorted(
        {
            c.private_ip
            for a in appliances
            for c in a.nic.ip_configurations
            if c.private_ip and is_ip_prefix(c.private_ip)
        }
    )
    addresses = AddressSet.from_prefixes([*pools, *gateway_subnets, *appliance_ips]).union(whitelist(allowed))
    return VpnSources(
        addresses,
        {
            "vpn_client_pools": pools,
            "gateway_subnets": gateway_subnets,
            "vpn_appliance_addresses": appliance_ips,
            "allowed_rdp_sources": list(allowed),
        },
    )


def _is_service_tag(prefix: str) -> bool:
    lowered = prefix.strip().lower()
    return lowered not in ANY_SOURCE and lowered != INTERNET_TAG and not is_ip_prefix(lowered)


@dataclass(frozen=True)
class AdminSource:
    """An Allow rule that lets remote administration in from sources outside the VPN ones."""

    rule: SecurityRule
    port: int
    protocol: str
    outside: AddressSet
    tags: tuple[str, ...]

    def evidence(self) -> dict[str, object]:
        """The rule fields and values that decided the verdict."""
        return {
            "rule": self.rule.name,
            "priority": self.rule.priority,
            "protocol": self.rule.protocol,
            "source_prefixes": list(self.rule.source_prefixes),
            "source_asg_ids": list(self.rule.source_asg_ids),
            "destination_ports": list(self.rule.destination_ports),
            "port": self.port,
            "over": self.protocol,
            "sources_outside_vpn_example": self.outside.describe(),
            "service_tags_or_groups": list(self.tags),
        }


def admin_sources_outside(
    rules: Sequence[SecurityRule], port: int, protocol: str, permitted: AddressSet
) -> list[AdminSource]:
    """Custom Allow rules that admit the port from sources outside ``permitted``, shadowed ones excluded.

    Rules are walked in priority order. A source decided by a higher-priority rule is not admitted by a
    later one; service tags and application security groups are decided only by the same tag or by ``*``.
    Azure's default rules are not judged: they cannot be removed, only overridden.
    """
    found: list[AdminSource] = []
    undecided = EVERY_ADDRESS
    decided_tags: set[str] = set()
    everything_decided = False
    for rule in ordered_inbound(rules):
        if everything_decided:
            break
        if not applies_to(rule, port, protocol):
            continue
        matched = rule_sources(rule)
        tags = [p.strip() for p in rule.source_prefixes if _is_service_tag(p)] + list(rule.source_asg_ids)
        if rule.access.lower() == "allow" and not rule.is_default:
            outside = undecided.intersection(matched).difference(permitted)
            open_tags = tuple(t for t in tags if t.lower() not in decided_tags)
            if outside or open_tags:
                found.append(AdminSource(rule, port, protocol, outside, open_tags))
        undecided = undecided.difference(matched)
        decided_tags.update(t.lower() for t in tags)
        everything_decided = everything_decided or any(p.strip().lower() in ANY_SOURCE for p in rule.source_prefixes)
    return found


@check(
    id="remote_admin_sources_via_vpn",
    title="NSG rules admit RDP and SSH only from VPN clients, the gateway subnet or whitelisted addresses",
    severity=Severity.HIGH,
    resource_types=(NSGS,),
    requires=(NSGS, VNETS, NICS, VMS, *GATEWAYS),
    parameters=("allowed_rdp_sources", "allowed_vpn_publishers"),
    rationale="The policy requires VPN authentication and connection for server access: an RDP or SSH rule "
    "open to any other source, private ones included, lets administrators or attackers bypass the VPN.",
    remediation=Remediation(
        summary="Narrow the source of every inbound rule that allows 3389 or 22 to the VPN client address pool, "
        "the GatewaySubnet, the VPN appliance's addresses or whitelisted public prefixes; put a higher-priority "
        "Deny in front of anything broader.",
        portal="Network security groups > (NSG) > Inbound security rules > select the rule > Source: IP "
        "addresses > the VPN client address pool",
        cli="az network nsg rule update -g RG --nsg-name NSG -n RULE --source-address-prefixes 172.16.201.0/24",
        terraform='source_address_prefixes = ["172.16.201.0/24"]  # azurerm_network_security_rule: VPN pool',
        bicep="sourceAddressPrefixes: [ '172.16.201.0/24' ] // securityRules[].properties",
    ),
)
def remote_admin_sources_via_vpn(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail every NSG with a reachable RDP or SSH Allow rule whose sources reach beyond the VPN sources."""
    appliances = [n for n in place_vms(inventory, _publishers(params)).nics if n.appliance]
    sources = vpn_sources(
        inventory.virtual_network_gateways,
        inventory.virtual_networks,
        appliances,
        params.get_list("allowed_rdp_sources"),
    )
    for nsg in inventory.network_security_groups:
        found = [
            finding
            for port in REMOTE_ADMIN_PORTS
            for protocol in PROTOCOLS
            for finding in admin_sources_outside(nsg.rules, port, protocol, sources.addresses)
        ]
        if found:
            ports_by_rule: dict[str, set[int]] = {}
            for finding in found:
                ports_by_rule.setdefault(finding.rule.name, set()).add(finding.port)
            names = ", ".join(
                f"{rule} ({', '.join(str(p) for p in sorted(ports))})" for rule, ports in sorted(ports_by_rule.items())
            )
            yield failed(
                nsg,
                f"Inbound rule(s) {names} admit remote administration from sources outside the VPN",
                violations=[f.evidence() for f in found],
                vpn_sources=sources.described,
            )
        else:
            yield passed(
                nsg,
                "Every reachable RDP (3389) and SSH (22) Allow rule admits only VPN or whitelisted sources",
                rules_evaluated=len(nsg.rules),
                vpn_sources=sources.described,
            )


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


@check(
    id="azure_firewall_protects_servers",
    title="Every VNet hosting servers has a provisioned Azure Firewall with threat intelligence on, in it or a peer",
    severity=Severity.HIGH,
    resource_types=(VNETS,),
    requires=(VNETS, NICS, VMS, FIREWALLS, FIREWALL_POLICIES),
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
def azure_firewall_protects_servers(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass each server VNet with a healthy, threat-intel-enforcing Azure Firewall in it or a connected peer."""
    placement = place_vms(inventory, _publishers(params))
    yield from placement.problems
    policies = ById(inventory.firewall_policies)
    by_vnet: dict[str, list[AzureFirewall]] = {}
    for firewall in inventory.azure_firewalls:
        where = firewall_vnet(firewall)
        if where:
            by_vnet.setdefault(where, []).append(firewall)
    for vnet, _ in placement.server_vnets():
        reach = [key(vnet.id)] + [
            key(p.remote_vnet_id)
            for p in vnet.peerings
            if p.remote_vnet_id and (p.peering_state or "").lower() == CONNECTED
        ]
        candidates = [f for vnet_id in reach for f in by_vnet.get(vnet_id, [])]
        judged = [(f, effective_threat_intel(f, policies)) for f in candidates]
        evidence = {"firewalls": [_firewall_evidence(f, t) for f, t in judged], "vnets_searched": len(reach)}
        healthy = [
            f
            for f, t in judged
            if (f.provisioning_state or "").lower() == SUCCEEDED and (t.mode or "").lower() in ENFORCING_THREAT_INTEL
        ]
        if healthy:
            names = ", ".join(f.name for f in healthy)
            yield passed(vnet, f"Protected by Azure Firewall {names} (provisioned, threat intelligence on)", **evidence)
            continue
        missing = [t.missing_policy for _, t in judged if t.missing_policy]
        if missing:
            yield errored(
                vnet,
                f"Firewall policy {', '.join(missing)} was not collected, so the threat-intelligence mode in force "
                "cannot be shown",
                **evidence,
            )
        elif judged:
            reasons = "; ".join(
                f"{f.name}: provisioning {f.provisioning_state}, threat intelligence {t.mode} ({t.source})"
                for f, t in judged
            )
            yield failed(
                vnet, f"No Azure Firewall here is provisioned with threat intelligence on: {reasons}", **evidence
            )
        else:
            yield failed(vnet, "No Azure Firewall in this VNet or any connected peered VNet", **evidence)


# --- NET-03: every VM NIC behind an NSG -----------------------------------------------------------


@check(
    id="vm_nics_have_nsg",
    title="Every VM network interface is covered by an NSG on the interface or on its subnet",
    severity=Severity.HIGH,
    resource_types=(NICS,),
    requires=(NICS, VNETS, VMS),
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
def vm_nics_have_nsg(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail each VM NIC with an IP configuration whose subnet has no NSG while the NIC has none either."""
    placement = place_vms(inventory, ())
    yield from (p for p in placement.problems if p.resource_type == VMS)
    for placed in placement.nics:
        yield _judge_nic_coverage(placed, placement.subnet_index)


def _judge_nic_coverage(placed: VmNic, subnets: dict[str, tuple[Subnet, VirtualNetwork]]) -> CheckResult:
    nic = placed.nic
    configs: list[dict[str, object]] = []
    uncovered: list[str] = []
    unknown: list[str] = []
    for config in nic.ip_configurations:
        found = subnets.get(key(config.subnet_id)) if config.subnet_id else None
        subnet_nsg = found[0].nsg_id if found else None
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
            uncovered.append(found[0].name)
    evidence = {
        "vm": name_of(placed.vm_id),
        "nic_nsg": name_of(nic.nsg_id) if nic.nsg_id else None,
        "ip_configurations": configs,
    }
    if nic.nsg_id:
        return passed(nic, f"Covered by NIC NSG {name_of(nic.nsg_id)}", **evidence)
    if uncovered:
        return failed(nic, f"Neither this interface nor its subnet {', '.join(uncovered)} has an NSG", **evidence)
    if unknown:
        return errored(nic, f"The subnet NSG cannot be shown: {'; '.join(unknown)}", **evidence)
    if not nic.ip_configurations:
        return errored(nic, "Azure reported no IP configuration and no NSG for this interface", **evidence)
    names = ", ".join(sorted({str(c["subnet_nsg"]) for c in configs}))
    return passed(nic, f"Covered by subnet NSG {names}", **evidence)


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


def default_route_to(table: RouteTable, targets: set[str]) -> str | None:
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


@check(
    id="server_egress_filtered",
    title="Server subnets send Internet-bound traffic to the Azure Firewall or deny it in their NSGs",
    severity=Severity.MEDIUM,
    resource_types=(SUBNET_TYPE,),
    requires=(VNETS, NICS, VMS, NSGS, ROUTE_TABLES, FIREWALLS),
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
def server_egress_filtered(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Judge each server subnet by its default route, then by the NSGs on it or on all its server NICs."""
    placement = place_vms(inventory, _publishers(params))
    yield from placement.problems
    firewall_ips = {ip.strip() for f in inventory.azure_firewalls for ip in f.private_ips}
    tables = ById(inventory.route_tables)
    attached: dict[str, RouteTable] = {
        key(subnet_id): table for table in inventory.route_tables for subnet_id in table.subnet_ids
    }
    nsgs = ById(inventory.network_security_groups)
    for placed in placement.server_subnets():
        yield _judge_egress(placed, firewall_ips, tables, attached, nsgs)


def _judge_egress(
    placed: ServerSubnet,
    firewall_ips: set[str],
    tables: ById[RouteTable],
    attached: dict[str, RouteTable],
    nsgs: ById[NetworkSecurityGroup],
) -> CheckResult:
    subnet = placed.subnet
    evidence: dict[str, object] = {"vnet": placed.vnet.name, "azure_firewall_ips": sorted(firewall_ips)}
    unknown: list[str] = []
    table = tables.get(subnet.route_table_id) or attached.get(key(subnet.id))
    if subnet.route_table_id and table is None:
        unknown.append(f"route table {subnet.route_table_id} was not collected")
    if table is not None:
        evidence.update(_route_evidence(table))
        route = default_route_to(table, firewall_ips)
        if route:
            return _subnet_result(
                Status.PASS,
                placed,
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
            return _subnet_result(
                Status.PASS, placed, f"Subnet NSG {subnet_nsg.name} denies outbound Internet", **evidence
            )
    # Without a denying subnet NSG, every server NIC must deny egress on its own NSG.
    nic_verdicts: dict[str, dict[str, object] | None] = {}
    all_nics_deny = True
    for server in placed.nics:
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
        return _subnet_result(Status.PASS, placed, "Every server NIC's NSG denies outbound Internet", **evidence)
    if unknown:
        return _subnet_result(
            Status.ERROR, placed, f"Egress cannot be judged: {'; '.join(unknown)}", unknown=unknown, **evidence
        )
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
    return _subnet_result(
        Status.FAIL, placed, f"Servers here reach the Internet directly: {route_part}, and {nsg_part}", **evidence
    )

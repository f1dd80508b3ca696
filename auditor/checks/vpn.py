"""VPN checks (NET-02): a VPN path into every server VNet, strong point-to-site authentication, and remote
administration admitted only from VPN sources."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from auditor.arm_ids import key, name_of
from auditor.checks.placement import (
    PlacedSubnet,
    PlacementProblem,
    VmNic,
    appliances,
    place_vms,
    vnet_of_nic,
)
from auditor.checks.primitives import (
    ANY_SOURCE,
    EVERY_ADDRESS,
    INTERNET_TAG,
    PROTOCOLS,
    AddressSet,
    admits_any,
    applies_to,
    every_address_outside,
    is_ip_prefix,
    ordered_inbound,
    rule_sources,
    whitelist,
)
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.network import (
    NetworkSecurityGroup,
    SecurityRule,
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

VMS = "Microsoft.Compute/virtualMachines"
NICS = "Microsoft.Network/networkInterfaces"
VNETS = "Microsoft.Network/virtualNetworks"
NSGS = "Microsoft.Network/networkSecurityGroups"
# Gateways are listed per resource group, so a failed group listing hides them.
GATEWAYS = ("Microsoft.Network/virtualNetworkGateways", "Microsoft.Resources/resourceGroups")


def _publishers(params: Params) -> tuple[str, ...]:
    return params.get_list("allowed_vpn_publishers")


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
    appliance_nics: Sequence[VmNic],
    collected_vnets: frozenset[str],
) -> VpnPaths:
    """The VPN paths into a VNet: a VPN gateway or appliance in it, or in a connected peer it can use.

    ``collected_vnets`` holds the canonical ids of every collected virtual network.
    """
    paths: list[str] = []
    notes: list[str] = []
    unknown: list[str] = []
    gateways_in: dict[str, list[VirtualNetworkGateway]] = {}
    for gateway in gateways:
        if gateway.vnet_id:
            gateways_in.setdefault(key(gateway.vnet_id), []).append(gateway)
    appliances_in: dict[str, list[VmNic]] = {}
    for appliance in appliance_nics:
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
        if key(remote_id) not in collected_vnets:
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


@dataclass(frozen=True)
class VnetWithVms:
    """A virtual network holding VM NICs, with what a VPN path into it can run through: what NET-02 judges.

    Whether its VMs are servers or VPN appliances depends on the allowed publishers, so the judge decides it.
    """

    vnet: VirtualNetwork
    subnets: tuple[PlacedSubnet, ...]
    vm_nics: tuple[VmNic, ...]  # every VM NIC of the estate, where VPN appliances are looked for
    gateways: tuple[VirtualNetworkGateway, ...]
    collected_vnets: frozenset[str]

    @property
    def id(self) -> str:
        """The virtual network's id."""
        return self.vnet.id

    @property
    def type(self) -> str:
        """The virtual network's type."""
        return self.vnet.type

    @property
    def subscription_id(self) -> str:
        """The virtual network's subscription."""
        return self.vnet.subscription_id


def vnets_with_vms(inventory: Inventory) -> Iterator[VnetWithVms | PlacementProblem]:
    """Every VNet holding VM NICs, with the estate's gateways and VM NICs, and every unfollowable VM reference."""
    placement = place_vms(inventory)
    yield from placement.problems
    collected = frozenset(key(v.id) for v in inventory.virtual_networks)
    gateways = tuple(inventory.virtual_network_gateways)
    for vnet, subnets in placement.vnets():
        yield VnetWithVms(vnet, subnets, placement.nics, gateways, collected)


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
    over=vnets_with_vms,
    subject="virtual networks hosting servers",
    parameters=("allowed_vpn_publishers",),
    rationale="The policy requires administrators to reach the servers over an authenticated VPN; a server VNet "
    "without a VPN path can only be administered through some other, unauthenticated route.",
    remediation=VPN_PATH_REMEDIATION,
)
def vpn_path_to_servers(subject: VnetWithVms | PlacementProblem, params: Params) -> Verdict | None:
    """Pass a server VNet with a VPN gateway or appliance in it or in a peered hub it can use; a VNet holding
    only VPN appliances is not a server VNet."""
    if isinstance(subject, PlacementProblem):
        return subject.verdict()
    publishers = _publishers(params)
    placed = [(s, s.servers(publishers)) for s in subject.subnets]
    hosting = [(s, nics) for s, nics in placed if nics]
    if not hosting:
        return None
    vnet = subject.vnet
    found = vpn_paths(vnet, subject.gateways, appliances(subject.vm_nics, publishers), subject.collected_vnets)
    evidence: dict[str, object] = {
        "server_subnets": [s.subnet.name for s, _ in hosting],
        "servers": sorted({name_of(n.vm_id) for _, nics in hosting for n in nics}),
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
        "allowed_vpn_publishers": list(publishers),
    }
    if found.paths:
        return passing(f"VPN path: {'; '.join(found.paths)}", **evidence)
    if found.unknown:
        return erroring(f"No VPN path found, and {'; '.join(found.unknown)}", unknown=found.unknown, **evidence)
    detail = f" ({'; '.join(found.notes)})" if found.notes else ""
    return failing(f"No VPN gateway or VPN appliance serves this VNet, which hosts servers{detail}", **evidence)


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
    over="virtual_network_gateways",
    subject="VPN gateways",
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
def vpn_p2s_authentication(gateway: VirtualNetworkGateway, params: Params) -> Verdict | None:
    """Pass a VPN gateway whose point-to-site users authenticate with Entra ID or certificates; ExpressRoute
    gateways are not its subject."""
    if gateway.gateway_type is None:
        return erroring("Azure reported no gateway_type for this gateway", gateway_type=None)
    if not is_vpn_gateway(gateway):
        return None
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
        return passing("No point-to-site configuration: the gateway serves site-to-site only", **evidence)
    strong = sorted({t for t in types if t.lower() in STRONG_P2S_AUTH})
    if strong:
        return passing(f"Point-to-site users authenticate with {', '.join(strong)}", **evidence)
    if types:
        return failing(
            f"Point-to-site authentication is {', '.join(types)} only, not Entra ID (AAD) or certificates", **evidence
        )
    return failing(
        "Point-to-site is configured but no authentication type, root certificate, RADIUS server or AAD tenant is "
        "reported",
        **evidence,
    )


# --- NET-02: remote administration only from VPN sources ------------------------------------------


@dataclass(frozen=True)
class VpnSources:
    """The addresses remote administration may come from, and where each part comes from."""

    addresses: AddressSet
    described: dict[str, object]


@dataclass(frozen=True)
class VpnEstate:
    """What the VPN sources are drawn from: the gateways, the VNets and the VM NICs of the estate."""

    gateways: tuple[VirtualNetworkGateway, ...]
    vnets: tuple[VirtualNetwork, ...]
    vm_nics: tuple[VmNic, ...]
    # Sources already drawn from this estate, by the parameters they were drawn with: every NSG of the
    # estate is judged against the same sources, and drawing them walks every VM.
    drawn: dict[tuple[tuple[str, ...], ...], VpnSources] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )


# What the code of one NSG cannot show: the client pools sit on the gateway, the appliances on their VMs.
NOT_IN_THIS_RESOURCE = "not stated by the code of this NSG"


def vpn_sources(
    estate: VpnEstate | None, publishers: Sequence[str], allowed: Sequence[str], stated: Sequence[str] = ()
) -> VpnSources:
    """VPN client pools, GatewaySubnets of VNets with a VPN gateway, VPN appliance addresses, the VPN source
    prefixes the baseline states and the whitelist.

    Without an estate (an NSG judged from its code alone) only the stated prefixes and the whitelist are known.
    """
    if estate is not None:
        memo = (tuple(publishers), tuple(allowed), tuple(stated))
        if memo not in estate.drawn:
            estate.drawn[memo] = _drawn_sources(estate, publishers, allowed, stated)
        return estate.drawn[memo]
    return _drawn_sources(None, publishers, allowed, stated)


def _drawn_sources(
    estate: VpnEstate | None, publishers: Sequence[str], allowed: Sequence[str], stated: Sequence[str]
) -> VpnSources:
    known = whitelist(allowed).union(AddressSet.from_prefixes(p for p in stated if is_ip_prefix(p)))
    if estate is None:
        return VpnSources(
            known,
            {
                "vpn_client_pools": NOT_IN_THIS_RESOURCE,
                "gateway_subnets": NOT_IN_THIS_RESOURCE,
                "vpn_appliance_addresses": NOT_IN_THIS_RESOURCE,
                "vpn_source_prefixes": list(stated),
                "allowed_rdp_sources": list(allowed),
            },
        )
    vpn_gateways = [g for g in estate.gateways if is_vpn_gateway(g)]
    pools = [p for g in vpn_gateways for p in g.p2s_address_pools if is_ip_prefix(p)]
    hubs = {key(g.vnet_id) for g in vpn_gateways if g.vnet_id}
    gateway_subnets = [
        prefix
        for vnet in estate.vnets
        if key(vnet.id) in hubs
        for subnet in vnet.subnets
        if subnet.name.lower() == GATEWAY_SUBNET
        for prefix in subnet.address_prefixes
        if is_ip_prefix(prefix)
    ]
    appliance_ips = sorted(
        {
            c.private_ip
            for a in appliances(estate.vm_nics, publishers)
            for c in a.nic.ip_configurations
            if c.private_ip and is_ip_prefix(c.private_ip)
        }
    )
    addresses = AddressSet.from_prefixes([*pools, *gateway_subnets, *appliance_ips]).union(known)
    return VpnSources(
        addresses,
        {
            "vpn_client_pools": pools,
            "gateway_subnets": gateway_subnets,
            "vpn_appliance_addresses": appliance_ips,
            "vpn_source_prefixes": list(stated),
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

    @property
    def beyond_any_pool(self) -> bool:
        """True when the rule admits every address or the Internet, or a tag or group: outside any VPN pool."""
        broad = ANY_SOURCE | {INTERNET_TAG}
        return bool(self.tags) or any(p.strip().lower() in broad for p in self.rule.source_prefixes)

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


def _may_admit_from(rule: SecurityRule, beyond: AddressSet) -> bool:
    """True when a custom Allow rule names a service tag, a group, or addresses in ``beyond``."""
    if rule.access.lower() != "allow" or rule.is_default:
        return False
    if rule.source_asg_ids or any(_is_service_tag(p) for p in rule.source_prefixes):
        return True
    return admits_any(rule.source_prefixes, beyond)


def admin_sources_outside(
    rules: Sequence[SecurityRule], port: int, protocol: str, permitted: AddressSet
) -> list[AdminSource]:
    """Custom Allow rules that admit the port from sources outside ``permitted``, shadowed ones excluded.

    Rules are walked in priority order. A source decided by a higher-priority rule is not admitted by a
    later one; service tags and application security groups are decided only by the same tag or by ``*``.
    Azure's default rules are not judged: they cannot be removed, only overridden.
    """
    found: list[AdminSource] = []
    applying = [rule for rule in ordered_inbound(rules) if applies_to(rule, port, protocol)]
    beyond = every_address_outside(permitted)
    if not any(_may_admit_from(rule, beyond) for rule in applying):
        # No custom Allow rule names a tag, a group or an address outside ``permitted``: the walk below,
        # which only narrows what each rule admits, would find nothing.
        return found
    undecided = EVERY_ADDRESS
    decided_tags: set[str] = set()
    everything_decided = False
    for rule in applying:
        if everything_decided:
            break
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


@dataclass(frozen=True)
class NsgAdminSources:
    """An NSG with the estate its VPN sources come from (None: judged from its code, where they are unknown)."""

    nsg: NetworkSecurityGroup
    estate: VpnEstate | None

    @property
    def id(self) -> str:
        """The NSG's id."""
        return self.nsg.id

    @property
    def type(self) -> str:
        """The NSG's type."""
        return self.nsg.type

    @property
    def subscription_id(self) -> str:
        """The NSG's subscription."""
        return self.nsg.subscription_id


def nsgs_with_vpn_sources(inventory: Inventory) -> Iterator[NsgAdminSources]:
    """Every NSG, with the gateways, VNets and VM NICs its VPN sources are drawn from."""
    estate = VpnEstate(
        tuple(inventory.virtual_network_gateways), tuple(inventory.virtual_networks), place_vms(inventory).nics
    )
    for nsg in inventory.network_security_groups:
        yield NsgAdminSources(nsg, estate)


def _rules_named(found: Iterable[AdminSource]) -> str:
    ports_by_rule: dict[str, set[int]] = {}
    for finding in found:
        ports_by_rule.setdefault(finding.rule.name, set()).add(finding.port)
    return ", ".join(
        f"{rule} ({', '.join(str(p) for p in sorted(ports))})" for rule, ports in sorted(ports_by_rule.items())
    )


@check(
    id="remote_admin_sources_via_vpn",
    title="NSG rules admit RDP and SSH only from VPN clients, the gateway subnet or whitelisted addresses",
    severity=Severity.HIGH,
    resource_types=(NSGS,),
    requires=(NSGS, VNETS, NICS, VMS, *GATEWAYS),
    over=nsgs_with_vpn_sources,
    subject="network security groups",
    parameters=("allowed_rdp_sources", "allowed_vpn_publishers", "vpn_source_prefixes"),
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
def remote_admin_sources_via_vpn(subject: NsgAdminSources, params: Params) -> Verdict:
    """Fail an NSG with a reachable RDP or SSH Allow rule whose sources reach beyond the VPN sources.

    Judged from its code alone, an NSG's VPN client pool is unknown unless vpn_source_prefixes states it: without
    it, a rule admitting every address, the Internet or a tag fails, and one admitting other addresses outside
    the whitelist cannot be shown either way.
    """
    nsg = subject.nsg
    stated = params.get_list("vpn_source_prefixes")
    sources = vpn_sources(subject.estate, _publishers(params), params.get_list("allowed_rdp_sources"), stated)
    found = [
        finding
        for port in REMOTE_ADMIN_PORTS
        for protocol in PROTOCOLS
        for finding in admin_sources_outside(nsg.rules, port, protocol, sources.addresses)
    ]
    undecided: list[AdminSource] = []
    if subject.estate is None and not stated:
        undecided = [f for f in found if not f.beyond_any_pool]
        found = [f for f in found if f.beyond_any_pool]
    if found:
        return failing(
            f"Inbound rule(s) {_rules_named(found)} admit remote administration from sources outside the VPN",
            violations=[f.evidence() for f in found],
            vpn_sources=sources.described,
        )
    if undecided:
        return erroring(
            f"Inbound rule(s) {_rules_named(undecided)} admit remote administration from sources outside "
            "allowed_rdp_sources; whether they are the VPN client pool is not stated by the code of this NSG "
            "(vpn_source_prefixes states it)",
            undecided=[f.evidence() for f in undecided],
            vpn_sources=sources.described,
        )
    return passing(
        "Every reachable RDP (3389) and SSH (22) Allow rule admits only VPN or whitelisted sources",
        rules_evaluated=len(nsg.rules),
        vpn_sources=sources.described,
    )

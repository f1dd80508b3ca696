"""NSG checks: RDP reachable from public addresses through an NSG or onto a NIC (NET-01), other management and
database ports (NET-04)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditor.checks.index import ById, subnets_by_id
from auditor.checks.primitives import (
    NO_ADDRESS,
    PROTOCOLS,
    AddressSet,
    Exposure,
    exposures,
    port_bounds,
    port_exposures,
    public_outside,
    reachable_through,
    whitelist,
)
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.network import IpConfiguration, NetworkInterface, NetworkSecurityGroup, PublicIpAddress, Subnet
from auditor.registry import Remediation, check

RDP_PORT = 3389

NSG_APIS = ("Microsoft.Network/networkSecurityGroups",)
NIC_APIS = (
    "Microsoft.Network/networkSecurityGroups",
    "Microsoft.Network/networkInterfaces",
    "Microsoft.Network/virtualNetworks",
    "Microsoft.Network/publicIPAddresses",
)

RDP_REMEDIATION = Remediation(
    summary=(
        "Remove or narrow every inbound Allow rule that admits TCP or UDP 3389 from '*', 'Internet', "
        "'Any', 0.0.0.0/0, ::/0 or a public prefix outside the whitelist; reach servers over the VPN "
        "instead, or add a higher-priority Deny for those sources."
    ),
    portal="Network security groups > (NSG) > Inbound security rules > select the rule > Source: IP "
    "addresses, the VPN client pool or whitelisted prefixes only",
    cli="az network nsg rule update -g RG --nsg-name NSG -n RULE --source-address-prefixes 172.16.201.0/24",
    terraform='source_address_prefixes = ["172.16.201.0/24"]  # azurerm_network_security_rule: VPN pool only',
    bicep="sourceAddressPrefixes: [ '172.16.201.0/24' ] // securityRules[].properties",
)


def rdp_whitelist(params: Params) -> AddressSet:
    """The public sources the baseline allows to reach RDP."""
    return whitelist(params.get_list("allowed_rdp_sources"))


def _exposing_rules(found: list[Exposure]) -> str:
    return ", ".join(sorted({f"{e.rule.name} ({e.protocol})" for e in found}))


@check(
    id="nsg_rdp_exposure",
    title="NSG rules do not admit RDP from public addresses outside the whitelist",
    severity=Severity.CRITICAL,
    resource_types=("Microsoft.Network/networkSecurityGroups",),
    requires=NSG_APIS,
    over="network_security_groups",
    subject="network security groups",
    parameters=("allowed_rdp_sources",),
    rationale="An RDP listener reachable from the internet is brute-forced within hours of exposure.",
    remediation=RDP_REMEDIATION,
)
def nsg_rdp_exposure(nsg: NetworkSecurityGroup, params: Params) -> Verdict:
    """Fail an NSG whose rules, in priority order, let a public non-whitelisted source reach 3389."""
    whitelisted = list(params.get_list("allowed_rdp_sources"))
    found = exposures(nsg.rules, RDP_PORT, rdp_whitelist(params))
    if found:
        example = ", ".join(found[0].reachable.describe())
        return failing(
            f"Inbound rule(s) {_exposing_rules(found)} admit RDP (3389) from public sources outside the whitelist "
            f"(for example {example})",
            exposures=[e.evidence() for e in found],
            whitelist=whitelisted,
        )
    return passing(
        "No inbound rule admits RDP (3389) from a public source outside the whitelist",
        rules_evaluated=len(nsg.rules),
        whitelist=whitelisted,
    )


# --- the effective exposure of a NIC: subnet NSG, NIC NSG and public IP together ------------------------


@dataclass(frozen=True)
class IpConfigurationLayers:
    """One IP configuration of a NIC with the subnet NSG and public IP it resolves to.

    ``unresolved`` says why a layer it references cannot be shown (not collected, or unreadable).
    """

    config: IpConfiguration
    subnet_nsg: NetworkSecurityGroup | None = None
    public_ip: PublicIpAddress | None = None
    unresolved: str | None = None


@dataclass(frozen=True)
class NicLayers:
    """A NIC joined with every NSG and public IP that decides what reaches it: what nic_rdp_exposure judges."""

    nic: NetworkInterface
    nic_nsg: NetworkSecurityGroup | None
    configurations: tuple[IpConfigurationLayers, ...] = ()
    # Why the NIC's own NSG, referenced but not available, cannot be shown.
    unresolved_nsg: str | None = None

    @property
    def id(self) -> str:
        """The NIC's id."""
        return self.nic.id

    @property
    def type(self) -> str:
        """The NIC's type."""
        return self.nic.type

    @property
    def subscription_id(self) -> str:
        """The NIC's subscription."""
        return self.nic.subscription_id


def _configuration_layers(
    config: IpConfiguration,
    nsgs: ById[NetworkSecurityGroup],
    subnets: ById[Subnet],
    public_ips: ById[PublicIpAddress],
) -> IpConfigurationLayers:
    subnet = subnets.get(config.subnet_id)
    if config.subnet_id and subnet is None:
        return IpConfigurationLayers(
            config, unresolved=f"subnet {config.subnet_id} is referenced but was not collected"
        )
    subnet_nsg_id = subnet.nsg_id if subnet else None
    subnet_nsg = nsgs.get(subnet_nsg_id)
    if subnet_nsg_id and subnet_nsg is None:
        problem = f"subnet NSG {subnet_nsg_id} is referenced but {nsgs.missing(subnet_nsg_id)}"
        return IpConfigurationLayers(config, unresolved=problem)
    public_ip = public_ips.get(config.public_ip_id)
    if config.public_ip_id and public_ip is None:
        problem = f"public IP {config.public_ip_id} is referenced but was not collected"
        return IpConfigurationLayers(config, subnet_nsg, unresolved=problem)
    return IpConfigurationLayers(config, subnet_nsg, public_ip)


def nic_layers(inventory: Inventory) -> Iterator[NicLayers]:
    """Every NIC with its NIC NSG and, per IP configuration, its subnet's NSG and its public IP."""
    nsgs = ById(inventory.network_security_groups)
    subnets = subnets_by_id(inventory)
    public_ips = ById(inventory.public_ip_addresses)
    for nic in inventory.network_interfaces:
        nic_nsg = nsgs.get(nic.nsg_id)
        if nic.nsg_id and nic_nsg is None:
            problem = f"NIC NSG {nic.nsg_id} is referenced but {nsgs.missing(nic.nsg_id)}"
            yield NicLayers(nic, None, unresolved_nsg=problem)
            continue
        configs = tuple(_configuration_layers(c, nsgs, subnets, public_ips) for c in nic.ip_configurations)
        yield NicLayers(nic, nic_nsg, configs)


@check(
    id="nic_rdp_exposure",
    title="No network interface is reachable over RDP from public addresses outside the whitelist",
    severity=Severity.CRITICAL,
    resource_types=("Microsoft.Network/networkInterfaces",),
    requires=NIC_APIS,
    over=nic_layers,
    subject="network interfaces",
    parameters=("allowed_rdp_sources",),
    rationale="Azure applies the subnet NSG and the NIC NSG in turn; only their combination shows exposure, "
    "and a Basic public IP with no NSG at all is open to the internet.",
    remediation=RDP_REMEDIATION,
)
def nic_rdp_exposure(subject: NicLayers, params: Params) -> Verdict:
    """Judge a NIC by both NSG layers as Azure applies them, and by its public IP when it has none."""
    if subject.unresolved_nsg:
        return erroring(subject.unresolved_nsg, nsg_id=subject.nic.nsg_id)
    candidates = public_outside(rdp_whitelist(params))
    nic_nsg = subject.nic_nsg
    layers_seen: list[dict[str, object]] = []
    for resolved in subject.configurations:
        if resolved.unresolved:
            return erroring(resolved.unresolved)
        subnet_nsg, public_ip = resolved.subnet_nsg, resolved.public_ip
        layers = [layer for layer in (subnet_nsg, nic_nsg) if layer is not None]
        layers_seen.append(
            {
                "ip_configuration": resolved.config.name,
                "subnet_nsg": subnet_nsg.name if subnet_nsg else None,
                "nic_nsg": nic_nsg.name if nic_nsg else None,
                "public_ip": public_ip.name if public_ip else None,
                "public_ip_sku": public_ip.sku if public_ip else None,
            }
        )
        if not layers:
            if public_ip is not None and (public_ip.sku or "basic").lower() == "basic":
                return failing(
                    f"No NSG on the NIC or its subnet, and Basic public IP {public_ip.name} is open to "
                    "the internet by default",
                    layers=layers_seen,
                )
            continue
        for protocol in PROTOCOLS:
            through, deciding = candidates, list[str]()
            for layer in layers:
                through, rules = reachable_through(layer.rules, RDP_PORT, protocol, through)
                deciding.extend(f"{layer.name}/{r.name} (priority {r.priority})" for r in rules)
            if through:
                return failing(
                    f"RDP (3389/{protocol}) reaches this NIC from public sources outside the whitelist "
                    f"through {', '.join(deciding)}",
                    layers=layers_seen,
                    public_sources_example=through.describe(),
                    deciding_rules=deciding,
                )
    return passing("RDP (3389) from public non-whitelisted sources is stopped before this NIC", layers=layers_seen)


# --- other management and database ports (NET-04) -------------------------------------------------


def _rule_names(found: list[dict[str, object]]) -> str:
    return ", ".join(sorted({str(e["rule"]) for e in found}))


def unreadable_port_specs(ports: tuple[str, ...]) -> list[str]:
    """The entries of exposed_ports that are neither a port nor a port range."""
    return [spec for spec in ports if port_bounds(spec) is None]


@check(
    id="nsg_management_port_exposure",
    title="NSG rules do not admit management or database ports from the Internet",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Network/networkSecurityGroups",),
    requires=NSG_APIS,
    over="network_security_groups",
    subject="network security groups",
    parameters=("exposed_ports",),
    rationale="SSH, WinRM and database listeners reachable from the internet are scanned and brute-forced "
    "continuously; the policy restricts inbound access to the VPN and firewall layers.",
    remediation=Remediation(
        summary="Remove or narrow every inbound Allow rule that admits a management or database port from "
        "'*', 'Internet', 'Any', 0.0.0.0/0, ::/0 or a public prefix; reach these services over the VPN, or add "
        "a higher-priority Deny for public sources.",
        portal="Network security groups > (NSG) > Inbound security rules > select the rule > Source: the VPN "
        "client pool or private ranges only",
        cli="az network nsg rule update -g RG --nsg-name NSG -n RULE --source-address-prefixes 172.16.201.0/24",
        terraform='source_address_prefixes = ["172.16.201.0/24"]  # azurerm_network_security_rule',
        bicep="sourceAddressPrefixes: [ '172.16.201.0/24' ] // securityRules[].properties",
    ),
)
def nsg_management_port_exposure(nsg: NetworkSecurityGroup, params: Params) -> Verdict:
    """Fail an NSG whose rules, in priority order, let any public source reach a listed port.

    The RDP whitelist does not apply here: the policy whitelists public sources for remote desktop only.
    """
    ports = params.get_list("exposed_ports")
    unreadable = unreadable_port_specs(ports)
    if unreadable:
        return erroring(
            f"exposed_ports entry {unreadable[0]!r} is not a port or a port range", ports_checked=list(ports)
        )
    exposed: dict[str, list[dict[str, object]]] = {}
    for spec in ports:
        found = port_exposures(nsg.rules, spec, NO_ADDRESS)
        if found:
            exposed[spec] = [e.evidence() for e in found]
    if exposed:
        summary = "; ".join(f"{spec} through {_rule_names(rules)}" for spec, rules in exposed.items())
        return failing(
            f"Management or database port(s) reachable from the Internet: {summary}",
            exposed_ports=exposed,
            ports_checked=list(ports),
        )
    return passing(
        f"No inbound rule admits ports {', '.join(ports)} from a public source",
        ports_checked=list(ports),
        rules_evaluated=len(nsg.rules),
    )

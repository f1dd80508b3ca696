"""Network checks: RDP reachable from the public internet (NET-01), other management ports (NET-04)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from auditor.arm_ids import name_of
from auditor.checks.addresses import (
    ANY_SOURCE,
    EVERY_ADDRESS,
    INTERNET_TAG,
    NO_ADDRESS,
    PUBLIC_ADDRESSES,
    AddressSet,
    is_ip_prefix,
    whitelist,
)
from auditor.checks.exposure import PROTOCOLS, Exposure, exposures, ordered_inbound, port_in, reachable_through
from auditor.checks.index import ById, subnets_by_id
from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, errored, failed, passed
from auditor.parameters import Params
from auditor.records.network import (
    AzureFirewall,
    FirewallPolicy,
    NatRule,
    NetworkInterface,
    NetworkSecurityGroup,
    PublicIpAddress,
    SecurityRule,
    Subnet,
)
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


def _rdp_whitelist(params: Params) -> AddressSet:
    return whitelist(params.get_list("allowed_rdp_sources"))


@check(
    id="nsg_rdp_exposure",
    title="NSG rules do not admit RDP from public addresses outside the whitelist",
    severity=Severity.CRITICAL,
    resource_types=("Microsoft.Network/networkSecurityGroups",),
    requires=NSG_APIS,
    parameters=("allowed_rdp_sources",),
    rationale="An RDP listener reachable from the internet is brute-forced within hours of exposure.",
    remediation=RDP_REMEDIATION,
)
def nsg_rdp_exposure(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail every NSG whose rules, in priority order, let a public non-whitelisted source reach 3389."""
    allowed = _rdp_whitelist(params)
    for nsg in inventory.network_security_groups:
        found = exposures(nsg.rules, RDP_PORT, allowed)
        if found:
            names = ", ".join(sorted({f"{e.rule.name} ({e.protocol})" for e in found}))
            yield failed(
                nsg,
                f"Inbound rule(s) {names} admit RDP (3389) from public sources outside the whitelist",
                exposures=[e.evidence() for e in found],
                whitelist=list(params.get_list("allowed_rdp_sources")),
            )
        else:
            yield passed(
                nsg,
                "No inbound rule admits RDP (3389) from a public source outside the whitelist",
                rules_evaluated=len(nsg.rules),
                whitelist=list(params.get_list("allowed_rdp_sources")),
            )


@check(
    id="nic_rdp_exposure",
    title="No network interface is reachable over RDP from public addresses outside the whitelist",
    severity=Severity.CRITICAL,
    resource_types=("Microsoft.Network/networkInterfaces",),
    requires=NIC_APIS,
    parameters=("allowed_rdp_sources",),
    rationale="Azure applies the subnet NSG and the NIC NSG in turn; only their combination shows exposure, "
    "and a Basic public IP with no NSG at all is open to the internet.",
    remediation=RDP_REMEDIATION,
)
def nic_rdp_exposure(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Judge each NIC by both NSG layers as Azure applies them, and by its public IP when it has none."""
    candidates = PUBLIC_ADDRESSES.difference(_rdp_whitelist(params))
    nsgs = ById(inventory.network_security_groups)
    subnets = subnets_by_id(inventory)
    public_ips = ById(inventory.public_ip_addresses)
    for nic in inventory.network_interfaces:
        yield _judge_nic(nic, candidates, nsgs, subnets, public_ips)


def _judge_nic(
    nic: NetworkInterface,
    candidates: AddressSet,
    nsgs: ById[NetworkSecurityGroup],
    subnets: ById[Subnet],
    public_ips: ById[PublicIpAddress],
) -> CheckResult:
    nic_nsg = nsgs.get(nic.nsg_id)
    if nic.nsg_id and nic_nsg is None:
        return errored(nic, f"NIC NSG {nic.nsg_id} is referenced but {nsgs.missing(nic.nsg_id)}", nsg_id=nic.nsg_id)
    layers_seen: list[dict[str, object]] = []
    for config in nic.ip_configurations:
        subnet = subnets.get(config.subnet_id)
        if config.subnet_id and subnet is None:
            return errored(nic, f"subnet {config.subnet_id} is referenced but was not collected")
        subnet_nsg_id = subnet.nsg_id if subnet else None
        subnet_nsg = nsgs.get(subnet_nsg_id)
        if subnet_nsg_id and subnet_nsg is None:
            return errored(nic, f"subnet NSG {subnet_nsg_id} is referenced but {nsgs.missing(subnet_nsg_id)}")
        public_ip = public_ips.get(config.public_ip_id)
        if config.public_ip_id and public_ip is None:
            return errored(nic, f"public IP {config.public_ip_id} is referenced but was not collected")
        layers = [layer for layer in (subnet_nsg, nic_nsg) if layer is not None]
        layers_seen.append(
            {
                "ip_configuration": config.name,
                "subnet_nsg": subnet_nsg.name if subnet_nsg else None,
                "nic_nsg": nic_nsg.name if nic_nsg else None,
                "public_ip": public_ip.name if public_ip else None,
                "public_ip_sku": public_ip.sku if public_ip else None,
            }
        )
        if not layers:
            if public_ip is not None and (public_ip.sku or "basic").lower() == "basic":
                return failed(
                    nic,
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
                return failed(
                    nic,
                    f"RDP (3389/{protocol}) reaches this NIC from public sources outside the whitelist "
                    f"through {', '.join(deciding)}",
                    layers=layers_seen,
                    public_sources_example=through.describe(),
                    deciding_rules=deciding,
                )
    return passed(nic, "RDP (3389) from public non-whitelisted sources is stopped before this NIC", layers=layers_seen)


# --- Azure Firewall DNAT rules that forward to RDP (NET-01) ----------------------------------------

FIREWALL_APIS = (
    "Microsoft.Network/azureFirewalls",
    "Microsoft.Network/firewallPolicies",
    "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
)
# DNAT rules translate TCP and UDP; RDP listens on both.
DNAT_RDP_PROTOCOLS = frozenset({"tcp", "udp", "any", "*"})


def dnat_source_addresses(entry: str) -> AddressSet | None:
    """The addresses a firewall rule source matches: keyword, CIDR, address or ``first-last`` range.

    None when the entry is none of those, so the caller can say it could not be judged.
    """
    lowered = entry.strip().lower()
    if lowered in ANY_SOURCE:
        return EVERY_ADDRESS
    if lowered == INTERNET_TAG:
        return PUBLIC_ADDRESSES
    if is_ip_prefix(lowered):
        return AddressSet.from_prefixes([lowered])
    first_text, separator, last_text = lowered.partition("-")
    if separator:
        try:
            first = ipaddress.ip_address(first_text.strip())
            last = ipaddress.ip_address(last_text.strip())
        except ValueError:
            return None
        if first.version == last.version and int(first) <= int(last):
            return AddressSet.of([(first.version, int(first), int(last))])
    return None


def forwards_to_port(rule: NatRule, port: int) -> bool:
    """True when a DNAT rule delivers TCP or UDP traffic to the port on the translated address.

    The translated port decides; without one Azure keeps the destination port. A rule with no protocol
    or port reported is taken to forward, so a gap in the data never hides a forward.
    """
    if rule.protocols and not any(p.strip().lower() in DNAT_RDP_PROTOCOLS for p in rule.protocols):
        return False
    translated = (rule.translated_port or "").strip()
    if translated:
        return port_in(translated, port)
    return not rule.destination_ports or any(port_in(spec, port) for spec in rule.destination_ports)


@dataclass(frozen=True)
class DnatForward:
    """A DNAT rule that forwards to a port, with the public sources it admits outside the whitelist."""

    rule: NatRule
    exposed: AddressSet
    unresolved: tuple[str, ...]

    def evidence(self) -> dict[str, object]:
        """The rule fields and values that decided the verdict."""
        return {
            "rule": self.rule.name,
            "collection": self.rule.collection,
            "protocols": list(self.rule.protocols),
            "source_addresses": list(self.rule.source_addresses),
            "source_ip_groups": list(self.rule.source_ip_groups),
            "destination_addresses": list(self.rule.destination_addresses),
            "destination_ports": list(self.rule.destination_ports),
            "translated_address": self.rule.translated_address,
            "translated_port": self.rule.translated_port,
            "public_sources_example": self.exposed.describe(),
            "unresolved_sources": list(self.unresolved),
        }


def dnat_forwards(rules: Iterable[NatRule], port: int, allowed: AddressSet) -> list[DnatForward]:
    """Every DNAT rule forwarding to the port, with the public non-whitelisted sources it admits.

    IP groups and source entries that are not addresses cannot be resolved from the inventory; they are
    returned as unresolved rather than read as safe.
    """
    found: list[DnatForward] = []
    candidates = PUBLIC_ADDRESSES.difference(allowed)
    for rule in rules:
        if not forwards_to_port(rule, port):
            continue
        sources = NO_ADDRESS
        unresolved = [f"IP group {group}" for group in rule.source_ip_groups]
        for entry in rule.source_addresses:
            matched = dnat_source_addresses(entry)
            if matched is None:
                unresolved.append(f"source {entry!r}")
            else:
                sources = sources.union(matched)
        if not rule.source_addresses and not rule.source_ip_groups:
            unresolved.append("no source reported")
        found.append(DnatForward(rule, candidates.intersection(sources), tuple(unresolved)))
    return found


def _judge_dnat(
    resource: AzureFirewall | FirewallPolicy, rules: tuple[NatRule, ...], params: Params, **context: object
) -> CheckResult:
    whitelisted = list(params.get_list("allowed_rdp_sources"))
    forwards = dnat_forwards(rules, RDP_PORT, _rdp_whitelist(params))
    exposed = [f for f in forwards if f.exposed]
    unresolved = [f for f in forwards if not f.exposed and f.unresolved]
    evidence = {"rdp_dnat_rules": [f.evidence() for f in forwards], "whitelist": whitelisted, **context}
    if exposed:
        names = ", ".join(f"{f.rule.collection}/{f.rule.name}" for f in exposed)
        return failed(
            resource,
            f"DNAT rule(s) {names} forward to RDP (3389) from public sources outside the whitelist",
            **evidence,
        )
    if unresolved:
        details = "; ".join(f"{f.rule.collection}/{f.rule.name}: {', '.join(f.unresolved)}" for f in unresolved)
        return errored(
            resource,
            f"DNAT rule(s) forwarding to RDP (3389) have sources the inventory cannot resolve: {details}",
            **evidence,
        )
    if not forwards:
        kind = "classic DNAT rule" if isinstance(resource, AzureFirewall) else "DNAT rule"
        message = f"None of its {len(rules)} {kind}(s) forwards to RDP (3389)" if rules else f"No {kind}s"
        if isinstance(resource, AzureFirewall) and resource.firewall_policy_id:
            message += (
                f"; the DNAT rules of its firewall policy {name_of(resource.firewall_policy_id)} are judged there"
            )
    else:
        message = f"{len(forwards)} DNAT rule(s) forward to RDP (3389), none from public sources outside the whitelist"
    return passed(resource, message, dnat_rules_evaluated=len(rules), **evidence)


@check(
    id="firewall_rdp_dnat",
    title="Azure Firewall DNAT rules do not forward RDP from public addresses outside the whitelist",
    severity=Severity.CRITICAL,
    resource_types=("Microsoft.Network/azureFirewalls", "Microsoft.Network/firewallPolicies"),
    requires=FIREWALL_APIS,
    parameters=("allowed_rdp_sources",),
    rationale="A DNAT rule publishes a server's RDP listener on the firewall's public address: NSGs behind the "
    "firewall see the firewall's address, not the attacker's, so only the rule's sources restrict it.",
    remediation=Remediation(
        summary="Restrict the source addresses of every DNAT rule whose translated port is 3389 to whitelisted "
        "public prefixes, or remove the rule and reach the server over the VPN.",
        portal="Firewall Policies > (policy) > DNAT rules > (rule collection) > (rule) > Source: whitelisted "
        "addresses only; classic rules: Firewalls > (firewall) > Rules (classic) > NAT rule collection",
        cli="az network firewall policy rule-collection-group collection rule update -g RG --policy-name POLICY "
        "--rule-collection-group-name GROUP --collection-name COLLECTION -n RULE --source-addresses 203.0.113.0/24",
        terraform='source_addresses = ["203.0.113.0/24"]  # azurerm_firewall_policy_rule_collection_group '
        "nat_rule_collection.rule",
        bicep="sourceAddresses: [ '203.0.113.0/24' ] // ruleCollections[].rules[] with ruleType 'NatRule'",
    ),
)
def firewall_rdp_dnat(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Judge the classic DNAT rules of each firewall and the DNAT rules of each firewall policy."""
    for firewall in inventory.azure_firewalls:
        context: dict[str, object] = {"source": "classic NAT rule collections"}
        if firewall.firewall_policy_id:
            # Azure ignores classic rules on a policy-managed firewall; its policy is judged on its own.
            context["firewall_policy_id"] = firewall.firewall_policy_id
        yield _judge_dnat(firewall, firewall.nat_rules, params, **context)
    for policy in inventory.firewall_policies:
        context = {"source": "DNAT rule collections", "rule_collection_groups": list(policy.rule_collection_group_ids)}
        if policy.base_policy_id:
            context["base_policy_id"] = policy.base_policy_id
        yield _judge_dnat(policy, policy.nat_rules, params, **context)


# --- other management and database ports (NET-04) -------------------------------------------------

MAX_PORT = 65535


def port_bounds(spec: str) -> tuple[int, int] | None:
    """First and last port of a spec (``*``, ``22`` or ``5985-5986``); None when it is not one."""
    text = spec.strip()
    if text in {"*", ""}:
        return 0, MAX_PORT
    low, _, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError:
        return None
    return (first, last) if 0 <= first <= last <= MAX_PORT else None


def representative_ports(first: int, last: int, rules: Iterable[SecurityRule]) -> list[int]:
    """One port per stretch of [first, last] over which every rule's port specs agree.

    Rules can only change their verdict where one of their ranges starts or ends, so judging one port of
    each stretch judges the whole range exactly.
    """
    cuts = {first}
    for rule in rules:
        for spec in rule.destination_ports:
            # An unreadable spec is taken to cover every port, as port_in does.
            low, high = port_bounds(spec) or (0, MAX_PORT)
            cuts.update(point for point in (low, high + 1) if first < point <= last)
    return sorted(cuts)


def port_exposures(rules: Sequence[SecurityRule], spec: str, allowed: AddressSet) -> list[Exposure]:
    """Allow rules through which public sources outside ``allowed`` reach any port of the spec."""
    bounds = port_bounds(spec)
    if bounds is None:
        raise ValueError(f"exposed_ports entry {spec!r} is not a port or a port range")
    inbound = ordered_inbound(rules)
    found: list[Exposure] = []
    for port in representative_ports(*bounds, inbound):
        found.extend(exposures(inbound, port, allowed))
    return found


def _rule_names(found: list[dict[str, object]]) -> str:
    return ", ".join(sorted({str(e["rule"]) for e in found}))


def _management_ports(params: Params) -> tuple[str, ...]:
    ports = params.get_list("exposed_ports")
    for spec in ports:
        if port_bounds(spec) is None:
            raise ValueError(f"exposed_ports entry {spec!r} is not a port or a port range")
    return ports


@check(
    id="nsg_management_port_exposure",
    title="NSG rules do not admit management or database ports from the Internet",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Network/networkSecurityGroups",),
    requires=NSG_APIS,
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
def nsg_management_port_exposure(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Fail every NSG whose rules, in priority order, let any public source reach a listed port.

    The RDP whitelist does not apply here: the policy whitelists public sources for remote desktop only.
    """
    ports = _management_ports(params)
    for nsg in inventory.network_security_groups:
        exposed: dict[str, list[dict[str, object]]] = {}
        for spec in ports:
            found = port_exposures(nsg.rules, spec, NO_ADDRESS)
            if found:
                exposed[spec] = [e.evidence() for e in found]
        if exposed:
            summary = "; ".join(f"{spec} through {_rule_names(rules)}" for spec, rules in exposed.items())
            yield failed(
                nsg,
                f"Management or database port(s) reachable from the Internet: {summary}",
                exposed_ports=exposed,
                ports_checked=list(ports),
            )
        else:
            yield passed(
                nsg,
                f"No inbound rule admits ports {', '.join(ports)} from a public source",
                ports_checked=list(ports),
                rules_evaluated=len(nsg.rules),
            )

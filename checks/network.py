"""Network checks: RDP reachable from the public internet (NET-01)."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.addresses import PUBLIC_ADDRESSES, AddressSet, whitelist
from auditor.checks.exposure import PROTOCOLS, exposures, reachable_through
from auditor.checks.index import ById, subnets_by_id
from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, errored, failed, passed
from auditor.parameters import Params
from auditor.records.network import NetworkInterface, NetworkSecurityGroup, PublicIpAddress, Subnet
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
        return errored(nic, f"NIC NSG {nic.nsg_id} is referenced but was not collected", nsg_id=nic.nsg_id)
    layers_seen: list[dict[str, object]] = []
    for config in nic.ip_configurations:
        subnet = subnets.get(config.subnet_id)
        if config.subnet_id and subnet is None:
            return errored(nic, f"subnet {config.subnet_id} is referenced but was not collected")
        subnet_nsg_id = subnet.nsg_id if subnet else None
        subnet_nsg = nsgs.get(subnet_nsg_id)
        if subnet_nsg_id and subnet_nsg is None:
            return errored(nic, f"subnet NSG {subnet_nsg_id} is referenced but was not collected")
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

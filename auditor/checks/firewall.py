"""Azure Firewall checks: DNAT rules that publish RDP to public addresses outside the whitelist (NET-01)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from auditor.arm_ids import name_of
from auditor.checks.nsg import RDP_PORT, rdp_whitelist
from auditor.checks.primitives import NO_ADDRESS, AddressSet, firewall_source_addresses, port_in, public_outside
from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.network import AzureFirewall, FirewallPolicy, NatRule
from auditor.registry import Remediation, check

FIREWALL_APIS = (
    "Microsoft.Network/azureFirewalls",
    "Microsoft.Network/firewallPolicies",
    "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
)
# DNAT rules translate TCP and UDP; RDP listens on both.
DNAT_RDP_PROTOCOLS = frozenset({"tcp", "udp", "any", "*"})


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
    candidates = public_outside(allowed)
    for rule in rules:
        if not forwards_to_port(rule, port):
            continue
        sources = NO_ADDRESS
        unresolved = [f"IP group {group}" for group in rule.source_ip_groups]
        for entry in rule.source_addresses:
            matched = firewall_source_addresses(entry)
            if matched is None:
                unresolved.append(f"source {entry!r}")
            else:
                sources = sources.union(matched)
        if not rule.source_addresses and not rule.source_ip_groups:
            unresolved.append("no source reported")
        found.append(DnatForward(rule, candidates.intersection(sources), tuple(unresolved)))
    return found


def dnat_context(resource: AzureFirewall | FirewallPolicy) -> dict[str, object]:
    """Where the rules judged come from, and the policy that holds them instead when it is not this resource."""
    if isinstance(resource, AzureFirewall):
        context: dict[str, object] = {"source": "classic NAT rule collections"}
        if resource.firewall_policy_id:
            # Azure ignores classic rules on a policy-managed firewall; its policy is judged on its own.
            context["firewall_policy_id"] = resource.firewall_policy_id
        return context
    context = {"source": "DNAT rule collections", "rule_collection_groups": list(resource.rule_collection_group_ids)}
    if resource.base_policy_id:
        context["base_policy_id"] = resource.base_policy_id
    return context


def dnat_holders(inventory: Inventory) -> Iterator[AzureFirewall | FirewallPolicy]:
    """Every firewall (its classic DNAT rules) and every firewall policy (the DNAT rules of its groups)."""
    yield from inventory.azure_firewalls
    yield from inventory.firewall_policies


@check(
    id="firewall_rdp_dnat",
    title="Azure Firewall DNAT rules do not forward RDP from public addresses outside the whitelist",
    severity=Severity.CRITICAL,
    resource_types=("Microsoft.Network/azureFirewalls", "Microsoft.Network/firewallPolicies"),
    requires=FIREWALL_APIS,
    over=dnat_holders,
    subject="Azure Firewalls or firewall policies",
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
def firewall_rdp_dnat(resource: AzureFirewall | FirewallPolicy, params: Params) -> Verdict:
    """Judge the classic DNAT rules of a firewall, or the DNAT rules of a firewall policy."""
    rules = resource.nat_rules
    whitelisted = list(params.get_list("allowed_rdp_sources"))
    forwards = dnat_forwards(rules, RDP_PORT, rdp_whitelist(params))
    exposed = [f for f in forwards if f.exposed]
    unresolved = [f for f in forwards if not f.exposed and f.unresolved]
    evidence = {"rdp_dnat_rules": [f.evidence() for f in forwards], "whitelist": whitelisted, **dnat_context(resource)}
    if exposed:
        names = ", ".join(f"{f.rule.collection}/{f.rule.name}" for f in exposed)
        return failing(
            f"DNAT rule(s) {names} forward to RDP (3389) from public sources outside the whitelist",
            **evidence,
        )
    if unresolved:
        details = "; ".join(f"{f.rule.collection}/{f.rule.name}: {', '.join(f.unresolved)}" for f in unresolved)
        return erroring(
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
    return passing(message, dnat_rules_evaluated=len(rules), **evidence)

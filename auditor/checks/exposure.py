"""How Azure evaluates inbound NSG rules, as pure functions shared by the live and IaC front doors.

Rules are walked in priority order; the first rule that matches a packet decides it. For a port and
protocol, each rule's source set is removed from what is still undecided, so a higher-priority Deny
shadows a later Allow for exactly the sources it covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from auditor.checks.addresses import PUBLIC_ADDRESSES, AddressSet, source_addresses
from auditor.records.network import SecurityRule

# RDP, SSH and the database ports all run over TCP, and RDP also over UDP; "*" carries both.
PROTOCOLS = ("Tcp", "Udp")


@dataclass(frozen=True)
class Exposure:
    """An Allow rule that lets public, non-whitelisted sources reach a port over one protocol."""

    rule: SecurityRule
    protocol: str
    port: int
    reachable: AddressSet

    def evidence(self) -> dict[str, object]:
        """The rule fields and values that decided the verdict."""
        return {
            "rule": self.rule.name,
            "priority": self.rule.priority,
            "access": self.rule.access,
            "protocol": self.rule.protocol,
            "source_prefixes": list(self.rule.source_prefixes),
            "destination_ports": list(self.rule.destination_ports),
            "port": self.port,
            "over": self.protocol,
            "public_sources_example": self.reachable.describe(),
        }


def port_in(spec: str, port: int) -> bool:
    """True when a port spec (``*``, ``3389`` or ``3380-3390``) covers the port.

    A spec that cannot be parsed is taken to cover it: an unreadable rule is not proof of safety.
    """
    text = spec.strip()
    if text in {"*", ""}:
        return True
    low, _, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError:
        return True
    return first <= port <= last


def carries(rule: SecurityRule, protocol: str) -> bool:
    """True when the rule's protocol matches the given protocol (``*`` matches all)."""
    return rule.protocol.strip().lower() in {"*", "any", protocol.lower()}


def applies_to(rule: SecurityRule, port: int, protocol: str) -> bool:
    """True when an inbound rule matches traffic to the port over the protocol."""
    return (
        rule.direction.lower() == "inbound"
        and carries(rule, protocol)
        and any(port_in(spec, port) for spec in rule.destination_ports)
    )


def rule_sources(rule: SecurityRule) -> AddressSet:
    """Every address the rule's source prefixes match (application security groups match none public)."""
    result = AddressSet()
    for prefix in rule.source_prefixes:
        result = result.union(source_addresses(prefix))
    return result


def ordered_inbound(rules: Iterable[SecurityRule]) -> list[SecurityRule]:
    """Inbound rules by priority, lowest number first, as Azure evaluates them."""
    return sorted((r for r in rules if r.direction.lower() == "inbound"), key=lambda r: r.priority)


def exposures(
    rules: Sequence[SecurityRule], port: int, allowed: AddressSet, protocols: Sequence[str] = PROTOCOLS
) -> list[Exposure]:
    """Allow rules through which public sources outside ``allowed`` reach the port."""
    found: list[Exposure] = []
    ordered = ordered_inbound(rules)
    for protocol in protocols:
        undecided = PUBLIC_ADDRESSES.difference(allowed)
        for rule in ordered:
            if not undecided:
                break
            if not applies_to(rule, port, protocol):
                continue
            matched = rule_sources(rule)
            if rule.access.lower() == "allow":
                reachable = undecided.intersection(matched)
                if reachable:
                    found.append(Exposure(rule, protocol, port, reachable))
            undecided = undecided.difference(matched)
    return found


def reachable_through(
    rules: Sequence[SecurityRule], port: int, protocol: str, candidates: AddressSet
) -> tuple[AddressSet, list[SecurityRule]]:
    """Which of the candidate sources one NSG lets reach the port, and the Allow rules that let them."""
    undecided = candidates
    admitted = AddressSet()
    deciding: list[SecurityRule] = []
    for rule in ordered_inbound(rules):
        if not undecided:
            break
        if not applies_to(rule, port, protocol):
            continue
        matched = rule_sources(rule)
        if rule.access.lower() == "allow":
            newly = undecided.intersection(matched)
            if newly:
                admitted = admitted.union(newly)
                deciding.append(rule)
        undecided = undecided.difference(matched)
    return admitted, deciding

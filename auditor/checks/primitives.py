"""Rule primitives: address sets, NSG source prefixes, port ranges and how Azure evaluates inbound NSG rules.

Addresses are sets of sorted intervals: exact set arithmetic lets the exposure rules answer "is any public,
non-whitelisted address still able to get through?" without sampling addresses. Rules are walked in priority
order; the first rule that matches a packet decides it. For a port and protocol, each rule's source set is
removed from what is still undecided, so a higher-priority Deny shadows a later Allow for exactly the sources
it covers. Pure functions shared by the live and IaC front doors.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from auditor.records.network import SecurityRule

Interval = tuple[int, int, int]  # (IP version, first address, last address)
# Parsed prefixes and specs are kept: an estate repeats the same few prefixes, ports and whitelists across
# thousands of rules, and every judge asks for them again per port and protocol (immutable results only).
CACHE_SIZE = 8192

_V4_MAX = 2**32 - 1
_V6_MAX = 2**128 - 1

# Address space that is not reachable from the public internet: RFC 1918, shared address space
# (RFC 6598), loopback, link-local, "this network", multicast and reserved; IPv6 loopback, unique
# local, link-local, multicast and unspecified.
NON_PUBLIC_PREFIXES = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)

# Source keywords meaning "any address"; the Internet service tag means any public address.
ANY_SOURCE = frozenset({"*", "any", "0.0.0.0/0", "::/0", "0.0.0.0"})  # noqa: S104 - NSG keywords
INTERNET_TAG = "internet"


@dataclass(frozen=True)
class AddressSet:
    """An immutable set of IPv4 and IPv6 addresses.

    Its intervals are always normal: sorted, disjoint and never touching (``of`` makes them so). The
    intersection and difference of normal sets come out normal, so they skip ``of``: the exposure rules
    call them for every rule, port and protocol.
    """

    intervals: tuple[Interval, ...] = ()

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> AddressSet:
        """Normalise intervals: sorted, merged where they touch or overlap."""
        merged: list[Interval] = []
        for version, start, end in sorted(intervals):
            if merged and merged[-1][0] == version and start <= merged[-1][2] + 1:
                last = merged[-1]
                merged[-1] = (version, last[1], max(last[2], end))
            else:
                merged.append((version, start, end))
        return cls(tuple(merged))

    @classmethod
    def from_prefixes(cls, prefixes: Iterable[str]) -> AddressSet:
        """The addresses of CIDR prefixes or single addresses; raises ValueError on anything else."""
        intervals = []
        for prefix in prefixes:
            network = ipaddress.ip_network(prefix.strip(), strict=False)
            intervals.append((network.version, int(network.network_address), int(network.broadcast_address)))
        return cls.of(intervals)

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def union(self, other: AddressSet) -> AddressSet:
        """Addresses in either set."""
        return AddressSet.of(self.intervals + other.intervals)

    def intersection(self, other: AddressSet) -> AddressSet:
        """Addresses in both sets."""
        result: list[Interval] = []
        for version, start, end in self.intervals:
            for o_version, o_start, o_end in other.intervals:
                if version == o_version and start <= o_end and o_start <= end:
                    result.append((version, max(start, o_start), min(end, o_end)))
        # Pieces of disjoint, sorted intervals cut by disjoint, sorted intervals: in order and apart.
        return AddressSet(tuple(result))

    def difference(self, other: AddressSet) -> AddressSet:
        """Addresses in this set and not in the other."""
        pieces = list(self.intervals)
        for o_version, o_start, o_end in other.intervals:
            next_pieces: list[Interval] = []
            for version, start, end in pieces:
                if version != o_version or o_end < start or end < o_start:
                    next_pieces.append((version, start, end))
                    continue
                if start < o_start:
                    next_pieces.append((version, start, o_start - 1))
                if o_end < end:
                    next_pieces.append((version, o_end + 1, end))
            pieces = next_pieces
        # Cutting holes in normal intervals keeps them sorted and apart.
        return AddressSet(tuple(pieces))

    def describe(self, limit: int = 3) -> list[str]:
        """The first few intervals as CIDR blocks, for evidence."""
        blocks: list[str] = []
        for version, start, end in self.intervals:
            make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
            for net in ipaddress.summarize_address_range(make(start), make(end)):
                blocks.append(str(net))
                if len(blocks) >= limit:
                    return blocks
        return blocks


EVERY_ADDRESS = AddressSet(((4, 0, _V4_MAX), (6, 0, _V6_MAX)))
PUBLIC_ADDRESSES = EVERY_ADDRESS.difference(AddressSet.from_prefixes(NON_PUBLIC_PREFIXES))
NO_ADDRESS = AddressSet()


@lru_cache(maxsize=CACHE_SIZE)
def is_ip_prefix(text: str) -> bool:
    """True for a CIDR prefix or a single IPv4/IPv6 address."""
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=CACHE_SIZE)
def source_addresses(prefix: str) -> AddressSet:
    """The addresses an NSG source prefix matches.

    ``*``/``Any``/``0.0.0.0/0``/``::/0`` match every address and ``Internet`` every public one. Other
    service tags (VirtualNetwork, AzureLoadBalancer, GatewayManager...) name Azure-internal sources and
    match no public address.
    """
    lowered = prefix.strip().lower()
    if lowered in ANY_SOURCE:
        return EVERY_ADDRESS
    if lowered == INTERNET_TAG:
        return PUBLIC_ADDRESSES
    if is_ip_prefix(lowered):
        return AddressSet.from_prefixes([lowered])
    return NO_ADDRESS


def whitelist(prefixes: Iterable[str]) -> AddressSet:
    """The whitelisted public sources of a baseline parameter (already validated as CIDR)."""
    return _prefix_set(tuple(prefixes))


@lru_cache(maxsize=CACHE_SIZE)
def _prefix_set(prefixes: tuple[str, ...]) -> AddressSet:
    return AddressSet.from_prefixes(prefixes)


@lru_cache(maxsize=CACHE_SIZE)
@lru_cache(maxsize=CACHE_SIZE)
def public_outside(allowed: AddressSet) -> AddressSet:
    """The public addresses not in ``allowed``: the sources an exposure rule looks for."""
    return PUBLIC_ADDRESSES.difference(allowed)


@lru_cache(maxsize=CACHE_SIZE)
def every_address_outside(allowed: AddressSet) -> AddressSet:
    """Every address, public or private, not in ``allowed``."""
    return EVERY_ADDRESS.difference(allowed)


# --- ports -------------------------------------------------------------------------------------------

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


# --- inbound NSG evaluation ----------------------------------------------------------------------
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
    span = _port_span(spec)
    return span is None or span[0] <= port <= span[1]


@lru_cache(maxsize=CACHE_SIZE)
def _port_span(spec: str) -> tuple[int, int] | None:
    """First and last port of a spec as port_in reads it; None for ``*``, empty or unparsable (every port)."""
    text = spec.strip()
    if text in {"*", ""}:
        return None
    low, _, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError:
        return None
    return first, last


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
    return _sources_of(rule.source_prefixes)


@lru_cache(maxsize=CACHE_SIZE)
def _sources_of(prefixes: tuple[str, ...]) -> AddressSet:
    result = AddressSet()
    for prefix in prefixes:
        result = result.union(source_addresses(prefix))
    return result


@lru_cache(maxsize=CACHE_SIZE)
def admits_any(prefixes: tuple[str, ...], sources: AddressSet) -> bool:
    """True when source prefixes match at least one of ``sources``."""
    return bool(sources.intersection(_sources_of(prefixes)))


def ordered_inbound(rules: Iterable[SecurityRule]) -> list[SecurityRule]:
    """Inbound rules by priority, lowest number first, as Azure evaluates them."""
    return sorted((r for r in rules if r.direction.lower() == "inbound"), key=lambda r: r.priority)


def exposures(
    rules: Sequence[SecurityRule], port: int, allowed: AddressSet, protocols: Sequence[str] = PROTOCOLS
) -> list[Exposure]:
    """Allow rules through which public sources outside ``allowed`` reach the port."""
    found: list[Exposure] = []
    # Inbound rules that match the port, in priority order; then per protocol those that carry it.
    ordered = [r for r in ordered_inbound(rules) if any(port_in(spec, port) for spec in r.destination_ports)]
    outside = public_outside(allowed)
    if not any(r.access.lower() == "allow" and admits_any(r.source_prefixes, outside) for r in ordered):
        # No Allow rule matches a source outside the allowed ones at all, so none can expose the port
        # whatever the rules before it decide: the walk below would find nothing.
        return found
    for protocol in protocols:
        undecided = outside
        for rule in ordered:
            if not undecided:
                break
            if not carries(rule, protocol):
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


# --- firewall rule sources --------------------------------------------------------------------------


def firewall_source_addresses(entry: str) -> AddressSet | None:
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


# --- the rules Azure adds to every NSG ----------------------------------------------------------------

# Every NSG carries these default rules below the custom ones (Microsoft Learn, "Network security groups:
# default security rules"); code never declares them, so records built from code add them as Azure does.
AZURE_DEFAULT_RULES = (
    SecurityRule("AllowVnetInBound", 65000, "Inbound", "Allow", "*", ("VirtualNetwork",), ("*",), is_default=True),
    SecurityRule(
        "AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "*", ("AzureLoadBalancer",), ("*",), is_default=True
    ),
    SecurityRule("DenyAllInBound", 65500, "Inbound", "Deny", "*", ("*",), ("*",), is_default=True),
    SecurityRule(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "*",
        ("VirtualNetwork",),
        ("*",),
        destination_prefixes=("VirtualNetwork",),
        is_default=True,
    ),
    SecurityRule(
        "AllowInternetOutBound",
        65001,
        "Outbound",
        "Allow",
        "*",
        ("*",),
        ("*",),
        destination_prefixes=("Internet",),
        is_default=True,
    ),
    SecurityRule(
        "DenyAllOutBound", 65500, "Outbound", "Deny", "*", ("*",), ("*",), destination_prefixes=("*",), is_default=True
    ),
)

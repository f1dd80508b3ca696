"""Sets of IP addresses as sorted intervals, and the meaning of NSG source prefixes as such sets.

Exact set arithmetic lets the exposure rules answer "is any public, non-whitelisted address still
able to get through?" without sampling addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Interval = tuple[int, int, int]  # (IP version, first address, last address)

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
    """An immutable set of IPv4 and IPv6 addresses."""

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
        return AddressSet.of(result)

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
        return AddressSet.of(pieces)

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


def is_ip_prefix(text: str) -> bool:
    """True for a CIDR prefix or a single IPv4/IPv6 address."""
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True


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
    return AddressSet.from_prefixes(prefixes)

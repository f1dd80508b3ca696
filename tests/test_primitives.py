"""The rule primitives on their own: address sets, NSG source prefixes, port specs, inbound NSG evaluation."""

from __future__ import annotations

import pytest

from auditor.checks.primitives import (
    AZURE_DEFAULT_RULES,
    EVERY_ADDRESS,
    NO_ADDRESS,
    PUBLIC_ADDRESSES,
    AddressSet,
    applies_to,
    exposures,
    firewall_source_addresses,
    is_ip_prefix,
    ordered_inbound,
    port_bounds,
    port_exposures,
    port_in,
    public_outside,
    reachable_through,
    representative_ports,
    rule_sources,
    source_addresses,
    whitelist,
)
from tests.builders import make_rule


def addresses(*prefixes: str) -> AddressSet:
    return AddressSet.from_prefixes(prefixes)


# --- address sets ---------------------------------------------------------------------------------------


def test_intervals_merge_where_they_touch_or_overlap() -> None:
    assert addresses("10.0.0.0/25", "10.0.0.128/25") == addresses("10.0.0.0/24")
    assert addresses("10.0.0.0/24", "10.0.0.0/25").intervals == ((4, 0x0A000000, 0x0A0000FF),)
    assert addresses("10.0.0.0/24", "10.0.2.0/24").describe() == ["10.0.0.0/24", "10.0.2.0/24"]


def test_set_arithmetic_is_exact() -> None:
    wide, narrow = addresses("198.51.100.0/24"), addresses("198.51.100.128/25")
    assert wide.difference(narrow) == addresses("198.51.100.0/25")
    assert wide.intersection(narrow) == narrow
    assert narrow.union(wide) == wide
    assert not narrow.difference(wide)
    assert not addresses("10.0.0.0/8").intersection(addresses("192.168.0.0/16"))


def test_ipv4_and_ipv6_never_mix() -> None:
    v4, v6 = addresses("0.0.0.0/0"), addresses("::/0")
    assert not v4.intersection(v6)
    assert v4.union(v6) == EVERY_ADDRESS
    assert EVERY_ADDRESS.difference(v4) == v6


def test_a_host_address_is_a_one_address_set() -> None:
    assert addresses("198.51.100.7").describe() == ["198.51.100.7/32"]
    assert addresses("198.51.100.7/24").describe() == ["198.51.100.0/24"]  # host bits are ignored


def test_describe_stops_at_the_limit() -> None:
    assert PUBLIC_ADDRESSES.describe() == ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6"]
    assert len(PUBLIC_ADDRESSES.describe(limit=5)) == 5
    assert NO_ADDRESS.describe() == []


@pytest.mark.parametrize("private", ["10.1.2.3", "172.16.201.9", "192.168.1.1", "100.64.0.1", "127.0.0.1", "fd00::1"])
def test_private_and_special_addresses_are_not_public(private: str) -> None:
    assert not PUBLIC_ADDRESSES.intersection(addresses(private))


@pytest.mark.parametrize("public", ["1.1.1.1", "203.0.113.7", "172.32.0.1", "2001:db8::1"])
def test_other_addresses_are_public(public: str) -> None:
    assert PUBLIC_ADDRESSES.intersection(addresses(public)) == addresses(public)


def test_from_prefixes_rejects_what_is_not_a_prefix() -> None:
    with pytest.raises(ValueError, match="corp"):
        addresses("corp")
    assert is_ip_prefix(" 10.0.0.0/8 ") and is_ip_prefix("::1") and not is_ip_prefix("VirtualNetwork")


# --- NSG and firewall sources ---------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["*", "Any", "any", "0.0.0.0/0", "::/0", "0.0.0.0"])  # noqa: S104 - NSG keywords
def test_any_source_keywords_match_every_address(keyword: str) -> None:
    assert source_addresses(keyword) == EVERY_ADDRESS


def test_internet_tag_matches_the_public_addresses_only() -> None:
    assert source_addresses("Internet") == PUBLIC_ADDRESSES
    assert source_addresses(" internet ") == PUBLIC_ADDRESSES


@pytest.mark.parametrize("tag", ["VirtualNetwork", "AzureLoadBalancer", "GatewayManager", "Storage.EastUS"])
def test_other_service_tags_match_no_public_address(tag: str) -> None:
    assert source_addresses(tag) == NO_ADDRESS


def test_rule_sources_are_the_union_of_its_prefixes() -> None:
    rule = make_rule(sources=("10.0.0.0/8", "198.51.100.7", "VirtualNetwork"))
    assert rule_sources(rule) == addresses("10.0.0.0/8", "198.51.100.7")


def test_whitelist_is_the_parameter_prefixes() -> None:
    assert whitelist(("203.0.113.0/24", "192.0.2.0/24")) == addresses("192.0.2.0/24", "203.0.113.0/24")
    assert whitelist(()) == NO_ADDRESS


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("*", EVERY_ADDRESS),
        ("Internet", PUBLIC_ADDRESSES),
        ("198.51.100.0/24", addresses("198.51.100.0/24")),
        ("198.51.100.1-198.51.100.2", addresses("198.51.100.1", "198.51.100.2")),
        ("corp-network", None),
        ("198.51.100.9-198.51.100.1", None),
        ("198.51.100.1-2001:db8::1", None),
    ],
)
def test_firewall_sources_add_address_ranges(entry: str, expected: AddressSet | None) -> None:
    assert firewall_source_addresses(entry) == expected


# --- ports ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("*", (0, 65535)),
        ("", (0, 65535)),
        ("22", (22, 22)),
        (" 5985-5986 ", (5985, 5986)),
        ("ssh", None),
        ("10-5", None),
        ("70000", None),
        ("-1", None),
    ],
)
def test_port_bounds(spec: str, expected: tuple[int, int] | None) -> None:
    assert port_bounds(spec) == expected


@pytest.mark.parametrize(
    ("spec", "covers"),
    [("*", True), ("3389", True), ("3380-3390", True), ("3390-4000", False), ("22", False), ("rdp", True)],
)
def test_port_in_takes_an_unreadable_spec_as_covering(spec: str, covers: bool) -> None:
    assert port_in(spec, 3389) is covers


def test_representative_ports_cut_where_rules_change() -> None:
    rules = [make_rule(ports=("5985",)), make_rule(ports=("5000-5986",))]
    assert representative_ports(5985, 5990, rules) == [5985, 5986, 5987]
    assert representative_ports(22, 22, rules) == [22]


# --- inbound NSG evaluation in priority order -----------------------------------------------------------


def test_inbound_rules_are_walked_by_priority() -> None:
    late, early = make_rule("late", priority=300), make_rule("early", priority=100)
    outbound = make_rule("out", direction="Outbound")
    assert [r.name for r in ordered_inbound([late, outbound, early])] == ["early", "late"]


def test_applies_to_matches_direction_protocol_and_port() -> None:
    assert applies_to(make_rule(protocol="*"), 3389, "Udp")
    assert not applies_to(make_rule(protocol="Tcp"), 3389, "Udp")
    assert not applies_to(make_rule(direction="Outbound"), 3389, "Tcp")
    assert not applies_to(make_rule(ports=("22",)), 3389, "Tcp")


def test_a_higher_priority_deny_shadows_exactly_the_sources_it_covers() -> None:
    rules = [
        make_rule("deny", priority=100, access="Deny", sources=("198.51.100.0/25",)),
        make_rule("allow", priority=200, sources=("198.51.100.0/24",)),
    ]
    (found,) = exposures(rules, 3389, NO_ADDRESS, protocols=("Tcp",))
    assert found.rule.name == "allow"
    assert found.reachable == addresses("198.51.100.128/25")
    assert found.evidence()["public_sources_example"] == ["198.51.100.128/25"]


def test_the_whitelist_is_taken_out_before_the_rules() -> None:
    rules = [make_rule(sources=("203.0.113.0/24",))]
    assert exposures(rules, 3389, addresses("203.0.113.0/24")) == []
    assert [e.protocol for e in exposures(rules, 3389, NO_ADDRESS)] == ["Tcp"]


def test_default_rules_admit_no_public_source() -> None:
    assert exposures(AZURE_DEFAULT_RULES, 3389, NO_ADDRESS) == []
    assert {r.name for r in AZURE_DEFAULT_RULES if r.direction == "Inbound"} == {
        "AllowVnetInBound",
        "AllowAzureLoadBalancerInBound",
        "DenyAllInBound",
    }
    assert all(r.is_default for r in AZURE_DEFAULT_RULES)


def test_reachable_through_narrows_the_candidates_layer_by_layer() -> None:
    first = [make_rule("subnet-allow", sources=("198.51.100.0/24",))]
    second = [make_rule("nic-allow", sources=("198.51.100.128/25",))]
    through, deciding = reachable_through(first, 3389, "Tcp", PUBLIC_ADDRESSES)
    assert through == addresses("198.51.100.0/24") and [r.name for r in deciding] == ["subnet-allow"]
    through, deciding = reachable_through(second, 3389, "Tcp", through)
    assert through == addresses("198.51.100.128/25") and [r.name for r in deciding] == ["nic-allow"]
    assert reachable_through(second, 3389, "Tcp", addresses("198.51.100.0/25")) == (NO_ADDRESS, [])


def test_port_exposures_judge_every_port_of_a_range() -> None:
    rules = [
        make_rule("deny-5985", priority=100, access="Deny", protocol="*", sources=("*",), ports=("5985",)),
        make_rule("allow-winrm", priority=200, sources=("Internet",), ports=("5985-5986",)),
    ]
    assert [e.port for e in port_exposures(rules, "5985-5986", NO_ADDRESS)] == [5986]
    assert port_exposures(rules, "5985", NO_ADDRESS) == []
    with pytest.raises(ValueError, match="'winrm' is not a port"):
        port_exposures(rules, "winrm", NO_ADDRESS)


def test_parsed_prefixes_are_kept_and_give_the_same_sets() -> None:
    first = source_addresses("198.51.100.0/24")
    assert source_addresses("198.51.100.0/24") is first
    assert rule_sources(make_rule(sources=("198.51.100.0/24",))) == first
    assert public_outside(whitelist(("203.0.113.0/24",))) == PUBLIC_ADDRESSES.difference(addresses("203.0.113.0/24"))
    assert public_outside(NO_ADDRESS) == PUBLIC_ADDRESSES

"""NET-02: a VPN path into every server VNet, point-to-site authentication, remote administration via the VPN."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.vpn import (
    NsgAdminSources,
    VpnEstate,
    remote_admin_sources_via_vpn,
    vpn_p2s_authentication,
    vpn_path_to_servers,
)
from auditor.model import CheckResult, Status
from auditor.parameters import Params
from auditor.records.network import SecurityRule
from tests.builders import make_rule, rid
from tests.network_estates import (
    APPLIANCE_NIC,
    APPLIANCE_VM,
    FGT,
    PARAMS,
    POOL,
    SPOKE_SERVERS,
    gateway,
    hub,
    nic,
    nsg,
    only,
    peering,
    run,
    spoke_estate,
    vm,
    vnet_id,
)

# --- NET-02: a VPN path into every server VNet ----------------------------------------------------------


@pytest.mark.parametrize(
    ("estate", "expected", "words"),
    [
        (spoke_estate(), Status.PASS, "vgw in peered hub hub"),
        (spoke_estate(gateways=(), appliance=True), Status.PASS, "VPN appliance fgt in peered VNet hub"),
        (spoke_estate(spoke_peerings=(), gateways=(gateway(vnet="spoke"),)), Status.PASS, "in this VNet"),
        (spoke_estate(gateways=()), Status.FAIL, "No VPN gateway"),
        (spoke_estate(spoke_peerings=(peering("hub", use_remote=False),)), Status.FAIL, "does not use remote"),
        (spoke_estate(spoke_peerings=(peering("hub", state="Disconnected"),)), Status.FAIL, "is Disconnected"),
        (spoke_estate(gateways=(gateway(gateway_type="ExpressRoute"),)), Status.FAIL, "No VPN gateway"),
        (spoke_estate(gateways=(gateway(provisioning_state="Failed"),)), Status.FAIL, "in state Failed"),
        (spoke_estate(gateways=(gateway(gateway_type=None),)), Status.ERROR, "no gateway type"),
        (spoke_estate(gateways=(), hub_collected=False), Status.ERROR, "was not collected"),
        (spoke_estate(spoke_peerings=(peering("hub", use_remote=None),)), Status.ERROR, "useRemoteGateways"),
    ],
    ids=[
        "hub gateway used through the peering",
        "appliance in the peered hub",
        "gateway in the VNet",
        "no gateway",
        "peering does not use remote gateways",
        "peering disconnected",
        "ExpressRoute gateway only",
        "gateway failed to provision",
        "gateway type unknown",
        "peered hub not collected",
        "peering without useRemoteGateways",
    ],
)
def test_vpn_path_to_server_vnet(estate: dict[str, Any], expected: Status, words: str) -> None:
    result = only(vpn_path_to_servers, **estate)
    assert result.status is expected
    assert result.resource_id == vnet_id("spoke")
    assert words in result.message
    assert result.evidence["servers"] == ["web"]


def test_appliance_publisher_comes_from_the_parameter() -> None:
    estate = spoke_estate(gateways=(), appliance=True)
    assert only(vpn_path_to_servers, **estate).status is Status.PASS
    other = Params(dict(PARAMS.values) | {"allowed_vpn_publishers": ("paloaltonetworks",)})
    results = run(vpn_path_to_servers, other, **estate)
    # The Fortinet VM now counts as a server in the hub, and neither VNet has a VPN path.
    assert {(r.resource_id, r.status) for r in results} == {
        (vnet_id("spoke"), Status.FAIL),
        (vnet_id("hub"), Status.FAIL),
    }


def test_vnets_without_servers_are_not_judged() -> None:
    estate = spoke_estate(network_interfaces=[nic("pe", SPOKE_SERVERS, vm=None)], virtual_machines=[])
    assert run(vpn_path_to_servers, **estate) == []


@pytest.mark.parametrize(
    ("records", "words"),
    [
        ({"virtual_machines": [vm("web", nics=(rid("Microsoft.Network/networkInterfaces", "gone"),))]}, "gone"),
        ({"virtual_networks": [hub()]}, "subnets/servers"),
    ],
    ids=["VM NIC not collected", "NIC subnet not collected"],
)
def test_unfollowable_vm_references_are_errors(records: dict[str, Any], words: str) -> None:
    estate = spoke_estate(**records)
    errors = [r for r in run(vpn_path_to_servers, **estate) if r.status is Status.ERROR]
    assert len(errors) == 1
    assert words in errors[0].message
    assert "not collected" in errors[0].message


# --- NET-02: point-to-site authentication ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, Status.PASS),
        ({"p2s_auth_types": ("Certificate",), "p2s_root_certificates": 1}, Status.PASS),
        ({"p2s_auth_types": ("AAD", "Radius")}, Status.PASS),
        ({"p2s_auth_types": (), "p2s_root_certificates": 2}, Status.PASS),
        (
            {"p2s_address_pools": (), "p2s_auth_types": (), "p2s_protocols": ()},
            Status.PASS,
        ),
        ({"p2s_auth_types": ("Radius",), "radius_server": "10.0.9.9"}, Status.FAIL),
        ({"p2s_auth_types": (), "radius_server": "10.0.9.9"}, Status.FAIL),
        ({"p2s_auth_types": ()}, Status.FAIL),
        ({"gateway_type": None}, Status.ERROR),
    ],
    ids=[
        "Entra ID",
        "certificate",
        "Entra ID and RADIUS",
        "certificate inferred from root certificates",
        "site-to-site only",
        "RADIUS only",
        "RADIUS inferred",
        "pool without authentication",
        "gateway type unknown",
    ],
)
def test_point_to_site_authentication(fields: dict[str, Any], expected: Status) -> None:
    result = only(vpn_p2s_authentication, virtual_network_gateways=[gateway(**fields)])
    assert result.status is expected
    if expected is Status.FAIL:
        assert "not Entra ID" in result.message or "no authentication type" in result.message


def test_point_to_site_evidence_and_scope() -> None:
    results = run(
        vpn_p2s_authentication,
        virtual_network_gateways=[
            gateway(p2s_auth_types=(), p2s_root_certificates=2),
            gateway("er", gateway_type="ExpressRoute"),
        ],
    )
    (result,) = results
    assert result.evidence["p2s_auth_types"] == ["Certificate"]
    assert result.evidence["auth_types_inferred"] is True
    assert result.evidence["p2s_address_pools"] == [POOL]


# --- NET-02: remote administration only from VPN sources ------------------------------------------------

ADMIN_FAILING = {
    "RDP from Internet": (make_rule(sources=("Internet",)),),
    "SSH from star": (make_rule(sources=("*",), ports=("22",)),),
    "private range outside the pool": (make_rule(sources=("10.0.0.0/8",)),),
    "pool plus another private range": (make_rule(sources=(POOL, "10.1.0.0/16"), ports=("22",)),),
    "VirtualNetwork tag": (make_rule(protocol="*", sources=("VirtualNetwork",), ports=("*",)),),
    "application security group": (
        SecurityRule("asg", 100, "Inbound", "Allow", "Tcp", (), ("3389",), source_asg_ids=("/asg/admins",)),
    ),
    "public prefix not whitelisted": (make_rule(sources=("198.51.100.0/24",), ports=("3380-3390",)),),
    "deny of Internet does not shadow a tag": (
        make_rule("deny", priority=100, access="Deny", protocol="*", sources=("Internet",)),
        make_rule("allow-vnet", priority=200, sources=("VirtualNetwork",)),
    ),
    "RDP over UDP": (make_rule(protocol="Udp", sources=("Internet",)),),
}

ADMIN_PASSING = {
    "no custom rules (defaults are not judged)": (),
    "VPN client pool": (make_rule(sources=(POOL,)),),
    "address in the pool": (make_rule(sources=("172.16.201.10",), ports=("22",)),),
    "gateway subnet": (make_rule(sources=("10.0.0.0/27",)),),
    "whitelisted public prefix": (make_rule(sources=("203.0.113.0/24",)),),
    "VPN appliance address": (make_rule(sources=("10.0.4.4",)),),
    "shadowed by a higher-priority deny": (
        make_rule("deny", priority=200, access="Deny", protocol="*", sources=("Internet",)),
        make_rule("legacy", priority=300, sources=("Internet",)),
    ),
    "deny star shadows a tag": (
        make_rule("deny", priority=100, access="Deny", protocol="*", sources=("*",)),
        make_rule("allow-vnet", priority=200, sources=("VirtualNetwork",)),
    ),
    "other ports from anywhere": (make_rule(sources=("*",), ports=("443",)),),
    "deny only": (make_rule(access="Deny", sources=("*",)),),
}


def admin_result(*rules: SecurityRule, params: Params = PARAMS, **records: Any) -> CheckResult:
    """The verdict on one NSG, with the hub gateway and the Fortinet appliance in the estate."""
    estate: dict[str, Any] = {
        "virtual_networks": [hub(FGT)],
        "network_interfaces": [APPLIANCE_NIC],
        "virtual_machines": [APPLIANCE_VM],
        "virtual_network_gateways": [gateway()],
    } | records
    return only(remote_admin_sources_via_vpn, params, network_security_groups=[nsg("nsg", *rules)], **estate)


@pytest.mark.parametrize("rules", ADMIN_FAILING.values(), ids=ADMIN_FAILING.keys())
def test_remote_admin_from_outside_the_vpn_fails(rules: tuple[SecurityRule, ...]) -> None:
    result = admin_result(*rules)
    assert result.status is Status.FAIL
    assert result.evidence["violations"]


@pytest.mark.parametrize("rules", ADMIN_PASSING.values(), ids=ADMIN_PASSING.keys())
def test_remote_admin_from_vpn_sources_passes(rules: tuple[SecurityRule, ...]) -> None:
    assert admin_result(*rules).status is Status.PASS


def test_vpn_sources_come_from_vpn_gateways_only() -> None:
    rule = make_rule(sources=(POOL,))
    express = gateway(gateway_type="ExpressRoute")
    assert admin_result(rule, virtual_network_gateways=[express]).status is Status.FAIL
    assert admin_result(rule, virtual_network_gateways=[]).status is Status.FAIL


def test_remote_admin_evidence_names_rule_port_and_pools() -> None:
    result = admin_result(make_rule("partner", priority=120, sources=("198.51.100.0/24", "10.1.0.0/16"), ports=("22",)))
    (violation,) = result.evidence["violations"]
    assert (violation["rule"], violation["priority"], violation["port"]) == ("partner", 120, 22)
    assert "198.51.100.0/24" in violation["sources_outside_vpn_example"]
    assert result.evidence["vpn_sources"]["vpn_client_pools"] == [POOL]
    assert result.evidence["vpn_sources"]["gateway_subnets"] == ["10.0.0.0/27"]
    assert result.evidence["vpn_sources"]["vpn_appliance_addresses"] == ["10.0.4.4"]
    assert "partner (22)" in result.message


# --- records judged directly ----------------------------------------------------------------------------


def test_gateways_are_judged_one_record_at_a_time() -> None:
    strong = vpn_p2s_authentication(gateway(), PARAMS)
    assert strong is not None and strong.status is Status.PASS
    radius = vpn_p2s_authentication(gateway(p2s_auth_types=("Radius",), radius_server="10.0.9.9"), PARAMS)
    assert radius is not None and radius.status is Status.FAIL
    assert vpn_p2s_authentication(gateway(gateway_type="ExpressRoute"), PARAMS) is None


def test_an_nsg_without_its_estate_knows_only_the_whitelist() -> None:
    def verdict(*rules: SecurityRule) -> Status:
        return remote_admin_sources_via_vpn(NsgAdminSources(nsg("nsg", *rules), None), PARAMS).status

    assert verdict(make_rule(sources=("203.0.113.0/24",))) is Status.PASS
    assert verdict(make_rule(sources=("Internet",))) is Status.FAIL
    assert verdict(make_rule(sources=("VirtualNetwork",))) is Status.FAIL
    # The VPN client pool lives on the gateway: a private source may be it, or not.
    assert verdict(make_rule(sources=(POOL,))) is Status.ERROR
    estate = VpnEstate((gateway(),), (hub(),), ())
    with_pool = remote_admin_sources_via_vpn(NsgAdminSources(nsg("nsg", make_rule(sources=(POOL,))), estate), PARAMS)
    assert with_pool.status is Status.PASS

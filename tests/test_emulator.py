"""The local ARM and Graph endpoint: REST shapes, paging, faults, estate validation and its command line."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from azure.mgmt.network import NetworkManagementClient

from auditor.collect.credentials import StaticTokenCredential
from auditor.emulator import (
    Emulator,
    Estate,
    EstateError,
    Fault,
    FaultError,
    arguments,
    cli,
    demo_estate_path,
    load_estate,
    parse_fault,
)
from auditor.options import EmulatorOptions

SUB = "00000000-0000-0000-0000-00000000000a"
OTHER_SUB = "00000000-0000-0000-0000-00000000000b"
SOURCE = "test-estate.json"
GRAPH_USERS = "/reports/authenticationMethods/userRegistrationDetails"

# --- estate builders ---------------------------------------------------------------------------------


def arm_id(group: str, provider_type: str, name: str, subscription: str = SUB) -> str:
    """Id of a top-level resource, e.g. arm_id("rg", "Microsoft.Network/networkSecurityGroups", "n")."""
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{provider_type}/{name}"


def resource(resource_id: str, **fields: Any) -> dict[str, Any]:
    """An ARM object named after the last segment of its id, in westeurope unless told otherwise."""
    segments = resource_id.strip("/").split("/")
    body: dict[str, Any] = {"id": resource_id, "name": segments[-1], "location": "westeurope"}
    return body | fields


def nsg(name: str, group: str = "rg-net", rule_ports: tuple[str, ...] = (), subscription: str = SUB) -> dict[str, Any]:
    """An NSG embedding one inbound rule per port, and one default rule."""
    nsg_id = arm_id(group, "Microsoft.Network/networkSecurityGroups", name, subscription)
    rules = [
        {"id": f"{nsg_id}/securityRules/allow-{port}", "name": f"allow-{port}", "properties": {"access": "Allow"}}
        for port in rule_ports
    ]
    defaults = [{"id": f"{nsg_id}/defaultSecurityRules/DenyAllInBound", "name": "DenyAllInBound"}]
    nic_reference = {"id": arm_id(group, "Microsoft.Network/networkInterfaces", "nic1", subscription)}
    return resource(
        nsg_id,
        type="Microsoft.Network/networkSecurityGroups",
        properties={"securityRules": rules, "defaultSecurityRules": defaults, "networkInterfaces": [nic_reference]},
    )


def make_estate(*resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An estate dict with two subscriptions, the given resources and any other top-level keys."""
    data: dict[str, Any] = {
        "subscriptions": [
            {"subscriptionId": SUB, "displayName": "Production", "state": "Enabled", "tenantId": "t-1"},
            {"subscriptionId": OTHER_SUB, "displayName": "Sandbox", "state": "Enabled"},
        ],
        "resources": list(resources),
        "graph": {},
    }
    return data | extra


VNET_ID = arm_id("rg-net", "Microsoft.Network/virtualNetworks", "vnet1")
VM_ID = arm_id("rg-app", "Microsoft.Compute/virtualMachines", "vm1")
KV_ID = arm_id("rg-app", "Microsoft.KeyVault/vaults", "kv1")
VAULT_ID = arm_id("rg-backup", "Microsoft.RecoveryServices/vaults", "rsv1")
CONTAINER = f"{VAULT_ID}/backupFabrics/Azure/protectionContainers/iaasvmcontainer;vm1"
FLOW_LOG_ID = arm_id("rg-net", "Microsoft.Network/networkWatchers", "тц1") + "/flowLogs/flowLog1"


def rich_estate() -> dict[str, Any]:
    """One of each shape the emulator must serve."""
    return make_estate(
        nsg("nsg-web", rule_ports=("22", "3389")),
        nsg("nsg-empty"),
        nsg("nsg-app", group="rg-app", rule_ports=("443",)),
        nsg("nsg-sandbox", rule_ports=("80",), subscription=OTHER_SUB),
        resource(
            VNET_ID,
            type="Microsoft.Network/virtualNetworks",
            properties={"subnets": [{"id": f"{VNET_ID}/subnets/{name}", "name": name} for name in ("a", "b")]},
        ),
        resource(
            VM_ID,
            type="Microsoft.Compute/virtualMachines",
            properties={"storageProfile": {"osDisk": {"name": "os"}}},
            resources=[{"id": f"{VM_ID}/extensions/CustomScriptExtension", "name": "CustomScriptExtension"}],
        ),
        resource(KV_ID, type="Microsoft.KeyVault/vaults"),
        resource(f"{KV_ID}/keys/key1", type="Microsoft.KeyVault/vaults/keys"),
        resource(f"{KV_ID}/keys/key2", type="Microsoft.KeyVault/vaults/keys"),
        resource(f"{KV_ID}/providers/Microsoft.Insights/diagnosticSettings/to-law"),
        resource(VAULT_ID, type="Microsoft.RecoveryServices/vaults"),
        resource(f"{CONTAINER}/protectedItems/vm;vm1", properties={"protectionState": "Protected"}),
        resource(f"{VAULT_ID}/backupPolicies/DefaultPolicy"),
        resource(f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/VirtualMachines"),
        resource(f"/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts/default"),
        resource(f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/ra1"),
        resource("/providers/Microsoft.Authorization/roleDefinitions/owner-guid"),
        resource(FLOW_LOG_ID, properties={"enabled": True}),
        resourceGroups=[
            {"id": f"/subscriptions/{SUB}/resourceGroups/rg-backup", "name": "rg-backup", "location": "uksouth"}
        ],
    )


# --- client side ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP response, read in full."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    @property
    def error_code(self) -> str:
        """``error.code`` of an ARM or Graph error body."""
        code: str = self.json()["error"]["code"]
        return code


def connect(emulator: Emulator) -> http.client.HTTPSConnection:
    """A keep-alive connection that trusts the emulator's CA and nothing else."""
    context = ssl.create_default_context(cafile=str(emulator.ca_file))
    return http.client.HTTPSConnection("127.0.0.1", emulator.port, context=context, timeout=5)


def send(
    connection: http.client.HTTPSConnection,
    path: str,
    *,
    method: str = "GET",
    bearer: str | None = "emulator-token",
    body: bytes | None = None,
) -> Answer:
    """One request on an open connection."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())


def call(emulator: Emulator, path: str, **options: Any) -> Answer:
    """One request on a fresh connection."""
    connection = connect(emulator)
    try:
        return send(connection, path, **options)
    finally:
        connection.close()


def values(emulator: Emulator, path: str) -> list[dict[str, Any]]:
    """Every item of a list, following ARM's relative nextLinks on one connection."""
    connection = connect(emulator)
    items: list[dict[str, Any]] = []
    next_path: str | None = path
    try:
        while next_path is not None:
            answer = send(connection, next_path)
            assert answer.status == 200, answer.body
            page = answer.json()
            items += page["value"]
            next_path = page.get("nextLink")
            assert next_path is None or next_path.startswith("/"), "ARM nextLinks are relative here"
    finally:
        connection.close()
    return items


def names(items: list[dict[str, Any]]) -> list[str]:
    """The ``name`` of each item."""
    return [item["name"] for item in items]


@pytest.fixture
def serve() -> Iterator[Callable[..., Emulator]]:
    """Start emulators over estate dicts; each one is stopped after the test."""
    started: list[Emulator] = []

    def start(data: dict[str, Any], **options: Any) -> Emulator:
        emulator = Emulator(Estate.from_dict(data, SOURCE), **options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def rich(serve: Callable[..., Emulator]) -> Emulator:
    """An emulator serving rich_estate()."""
    return serve(rich_estate())


# --- authentication and the basic shapes ---------------------------------------------------------------


def test_every_request_needs_the_bearer_token(rich: Emulator) -> None:
    for bearer in (None, "wrong-token"):
        answer = call(rich, "/subscriptions", bearer=bearer)
        assert answer.status == 401
        assert answer.error_code == "AuthenticationFailed"
    assert call(rich, "/subscriptions").status == 200
    assert call(rich, f"/v1.0{GRAPH_USERS}", bearer=None).error_code == "InvalidAuthenticationToken"


def test_subscriptions_are_listed_and_fetched(rich: Emulator) -> None:
    listed = values(rich, "/subscriptions?api-version=2022-12-01")
    assert [item["subscriptionId"] for item in listed] == [SUB, OTHER_SUB]
    assert listed[0] == {
        "id": f"/subscriptions/{SUB}",
        "subscriptionId": SUB,
        "displayName": "Production",
        "state": "Enabled",
        "tenantId": "t-1",
    }
    assert call(rich, f"/subscriptions/{OTHER_SUB.upper()}").json()["displayName"] == "Sandbox"


def test_resource_groups_are_derived_from_ids(rich: Emulator) -> None:
    groups = values(rich, f"/subscriptions/{SUB}/resourcegroups")
    assert names(groups) == ["rg-backup", "rg-net", "rg-app"]
    assert groups[1] == {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg-net",
        "name": "rg-net",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "properties": {"provisioningState": "Succeeded"},
    }
    assert groups[0]["location"] == "uksouth", "a given group's location wins"
    assert call(rich, f"/subscriptions/{SUB}/resourceGroups/RG-APP").json()["name"] == "rg-app"


def test_unknown_subscription_and_group_are_arm_404s(rich: Emulator) -> None:
    unknown_subscription = call(rich, "/subscriptions/ffffffff/resourceGroups")
    assert (unknown_subscription.status, unknown_subscription.error_code) == (404, "SubscriptionNotFound")
    for path in (
        f"/subscriptions/{SUB}/resourceGroups/nope",
        f"/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.Network/networkSecurityGroups",
    ):
        answer = call(rich, path)
        assert (answer.status, answer.error_code) == (404, "ResourceGroupNotFound")


def test_type_lists_at_subscription_and_group_scope(rich: Emulator) -> None:
    subscription_wide = values(rich, f"/subscriptions/{SUB}/providers/microsoft.network/NETWORKSECURITYGROUPS")
    assert names(subscription_wide) == ["nsg-web", "nsg-empty", "nsg-app"]
    in_group = values(
        rich, f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/networkSecurityGroups"
    )
    assert names(in_group) == ["nsg-app"]
    assert values(rich, f"/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts") == []
    generic = values(rich, f"/subscriptions/{SUB}/resources")
    assert {item["id"] for item in generic} >= {VNET_ID, VM_ID, KV_ID, VAULT_ID}
    assert all(item["id"].count("/") == 8 for item in generic), "top-level resources only"
    assert names(values(rich, f"/subscriptions/{SUB}/resourceGroups/rg-app/resources")) == ["nsg-app", "vm1", "kv1"]


def test_get_by_id_ignores_case_and_decodes_the_path(rich: Emulator) -> None:
    assert call(rich, VNET_ID.upper() + "/?api-version=2024-07-01").json()["id"] == VNET_ID
    answer = call(rich, quote(FLOW_LOG_ID) + "?api-version=2024-07-01")
    assert answer.json()["id"] == FLOW_LOG_ID
    assert rich.requests[-1].path == FLOW_LOG_ID
    assert rich.requests[-1].params == {"api-version": "2024-07-01"}


def test_embedded_children_are_listed_and_fetched(rich: Emulator) -> None:
    nsg_id = arm_id("rg-net", "Microsoft.Network/networkSecurityGroups", "nsg-web")
    assert names(values(rich, f"{nsg_id}/securityRules")) == ["allow-22", "allow-3389"]
    assert names(values(rich, f"{nsg_id}/defaultSecurityRules")) == ["DenyAllInBound"]
    assert call(rich, f"{nsg_id}/securityRules/ALLOW-22").json()["properties"] == {"access": "Allow"}
    empty_nsg = arm_id("rg-net", "Microsoft.Network/networkSecurityGroups", "nsg-empty")
    assert values(rich, f"{empty_nsg}/securityRules") == []
    assert names(values(rich, f"{VNET_ID}/subnets")) == ["a", "b"]
    assert names(values(rich, f"{VM_ID}/extensions")) == ["CustomScriptExtension"]
    # The NSG's networkInterfaces are references, not children.
    nic_reference = call(rich, arm_id("rg-net", "Microsoft.Network/networkInterfaces", "nic1"))
    assert (nic_reference.status, nic_reference.error_code) == (404, "ResourceNotFound")


def test_separately_given_children_nested_at_any_depth(rich: Emulator) -> None:
    assert names(values(rich, f"{KV_ID}/keys")) == ["key1", "key2"]
    assert call(rich, f"{KV_ID}/keys/key2").json()["type"] == "Microsoft.KeyVault/vaults/keys"
    protected = values(rich, f"{CONTAINER}/protectedItems")
    assert [item["properties"]["protectionState"] for item in protected] == ["Protected"]
    assert names(values(rich, f"{VAULT_ID}/backupProtectedItems")) == ["vm;vm1"]
    assert names(values(rich, f"{VAULT_ID}/backupPolicies")) == ["DefaultPolicy"]
    unknown_container = call(rich, f"{VAULT_ID}/backupFabrics/Azure/protectionContainers/other/protectedItems")
    assert unknown_container.error_code == "ResourceNotFound"


def test_extension_and_scope_level_collections(rich: Emulator) -> None:
    assert names(values(rich, f"{KV_ID}/providers/Microsoft.Insights/diagnosticSettings")) == ["to-law"]
    assert values(rich, f"{VM_ID}/providers/Microsoft.Insights/diagnosticSettings") == []
    missing_owner = call(rich, f"{KV_ID}x/providers/Microsoft.Insights/diagnosticSettings")
    assert (missing_owner.status, missing_owner.error_code) == (404, "ResourceNotFound")
    security = f"/subscriptions/{SUB}/providers/Microsoft.Security"
    assert names(values(rich, f"{security}/securityContacts")) == ["default"]
    assert names(values(rich, f"{security}/pricings")) == ["VirtualMachines"]
    assert call(rich, f"{security}/pricings/virtualmachines").json()["name"] == "VirtualMachines"
    assert values(rich, f"/subscriptions/{OTHER_SUB}/providers/Microsoft.Security/pricings") == []
    assert names(values(rich, f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments")) == ["ra1"]
    assert names(values(rich, "/providers/Microsoft.Authorization/roleDefinitions")) == ["owner-guid"]


def test_paging_follows_relative_next_links(serve: Callable[..., Emulator]) -> None:
    estate = make_estate(*(nsg(f"nsg-{number:02}") for number in range(7)))
    emulator = serve(estate, page_size=2)
    path = f"/subscriptions/{SUB}/providers/Microsoft.Network/networkSecurityGroups?api-version=2024-07-01"
    first = call(emulator, path).json()
    assert len(first["value"]) == 2
    assert urlsplit(first["nextLink"]).query == "api-version=2024-07-01&$skiptoken=2"
    listed = names(values(emulator, path))
    assert listed == [f"nsg-{number:02}" for number in range(7)]
    assert len(emulator.requests) == 1 + 4
    assert all(request.params["api-version"] == "2024-07-01" for request in emulator.requests)
    assert "nextLink" not in call(emulator, path + "&$skiptoken=6").json()
    assert call(emulator, path + "&$skiptoken=abc").error_code == "InvalidSkipToken"


def test_errors_are_arm_shaped_with_request_ids(rich: Emulator) -> None:
    for path, code in (
        (arm_id("rg-net", "Microsoft.Network/networkSecurityGroups", "missing"), "ResourceNotFound"),
        ("/", "PathNotFound"),
        ("/not/arm/at/all", "PathNotFound"),
        (f"/subscriptions/{SUB}/providers/Microsoft.Network", "PathNotFound"),
    ):
        answer = call(rich, path)
        assert answer.status == 404
        assert answer.headers["content-type"] == "application/json; charset=utf-8"
        assert answer.headers["x-ms-request-id"]
        assert set(answer.json()["error"]) == {"code", "message"}
        assert answer.error_code == code


def test_writes_are_refused_and_logged(rich: Emulator) -> None:
    connection = connect(rich)
    try:
        for method in ("PUT", "PATCH", "DELETE", "POST", "MERGE"):
            answer = send(connection, VNET_ID + "?api-version=1", method=method, body=b'{"properties": {}}')
            assert (answer.status, answer.error_code) == (405, "MethodNotAllowed")
        # The one POST served is Resource Graph's query, which reads; this one names no api-version.
        graph_query = send(connection, "/providers/Microsoft.ResourceGraph/resources", method="POST", body=b"{}")
        assert (graph_query.status, graph_query.error_code) == (400, "InvalidApiVersionParameter")
        head = send(connection, VNET_ID, method="HEAD")
        assert (head.status, head.body) == (405, b"")
        assert send(connection, VNET_ID).status == 200, "the connection survives refused writes"
    finally:
        connection.close()
    assert [request.method for request in rich.requests] == [
        "PUT",
        "PATCH",
        "DELETE",
        "POST",
        "MERGE",
        "POST",
        "HEAD",
        "GET",
    ]
    rich.reset_requests()
    assert rich.requests == []


def test_raw_bodies_take_precedence(serve: Callable[..., Emulator]) -> None:
    contacts = f"/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts"
    broken = '{ "value": { [ {"id": "x"} ] } }'
    raw = [{"path": contacts, "status": 200, "body": broken}, {"path": "/v1.0/me", "status": 503, "body": "down"}]
    emulator = serve(make_estate(resource(f"{contacts}/default"), raw=raw))
    answer = call(emulator, contacts.upper() + "/?api-version=2020-01-01-preview")
    assert (answer.status, answer.body.decode()) == (200, broken)
    assert call(emulator, "/v1.0/me").status == 503
    assert call(emulator, f"{contacts}/default").status == 200


# --- faults ------------------------------------------------------------------------------------------


def test_status_fault_with_retry_after(serve: Callable[..., Emulator]) -> None:
    fault = Fault(pattern="/networkSecurityGroups$", status=429, retry_after="7")
    emulator = serve(make_estate(nsg("a")), faults=[fault])
    list_path = f"/subscriptions/{SUB}/providers/Microsoft.Network/networkSecurityGroups"
    for _ in range(2):
        answer = call(emulator, list_path)
        assert (answer.status, answer.error_code, answer.headers["retry-after"]) == (429, "TooManyRequests", "7")
    assert call(emulator, arm_id("rg-net", "Microsoft.Network/networkSecurityGroups", "a")).status == 200


def test_fault_applies_the_given_number_of_times(serve: Callable[..., Emulator]) -> None:
    faults = [{"pattern": "/subscriptions$", "status": 503, "times": 1}]
    emulator = serve(make_estate(faults=faults))
    first = call(emulator, "/subscriptions")
    assert (first.status, first.error_code, "retry-after" in first.headers) == (503, "ServiceUnavailable", False)
    assert call(emulator, "/subscriptions").status == 200


def test_fault_error_code_and_methods(serve: Callable[..., Emulator]) -> None:
    faults = [
        Fault(pattern="/resourcegroups", status=403, times=1),
        Fault(pattern="ResourceGraph", methods=("POST",), status=409, error_code="MissingSubscriptionRegistration"),
    ]
    emulator = serve(make_estate(nsg("a")), faults=faults)
    assert call(emulator, f"/subscriptions/{SUB}/resourceGroups").error_code == "AuthorizationFailed"
    posted = call(emulator, "/providers/Microsoft.ResourceGraph/resources", method="POST", body=b"{}")
    assert (posted.status, posted.error_code) == (409, "MissingSubscriptionRegistration")
    assert call(emulator, "/providers/Microsoft.ResourceGraph/resources").status == 200, "GET is not faulted"


def test_malformed_fault_sends_a_body_that_is_not_json(serve: Callable[..., Emulator]) -> None:
    emulator = serve(make_estate(), faults=[Fault(pattern="^/subscriptions", malformed=True)])
    answer = call(emulator, "/subscriptions")
    assert answer.status == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_reset_fault_drops_the_connection(serve: Callable[..., Emulator]) -> None:
    emulator = serve(make_estate(), faults=[Fault(pattern="^/subscriptions$", reset=True, times=1)])
    with pytest.raises(ConnectionError):
        call(emulator, "/subscriptions")
    assert call(emulator, "/subscriptions").status == 200
    assert [request.path for request in emulator.requests] == ["/subscriptions", "/subscriptions"]


def test_latency_fault_and_global_latency(serve: Callable[..., Emulator]) -> None:
    emulator = serve(make_estate(), faults=[Fault(pattern="resourcegroups", latency_ms=150)])
    started = time.monotonic()
    assert call(emulator, f"/subscriptions/{SUB}/resourceGroups").status == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    call(emulator, "/subscriptions")
    assert time.monotonic() - started < 0.15

    slow = serve(make_estate(), latency_ms=100)
    started = time.monotonic()
    call(slow, "/subscriptions")
    assert time.monotonic() - started >= 0.1


def test_parse_fault_reads_the_command_line_form() -> None:
    fault = parse_fault("pattern=/networkSecurityGroups,status=503,times=2,retry_after=1")
    assert fault == Fault(pattern="/networkSecurityGroups", status=503, times=2, retry_after="1")
    assert parse_fault("pattern=/disks/[a-z]{1,3}$,reset").reset
    assert parse_fault(r"pattern=x,methods=get,post,latency_ms=5").methods == ("GET", "POST")
    assert parse_fault("pattern=x,malformed=true").malformed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status=503", "missing pattern"),
        ("pattern=x,colour=red", "unknown field 'colour'"),
        ("pattern=x,status=200", "between 400 and 599"),
        ("pattern=x,status=503,reset", "only one of"),
        ("pattern=x", "needs status, malformed, reset, body or latency_ms"),
        ("pattern=(,status=503", "not a regular expression"),
        ("pattern=x,status=soon", "status must be an integer"),
        ("pattern=x,reset,times=0", "times must be at least 1"),
    ],
)
def test_parse_fault_rejects_bad_specs(text: str, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        parse_fault(text)


# --- Microsoft Graph ---------------------------------------------------------------------------------


def test_graph_lists_page_with_absolute_next_links(serve: Callable[..., Emulator]) -> None:
    users = [{"id": f"u{number}", "isMfaRegistered": number % 2 == 0} for number in range(5)]
    defaults = {"id": "00000000-0000-0000-0000-000000000005", "isEnabled": False}
    graph = {GRAPH_USERS: users, "/policies/identitySecurityDefaultsEnforcementPolicy": defaults}
    emulator = serve(make_estate(graph=graph), page_size=2)
    for version in ("v1.0", "beta"):
        link: str | None = f"{emulator.url}/{version}{GRAPH_USERS}?$select=id"
        seen: list[dict[str, Any]] = []
        connection = connect(emulator)
        while link is not None:
            assert link.startswith(emulator.url + "/"), "Graph nextLinks are absolute, on the emulator's host"
            parts = urlsplit(link)
            page = send(connection, f"{parts.path}?{parts.query}").json()
            seen += page["value"]
            link = page.get("@odata.nextLink")
        connection.close()
        assert seen == users
    topped = call(emulator, f"/v1.0{GRAPH_USERS}?$top=4").json()
    assert len(topped["value"]) == 4
    assert "$top=4" in topped["@odata.nextLink"]
    assert call(emulator, "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy").json() == defaults
    unknown = call(emulator, "/v1.0/identity/conditionalAccess/policies")
    assert (unknown.status, unknown.error_code) == (404, "Request_ResourceNotFound")


# --- through the real SDK ------------------------------------------------------------------------------


def test_network_sdk_lists_nsgs_across_pages(serve: Callable[..., Emulator]) -> None:
    emulator = serve(make_estate(nsg("nsg-a", rule_ports=("22",)), nsg("nsg-b"), nsg("nsg-c")), page_size=2)
    client = NetworkManagementClient(
        StaticTokenCredential(emulator.token),
        SUB,
        base_url=emulator.url,
        connection_verify=str(emulator.ca_file),
        retry_total=0,
    )
    with client:
        groups = list(client.network_security_groups.list_all())
    assert [group.name for group in groups] == ["nsg-a", "nsg-b", "nsg-c"]
    assert [rule.name for rule in groups[0].security_rules] == ["allow-22"]
    assert len(emulator.requests) == 2
    assert {request.method for request in emulator.requests} == {"GET"}


# --- lifecycle -----------------------------------------------------------------------------------------


def test_stop_removes_the_ca_file_and_is_idempotent() -> None:
    emulator = Emulator(Estate.from_dict(make_estate(), SOURCE))
    with emulator:
        ca_file = emulator.ca_file
        assert ca_file.is_file()
        assert emulator.url == f"https://127.0.0.1:{emulator.port}"
    assert not ca_file.exists()
    emulator.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url


# --- estate validation ---------------------------------------------------------------------------------


def _without_graph(data: dict[str, Any]) -> None:
    del data["graph"]


def _resources_object(data: dict[str, Any]) -> None:
    data["resources"] = {}


def _missing_id(data: dict[str, Any]) -> None:
    data["resources"].append({"name": "no-id"})


def _unknown_subscription(data: dict[str, Any]) -> None:
    data["resources"].append(nsg("x", subscription="ffffffff-0000-0000-0000-000000000000"))


def _duplicate_id(data: dict[str, Any]) -> None:
    data["resources"].append(nsg("NSG-A", group="RG-NET"))


def _group_as_resource(data: dict[str, Any]) -> None:
    data["resources"].append({"id": f"/subscriptions/{SUB}/resourceGroups/rg-net"})


def _collection_as_resource(data: dict[str, Any]) -> None:
    data["resources"].append({"id": f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings"})


def _bad_fault(data: dict[str, Any]) -> None:
    data["faults"] = [{"pattern": "x", "status": 200}]


def _graph_string(data: dict[str, Any]) -> None:
    data["graph"] = {GRAPH_USERS: "nobody"}


def _raw_without_body(data: dict[str, Any]) -> None:
    data["raw"] = [{"path": "/x", "status": 200}]


def _subscription_without_name(data: dict[str, Any]) -> None:
    del data["subscriptions"][1]["displayName"]


def _unknown_key(data: dict[str, Any]) -> None:
    data["fault"] = []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_without_graph, "missing top-level key 'graph'"),
        (_resources_object, "resources: must be a list, not an object"),
        (_missing_id, r"resources\[1\]: missing 'id'"),
        (_unknown_subscription, r"resources\[1\].id: subscription 'ffffffff-0000-0000-0000-000000000000' is not in"),
        (_duplicate_id, r"resources\[1\].id: '/subscriptions/.*/NSG-A' duplicates resources\[0\].id"),
        (_group_as_resource, r"resources\[1\].id: .* is not an ARM resource id"),
        (_collection_as_resource, r"resources\[1\].id: .* is not an ARM resource id"),
        (_bad_fault, r"faults\[0\]: status must be between 400 and 599"),
        (_graph_string, r"graph\['/reports/.*'\]: must be a list or an object, not a string"),
        (_raw_without_body, r"raw\[0\].body: must be a string, not null"),
        (_subscription_without_name, r"subscriptions\[1\]: missing 'displayName'"),
        (_unknown_key, "unknown top-level key 'fault'"),
    ],
)
def test_estate_errors_name_the_file_and_the_place(mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    data = make_estate(nsg("nsg-a"))
    mutate(data)
    with pytest.raises(EstateError, match=rf"^estate {re.escape(SOURCE)}: {message}"):
        Estate.from_dict(data, SOURCE)


def test_load_estate_reports_invalid_json_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "subscriptions": [],\n  "resources": [,]\n}\n', encoding="utf-8")
    with pytest.raises(EstateError, match=rf"^estate {re.escape(str(path))}: invalid JSON at line 3 column 17: "):
        load_estate(path)
    with pytest.raises(EstateError, match="cannot read"):
        load_estate(tmp_path / "missing.json")


def test_load_estate_accepts_every_id_scope(tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(rich_estate(), ensure_ascii=False), encoding="utf-8")
    estate = load_estate(path)
    assert estate.source == str(path)
    assert len(estate.resources) == len(rich_estate()["resources"])
    assert estate.resource_groups[0].location == "uksouth"


def test_demo_estate_path_points_into_the_package() -> None:
    path = demo_estate_path()
    assert path.name == "demo-estate.json"
    assert path.parent.name == "data"
    assert path.parent.parent.name == "auditor"


# --- command line --------------------------------------------------------------------------------------


def _parse(argv: list[str]) -> EmulatorOptions:
    parser = argparse.ArgumentParser()
    arguments.add_arguments(parser)
    return arguments.options_of(parser.parse_args(argv))


def test_cli_reports_a_bad_estate_and_returns_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(_parse(["--estate", str(tmp_path / "missing.json")])) == 2
    assert capsys.readouterr().err.startswith(f"auditor: error: estate {tmp_path / 'missing.json'}: cannot read")
    estate_file = tmp_path / "estate.json"
    estate_file.write_text(json.dumps(make_estate()), encoding="utf-8")
    assert cli.run(_parse(["--estate", str(estate_file), "--fault", "pattern=x"])) == 2
    assert "needs status" in capsys.readouterr().err


def test_cli_serves_until_interrupted(tmp_path: Path) -> None:
    estate_file = tmp_path / "estate.json"
    estate_file.write_text(json.dumps(make_estate(nsg("nsg-a"))), encoding="utf-8")
    program = "import sys\nfrom auditor.cli import main\nsys.exit(main(['emulator', *sys.argv[1:]]))\n"
    argv = [sys.executable, "-c", program, "--estate", str(estate_file), "--token", "t0k", "--page-size", "1"]
    environment = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    try:
        assert process.stdout is not None
        printed = dict(process.stdout.readline().strip().split(": ", 1) for _ in range(3))
        url = urlsplit(printed["url"])
        context = ssl.create_default_context(cafile=printed["ca-file"])
        connection = http.client.HTTPSConnection("127.0.0.1", url.port, context=context, timeout=5)
        connection.request("GET", "/subscriptions", headers={"Authorization": f"Bearer {printed['token']}"})
        response = connection.getresponse()
        assert (response.status, len(json.loads(response.read())["value"])) == (200, 1)
        connection.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
        assert not Path(printed["ca-file"]).exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

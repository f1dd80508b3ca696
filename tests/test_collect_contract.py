"""The data contract through the real clients: odd bodies, broken paging, deep nesting, throttling, unknowns."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.collect import keys, keyvault, monitor, network, sql
from auditor.collect.base import MAX_DEPTH, Listing, PerParent, TenantListing, nesting_depth, path, resource_path
from auditor.collect.scan import STEPS, collect_inventory
from auditor.emulator import Fault, demo_estate_path
from auditor.inventory import Collection, Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import serve
from tests.test_collect_integration import judge
from tests.test_collect_sql_storage import protector, sql_server, user_database

NSG_LIST = f"/subscriptions/{e.SUB}/providers/Microsoft.Network/networkSecurityGroups"
NET_CHECKS = ("nsg_rdp_exposure", "nsg_management_port_exposure")


def scan(estate: dict[str, Any], steps: Any = network.STEPS, **options: Any) -> Inventory:
    """Collect the given steps from the estate through the real clients."""
    faults = options.pop("faults", ())
    with serve(estate, faults=faults, **options) as (_, session):
        return collect_inventory(session, steps=steps)


def failed(inventory: Inventory) -> list[Collection]:
    """The collections that did not complete."""
    return [c for c in inventory.collections if not c.ok]


def net_statuses(inventory: Inventory) -> dict[tuple[str, str], Status]:
    """NET-01/NET-04 NSG verdicts by (check, NSG name)."""
    result = judge(inventory)
    return {
        (f.check_id, f.resource_id.rsplit("/", 1)[-1]): f.status
        for f in result.findings
        if f.check_id in NET_CHECKS and f.resource_id
    }


def open_nsg() -> dict[str, Any]:
    """An NSG that opens RDP and SSH to the Internet: NET-01 and NET-04 fail."""
    return e.nsg("nsg-open", ("any", 100, {"sourceAddressPrefix": "*", "destinationPortRanges": ["22", "3389"]}))


def closed_nsg() -> dict[str, Any]:
    """An NSG with no custom rules: NET-01 and NET-04 pass."""
    return e.nsg("nsg-closed")


# --- NSG shapes that must never read as "no rules" -----------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda n: n["properties"].pop("securityRules"), id="securityRules absent"),
        pytest.param(lambda n: n["properties"].update(securityRules=None), id="securityRules null"),
        pytest.param(lambda n: n["properties"].update(securityRules={"rule": 1}), id="securityRules not a list"),
        pytest.param(lambda n: n.pop("properties"), id="properties absent"),
        pytest.param(lambda n: n.update(properties=None), id="properties null"),
    ],
)
def test_an_nsg_without_readable_rules_is_an_error_not_a_pass(mutate: Any) -> None:
    broken = open_nsg()
    mutate(broken)
    inventory = scan(e.estate(broken, closed_nsg()))
    assert not failed(inventory)
    verdicts = net_statuses(inventory)
    for check in NET_CHECKS:
        assert verdicts[(check, "nsg-open")] is Status.ERROR
        # The other NSG of the same listing is judged as usual.
        assert verdicts[(check, "nsg-closed")] is Status.PASS
    finding = next(
        f for f in judge(inventory).findings if f.check_id == "nsg_rdp_exposure" and "nsg-open" in f.resource_id
    )
    assert "securityRules" in finding.message or "properties" in finding.message


@pytest.mark.parametrize("field", ["sourceAddressPrefix", "access", "direction", "protocol", "destinationPortRanges"])
def test_a_rule_missing_a_field_makes_its_nsg_an_error(field: str) -> None:
    broken = open_nsg()
    broken["properties"]["securityRules"][0]["properties"].pop(field)
    inventory = scan(e.estate(broken, closed_nsg()))
    verdicts = net_statuses(inventory)
    assert {verdicts[(c, "nsg-open")] for c in NET_CHECKS} == {Status.ERROR}
    assert {verdicts[(c, "nsg-closed")] for c in NET_CHECKS} == {Status.PASS}
    (nsg,) = [n for n in inventory.network_security_groups if n.name == "nsg-open"]
    assert any("securityRules[0]" in p.field for p in nsg.unreadable)


def test_a_rule_with_a_value_outside_its_enum_names_field_and_value() -> None:
    broken = open_nsg()
    broken["properties"]["securityRules"][0]["properties"]["access"] = "Maybe"
    inventory = scan(e.estate(broken))
    (finding,) = [f for f in judge(inventory).findings if f.check_id == "nsg_rdp_exposure"]
    assert finding.status is Status.ERROR
    assert "properties.securityRules[0].properties.access" in finding.message
    assert '"Maybe"' in finding.message


def test_a_nic_behind_an_nsg_with_unreadable_rules_is_an_error() -> None:
    broken = open_nsg()
    broken["properties"]["securityRules"][0]["properties"].pop("access")
    network_ = e.vnet("vnet", {"servers": broken["id"]})
    subnet_id = network_["properties"]["subnets"][0]["id"]
    inventory = scan(e.estate(broken, network_, e.nic("nic-1", subnet_id)))
    (finding,) = [f for f in judge(inventory).findings if f.check_id == "nic_rdp_exposure"]
    assert finding.status is Status.ERROR
    assert "access" in finding.message


def test_case_variants_and_odd_ids_are_read() -> None:
    nsg = open_nsg()
    rule = nsg["properties"]["securityRules"][0]["properties"]
    rule |= {"access": "allow", "direction": "INBOUND", "protocol": "tcp"}
    nsg["id"] = nsg["id"].replace("/subscriptions/", "/Subscriptions/").replace("/resourceGroups/", "/resourcegroups/")
    nsg["properties"]["subnets"] = [{"id": ""}, {}]
    inventory = scan(e.estate(nsg))
    (record,) = inventory.network_security_groups
    assert record.unreadable == ()
    assert record.resource_group == "rg-app" and record.subnet_ids == ()
    assert {(r.access, r.direction, r.protocol) for r in record.rules if not r.is_default} == {
        ("Allow", "Inbound", "Tcp")
    }
    assert {s for (c, _), s in net_statuses(inventory).items()} == {Status.FAIL}


# --- listing bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{}", id="empty object"),
        pytest.param('{"value": {}}', id="value is an object"),
        pytest.param('{"value": null}', id="value is null"),
        pytest.param("[]", id="a list"),
        pytest.param('"nothing"', id="a string"),
        pytest.param("", id="empty body"),
        pytest.param('{"value": [1]}', id="an item that is not an object"),
    ],
)
def test_a_listing_body_without_a_value_list_is_a_malformed_response_for_that_scope(body: str) -> None:
    fault = Fault(pattern=f"^{NSG_LIST}$", body=body)
    inventory = scan(e.estate(closed_nsg(), e.nsg("nsg-two", sub=e.SUB2), subs=(e.SUB, e.SUB2)), faults=(fault,))
    (broken,) = failed(inventory)
    assert (broken.api, broken.subscription_id, broken.status_code) == (network.NSGS_API, e.SUB, 200)
    assert broken.reason.startswith("malformed response")
    verdicts = [f for f in judge(inventory).findings if f.check_id == "nsg_rdp_exposure"]
    assert {f.resource_id: f.status for f in verdicts} == {
        f"/subscriptions/{e.SUB}": Status.ERROR,
        e.arm_id("Microsoft.Network/networkSecurityGroups", "nsg-two", sub=e.SUB2): Status.PASS,
    }


@pytest.mark.parametrize("body", ["{}", '{"value": {}}'])
def test_a_per_parent_listing_body_without_a_value_list_marks_only_that_parent(body: str) -> None:
    good, bad = e.vault("kv-good"), e.vault("kv-bad")
    fault = Fault(pattern=f"{bad['id']}/keys$", body=body)
    inventory = scan(e.estate(good, bad), steps=keyvault.STEPS + keys.STEPS, faults=(fault,))
    (broken,) = failed(inventory)
    assert (broken.api, broken.scope.lower(), broken.status_code) == (keys.KEYS_API, bad["id"].lower(), 200)


def test_a_self_referencing_next_link_stops_with_an_error() -> None:
    fault = Fault(pattern=f"^{NSG_LIST}$", body='{"value": [], "nextLink": "$REQUEST_URL"}')
    started = time.monotonic()
    with serve(e.estate(closed_nsg()), faults=(fault,)) as (endpoint, session):
        inventory = collect_inventory(session, steps=network.STEPS)
        nsg_calls = [r for r in endpoint.requests if r.path == NSG_LIST]
    assert time.monotonic() - started < 10
    (broken,) = failed(inventory)
    assert broken.api == network.NSGS_API and "repeats a page" in broken.reason
    # The link names the page itself, so it is refused before a second GET.
    assert len(nsg_calls) == 1


def test_a_body_nested_100000_deep_is_malformed_for_its_scope_only() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    fault = Fault(pattern=f"^{NSG_LIST}$", body='{"value": [' + deep + "]}")
    inventory = scan(e.estate(closed_nsg(), e.nsg("nsg-two", sub=e.SUB2), subs=(e.SUB, e.SUB2)), faults=(fault,))
    (broken,) = failed(inventory)
    assert (broken.subscription_id, broken.status_code) == (e.SUB, 200)
    assert f"deeper than {MAX_DEPTH}" in broken.reason
    assert [n.name for n in inventory.network_security_groups] == ["nsg-two"]


def test_nesting_depth_ignores_brackets_in_strings() -> None:
    assert nesting_depth(b'{"a": "[[[[{{", "b": [[]]}') == 3
    assert nesting_depth(b'["\\"[[[", {}]') == 2


def test_nesting_depth_reads_runs_of_backslashes_as_the_parser_does() -> None:
    # An escaped backslash before a closing quote ends the string; an escaped quote does not.
    assert nesting_depth(b'["\\\\", [[]]]') == 3
    assert nesting_depth(b'["\\\\\\"[[", [[]]]') == 3
    assert nesting_depth(b'{"k\\"[": "\\\\\\\\", "v": [{"w": "\\"]]"}]}') == 3
    assert nesting_depth(b'["", "", [""], "[", ""]') == 2


def _parsed_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_parsed_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_parsed_depth(v) for v in value), default=0)
    return 0


_TRICKY_TEXT = st.text(alphabet=st.sampled_from(["\\", '"', "[", "]", "{", "}", "a", "\n", "\u00e9"]), max_size=6)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.booleans())
def test_nesting_depth_is_the_depth_of_the_parsed_value(value: Any, ascii_only: bool) -> None:
    assert nesting_depth(json.dumps(value, ensure_ascii=ascii_only).encode()) == _parsed_depth(value)


# --- throttling and error bodies -----------------------------------------------------------------


def test_a_429_with_an_unparseable_retry_after_is_retried() -> None:
    fault = Fault(pattern=f"^{NSG_LIST}$", status=429, retry_after="soon", times=2)
    with serve(e.estate(closed_nsg()), faults=(fault,)) as (endpoint, session):
        inventory = collect_inventory(session, steps=network.STEPS)
        nsg_calls = [r for r in endpoint.requests if r.path == NSG_LIST]
    assert not failed(inventory)
    assert len(nsg_calls) == 3
    assert [n.name for n in inventory.network_security_groups] == ["nsg-closed"]


def test_a_persistent_429_with_an_unparseable_retry_after_is_reported_with_its_status() -> None:
    fault = Fault(pattern=f"^{NSG_LIST}$", status=429, retry_after="soon")
    inventory = scan(e.estate(closed_nsg()), faults=(fault,))
    (broken,) = failed(inventory)
    assert (broken.status_code, broken.error_code) == (429, "TooManyRequests")


@pytest.mark.parametrize("status", [429, 503])
def test_an_empty_bodied_throttle_prints_no_traceback(status: int, capfd: pytest.CaptureFixture[str]) -> None:
    fault = Fault(pattern=f"^{NSG_LIST}$", status=status, body="")
    inventory = scan(e.estate(closed_nsg()), faults=(fault,))
    (broken,) = failed(inventory)
    assert broken.status_code == status and broken.error_code == ""
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out


# --- values the SDK models rejected --------------------------------------------------------------


def test_a_lower_case_iso_duration_does_not_lose_the_metric_alert_listing() -> None:
    alert = {
        "id": f"/subscriptions/{e.SUB}/resourceGroups/rg-mon/providers/Microsoft.Insights/metricAlerts/cpu",
        "name": "cpu",
        "type": "Microsoft.Insights/metricAlerts",
        "location": "global",
        "properties": {
            "enabled": True,
            "severity": 3,
            "scopes": [f"/subscriptions/{e.SUB}"],
            "evaluationFrequency": "Pt1m",
            "windowSize": "Pt15m",
            "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": []},
            "actions": [],
        },
    }
    inventory = scan(e.estate(alert), steps=monitor.STEPS)
    assert not [c for c in failed(inventory) if c.api == monitor.METRIC_ALERTS_API]
    assert [a.name for a in inventory.alert_rules] == ["cpu"]


# --- failure granularity -------------------------------------------------------------------------


def test_a_failed_per_server_call_hides_only_that_server() -> None:
    good, bad = sql_server("sql-good"), sql_server("sql-bad")
    estate = e.estate(
        good,
        bad,
        protector(good, "ServiceManaged"),
        protector(bad, "ServiceManaged"),
        *user_database(good, "db-good"),
        *user_database(bad, "db-bad"),
    )
    fault = Fault(pattern=f"{bad['id']}/databases$", status=500)
    inventory = scan(estate, steps=sql.STEPS, faults=(fault,))
    (broken,) = failed(inventory)
    assert broken.scope.lower() == bad["id"].lower()
    tde = {
        f.resource_id.rsplit("/", 1)[-1]: f.status
        for f in judge(inventory).findings
        if f.check_id == "sql_database_tde"
    }
    assert tde == {"db-good": Status.PASS, "sql-bad": Status.ERROR}


def test_a_failed_per_vault_call_hides_only_that_vault() -> None:
    good, bad = e.vault("kv-good"), e.vault("kv-bad")
    fault = Fault(pattern=f"{bad['id']}/keys$", status=500)
    with serve(e.estate(good, bad), faults=(fault,)) as (_, session):
        inventory = collect_inventory(session)
    result = judge(inventory)
    vaults = {
        f.resource_id.rsplit("/", 1)[-1]: f.status for f in result.findings if f.check_id == "key_vault_protection"
    }
    # The vault check does not read keys, so both vaults are judged; the keys check names the one vault.
    assert vaults == {"kv-good": Status.PASS, "kv-bad": Status.PASS}
    errors = [f for f in result.findings if f.check_id == "protecting_keys_hygiene" and f.status is Status.ERROR]
    assert [f.resource_id.lower() for f in errors] == [bad["id"].lower()]


def test_a_failed_listing_still_marks_its_subscription() -> None:
    fault = Fault(pattern=f"^{NSG_LIST}$", status=500)
    inventory = scan(e.estate(open_nsg(), e.nsg("nsg-two", sub=e.SUB2), subs=(e.SUB, e.SUB2)), faults=(fault,))
    (broken,) = failed(inventory)
    assert broken.scope == f"/subscriptions/{e.SUB}"
    verdicts = {f.resource_id: f.status for f in judge(inventory).findings if f.check_id == "nsg_rdp_exposure"}
    assert verdicts[f"/subscriptions/{e.SUB}"] is Status.ERROR
    assert not any(e.SUB in r and r != f"/subscriptions/{e.SUB}" for r in verdicts)


# --- ids in URLs ---------------------------------------------------------------------------------


def test_ids_are_escaped_into_one_path_segment() -> None:
    escaped = path(
        "/subscriptions/{}/providers/Microsoft.Network/networkSecurityGroups", "../../providers/x", api_version="1"
    )
    assert escaped.startswith("/subscriptions/..%2F..%2Fproviders%2Fx/providers/Microsoft.Network/")
    assert path("/subscriptions/{}", "..", api_version="1") == "/subscriptions/%2E%2E?api-version=1"
    assert resource_path("/subscriptions/s/resourceGroups/r g/providers/P/t/a?b") == (
        "/subscriptions/s/resourceGroups/r%20g/providers/P/t/a%3Fb"
    )
    with pytest.raises(ValueError, match="empty"):
        path("/subscriptions/{}", "", api_version="1")


def test_a_subscription_that_climbs_out_of_its_scope_stays_inside_it() -> None:
    climbing = "../../providers/Microsoft.Network/networkSecurityGroups"
    with serve(e.estate(closed_nsg())) as (endpoint, session):
        inventory = collect_inventory(session, [climbing], steps=network.STEPS)
        paths = [r.path for r in endpoint.requests if "networkSecurityGroups" in r.path]
    assert all(p.startswith(f"/subscriptions/{climbing}/providers/") for p in paths), paths
    assert inventory.network_security_groups == ()
    assert {c.status_code for c in failed(inventory)} == {404}


def test_a_malformed_resource_never_fails_the_listing() -> None:
    odd = copy.deepcopy(closed_nsg())
    odd["name"] = {"not": "a string"}
    odd["location"] = 7
    odd["properties"]["subnets"] = "none"
    del odd["id"]
    fault = Fault(pattern=f"^{NSG_LIST}$", body=json.dumps({"value": [odd, open_nsg()]}))
    inventory = scan(e.estate(), faults=(fault,))
    assert not failed(inventory)
    names = sorted(n.name for n in inventory.network_security_groups)
    assert names == ["", "nsg-open"]
    placeholder = next(n for n in inventory.network_security_groups if not n.name)
    assert {p.field for p in placeholder.unreadable} >= {"id", "name", "properties.subnets"}
    verdict = next(
        f for f in judge(inventory).findings if f.resource_id == placeholder.id and f.check_id == "nsg_rdp_exposure"
    )
    assert verdict.status is Status.ERROR
    assert json.dumps({"not": "a string"}) in verdict.message or "name" in verdict.message


# --- every listing and every per-parent listing, on the demo estate --------------------------------

LISTING_STEPS = [s for s in STEPS if isinstance(s, Listing | PerParent)]
SCOPED_STEPS = tuple(s for s in STEPS if not isinstance(s, TenantListing))
# The last URL segment of each list, where it is not the API's last type segment.
URL_ENDINGS = {
    "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems": "backupProtectedItems",
}


def _list_pattern(step: Listing | PerParent) -> str:
    """A pattern for the list URL of a step alone."""
    if step.api == "Microsoft.Resources/resourceGroups":
        return "^/subscriptions/[^/]+/resourcegroups$"
    if isinstance(step, Listing):
        return f"^/subscriptions/[^/]+/providers/{re.escape(step.api)}$"
    return "/" + URL_ENDINGS.get(step.api, step.api.rsplit("/", 1)[-1]) + "$"


@pytest.mark.parametrize("step", LISTING_STEPS, ids=lambda s: f"{type(s).__name__}:{s.api}")
def test_every_listing_rejects_a_body_without_a_value_list(step: Listing | PerParent) -> None:
    body = '{"value": {}}'
    estate = json.loads(Path(demo_estate_path()).read_text(encoding="utf-8"))
    fault = Fault(pattern=_list_pattern(step), body=body)
    with serve(estate, faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=SCOPED_STEPS)
    broken = failed(inventory)
    assert broken, f"{step.api} accepted {body}"
    assert {c.api for c in broken} == {step.api}
    assert all(c.status_code == 200 and c.reason.startswith("malformed response") for c in broken)

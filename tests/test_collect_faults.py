"""Fail-closed collection under throttling, outages, denied subscriptions and broken bodies."""

from __future__ import annotations

import time

from auditor.collect.scan import collect_inventory
from auditor.emulator import Fault
from auditor.model import Status
from tests import estates as e
from tests.harness import core_steps, serve
from tests.test_collect_integration import judge, small_estate

NSG_LIST = "/providers/Microsoft.Network/networkSecurityGroups"


def test_throttling_with_retry_after_then_success_gives_a_complete_inventory() -> None:
    fault = Fault(pattern=NSG_LIST, status=429, retry_after="1", times=2)
    started = time.monotonic()
    with serve(small_estate(), faults=(fault,)) as (endpoint, session):
        inventory = collect_inventory(session, steps=core_steps())
        nsg_calls = [r for r in endpoint.requests if r.path.endswith("networkSecurityGroups")]
    elapsed = time.monotonic() - started
    assert all(c.ok for c in inventory.collections), [c for c in inventory.collections if not c.ok]
    assert {n.name for n in inventory.network_security_groups} == {"nsg-open", "nsg-closed"}
    # Two throttled answers and the successful ones, one per subscription.
    assert len(nsg_calls) == 4
    # Retry-After (1 s) is capped by the test session's 0.2 s limit, so the scan does not sleep long.
    assert elapsed < 5


def test_persistent_503_on_one_api_errors_that_scope_only() -> None:
    fault = Fault(pattern=f"/subscriptions/{e.SUB}/providers/Microsoft.Compute/disks", status=503)
    with serve(small_estate(), faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=core_steps())
    failed = [c for c in inventory.collections if not c.ok]
    assert [(c.api, c.subscription_id, c.status_code) for c in failed] == [("Microsoft.Compute/disks", e.SUB, 503)]
    result = judge(inventory)
    enc = [f for f in result.findings if f.control_id == "ENC-01"]
    assert [f.status for f in enc] == [Status.ERROR]
    assert "Microsoft.Compute/disks" in enc[0].message and "HTTP 503" in enc[0].message
    # Controls that do not read disks are judged as usual.
    assert {f.status for f in result.findings if f.control_id == "KV-01"} == {Status.PASS, Status.FAIL}


def test_denied_subscription_does_not_stop_the_other() -> None:
    fault = Fault(pattern=f"^/subscriptions/{e.SUB2}/", status=403, error_code="AuthorizationFailed")
    with serve(small_estate(), faults=(fault,)) as (_, session):
        inventory = collect_inventory(session, steps=core_steps())
    failed = {c.subscription_id for c in inventory.collections if not c.ok}
    assert failed == {e.SUB2}
    assert all(c.ok for c in inventory.collections if c.subscription_id == e.SUB)
    assert {v.name for v in inventory.key_vaults} == {"kv-good"}
    kv = {f.resource_id: f for f in judge(inventory).findings if f.control_id == "KV-01"}
    assert kv[f"/subscriptions/{e.SUB2}"].status is Status.ERROR
    assert "AuthorizationFailed" in kv[f"/subscriptions/{e.SUB2}"].message


def test_malformed_body_and_connection_reset_are_recorded_not_raised() -> None:
    faults = (
        Fault(pattern=f"/subscriptions/{e.SUB}/providers/Microsoft.Network/publicIPAddresses", malformed=True),
        Fault(pattern=f"/subscriptions/{e.SUB}/providers/Microsoft.Network/virtualNetworks", reset=True),
    )
    with serve(small_estate(), faults=faults) as (_, session):
        inventory = collect_inventory(session, steps=core_steps())
    failed = {c.api: c for c in inventory.collections if not c.ok}
    assert set(failed) == {"Microsoft.Network/publicIPAddresses", "Microsoft.Network/virtualNetworks"}
    assert all(c.reason for c in failed.values())
    assert "not valid JSON" in failed["Microsoft.Network/publicIPAddresses"].reason
    net = [f for f in judge(inventory).findings if f.check_id == "nic_rdp_exposure"]
    assert {f.status for f in net} == {Status.ERROR}


def test_requested_subscription_the_credential_cannot_see_is_an_error_scope() -> None:
    missing = "99999999-9999-9999-9999-999999999999"
    with serve(small_estate()) as (_, session):
        inventory = collect_inventory(session, [e.SUB, missing], steps=core_steps())
    assert {s.subscription_id for s in inventory.subscriptions} == {e.SUB, missing}
    assert {c.subscription_id for c in inventory.collections if not c.ok} == {missing}
    assert {c.status_code for c in inventory.collections if not c.ok} == {404}


def test_resource_group_filter_keeps_only_those_groups() -> None:
    with serve(small_estate()) as (_, session):
        inventory = collect_inventory(session, steps=core_steps(), resource_groups=["RG-KEYS"])
    assert {v.name for v in inventory.key_vaults} == {"kv-good", "kv-weak"}
    assert inventory.network_security_groups == ()
    assert inventory.resource_groups == ("RG-KEYS",)


def test_worker_processes_collect_the_same_inventory_as_threads() -> None:
    with serve(small_estate()) as (_, session):
        threaded = collect_inventory(session, max_workers=4)
        before = session.requests_sent
        spread = collect_inventory(session, max_workers=4, processes=2)
        sent_by_processes = session.requests_sent - before
    for field in threaded.resource_fields():
        assert getattr(spread, field) == getattr(threaded, field), field
    assert sorted(threaded.collections, key=repr) == sorted(spread.collections, key=repr)
    assert sent_by_processes > 0

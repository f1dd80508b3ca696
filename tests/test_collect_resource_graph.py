"""Collection through Azure Resource Graph: parity with ARM, the quota, faults, and the read-only guard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from azure.core.rest import HttpRequest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import main
from auditor.collect.policies import WriteRefusedError
from auditor.collect.resource_graph import QUERY_PATH, graph_client, quota_of, resets_after
from auditor.collect.scan import collect_inventory
from auditor.collect.sources import RESOURCE_GRAPH, RESOURCE_GRAPH_API, Source
from auditor.demo import scan_estate
from auditor.emulator import Fault, demo_estate_path, load_estate
from auditor.evaluate import evaluate
from auditor.inventory import Inventory
from auditor.model import Finding, Status
from bench.collect import generate
from tests import estates as e
from tests.harness import core_steps, example_body, serve

GRAPH_POST = "/providers/Microsoft.ResourceGraph/resources"
# The requests a Resource Graph scan still sends to ARM (and Microsoft Graph): data the service does not index.
NOT_INDEXED = re.compile(
    r"^GET (/subscriptions|/v1\.0/.*|/beta/.*|.*/vaults/[^/]+/keys(/.*)?|.*/diagnosticSettings"
    r"|.*/encryptionProtector/current"
    r"|.*/transparentDataEncryption/current|.*/backup(Short|Long)TermRetentionPolicies/default"
    r"|.*/backupstorageconfig/vaultstorageconfig|.*/ruleCollectionGroups|.*/config/web"
    r"|.*/providers/Microsoft\.Security/securityContacts|.*/providers/Microsoft\.Authorization/roleDefinitions"
    r"|.*/providers/Microsoft\.Authorization/roleEligibilityScheduleInstances"
    r"|.*/providers/Microsoft\.SqlVirtualMachine/sqlVirtualMachines/[^/]+)$",
    re.IGNORECASE,
)
EXAMPLES = (
    "network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/NetworkSecurityGroupGet.json",
    "network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/AzureFirewallGet.json",
    "compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineExamples/VirtualMachine_Get.json",
    "compute/resource-manager/Microsoft.Compute/DiskRP/stable/2024-03-02/examples/diskExamples/Disk_Get.json",
    "compute/resource-manager/Microsoft.Compute/DiskRP/stable/2024-03-02/examples/diskEncryptionSetExamples/DiskEncryptionSet_Get.json",
    "keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/examples/getVault.json",
    "sql/resource-manager/Microsoft.Sql/stable/2023-08-01/examples/ServerGet.json",
    "storage/resource-manager/Microsoft.Storage/stable/2023-05-01/examples/StorageAccountGetProperties.json",
)


def judge(inventory: Inventory) -> list[Finding]:
    """Every finding of the shipped baseline over the inventory, in a stable order."""
    registry = builtin_registry()
    baseline = load_baseline(default_baseline_path(), registry)
    result = evaluate(inventory, baseline, registry, baseline.resolve_params())
    return sorted(result.findings, key=lambda f: (f.control_id, f.check_id, f.resource_id.lower()))


def verdicts(findings: list[Finding]) -> list[tuple[str, str, str, Status, str]]:
    """What a finding says: control, check, resource, status and message."""
    return [(f.control_id, f.check_id, f.resource_id.lower(), f.status, f.message) for f in findings]


def unordered(value: Any) -> Any:
    """Evidence with every list in a canonical order: ARM and Resource Graph list a VM's extensions in
    different orders (Resource Graph by id), which says nothing about the resource."""
    if isinstance(value, dict):
        return {key: unordered(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = [unordered(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    return value


def both(estate: dict[str, Any], **options: Any) -> dict[Source, tuple[Inventory, list[str]]]:
    """The estate collected through each source, with the paths each run requested."""
    found: dict[Source, tuple[Inventory, list[str]]] = {}
    for source in ("arm", "graph"):
        with serve(estate, **options) as (endpoint, session):
            inventory = collect_inventory(session, source=source)
            found[source] = inventory, [f"{r.method} {r.path}" for r in endpoint.requests]
    return found


def failures(inventory: Inventory) -> set[tuple[str, str, int | None]]:
    """What a scan could not collect: API, scope and status."""
    return {(c.api, c.scope.lower(), c.status_code) for c in inventory.failed_collections()}


def rebase(body: dict[str, Any]) -> dict[str, Any]:
    """A Microsoft example re-homed into the test subscription."""
    text = re.sub(r"/subscriptions/[^/\"]+/", f"/subscriptions/{e.SUB}/", json.dumps(body), flags=re.IGNORECASE)
    result: dict[str, Any] = json.loads(text)
    return result


# --- parity ---------------------------------------------------------------------------------------------


def test_the_demo_estate_gives_identical_findings_through_both_sources() -> None:
    estate = load_estate(demo_estate_path())
    arm, arm_served = scan_estate(estate, source="arm")
    graph, graph_served = scan_estate(estate, source="graph")
    assert not arm.failed_collections() and not graph.failed_collections()
    arm_findings, graph_findings = judge(arm), judge(graph)
    assert len(arm_findings) > 100
    assert verdicts(graph_findings) == verdicts(arm_findings)
    assert [unordered(f.evidence) for f in graph_findings] == [unordered(f.evidence) for f in arm_findings]
    # Resource Graph answered most listings: far fewer requests, and each query is one POST per page.
    assert len(graph_served) < len(arm_served) / 2
    posts = [r for r in graph_served if r.method == "POST"]
    assert posts and all(r.path == GRAPH_POST for r in posts)
    sources = dict(graph.field_sources)
    assert sources["network_security_groups"] == sources["virtual_machines"] == RESOURCE_GRAPH
    assert sources["key_vault_keys"] == "arm" and sources["security_contacts"] == "arm"
    assert sources["sql_databases"] == "resource-graph+arm", "TDE and retention still come from ARM"
    assert graph.collection_sources() == ("arm", "microsoft-graph", "resource-graph")
    assert "resource-graph" not in arm.collection_sources()


def test_a_benchmark_estate_gives_identical_findings_and_pages_through_skip_tokens() -> None:
    estate, count = generate(2, 1200)
    runs = both(estate, page_size=1000)
    (arm, arm_paths), (graph, graph_paths) = runs["arm"], runs["graph"]
    assert count > 2000
    assert not arm.failed_collections() and not graph.failed_collections()
    assert verdicts(judge(graph)) == verdicts(judge(arm))
    assert len(graph.virtual_machines) == len(arm.virtual_machines) > 200
    assert all(vm.extensions_known for vm in graph.virtual_machines)
    assert not any("/extensions" in path for path in graph_paths), "no per-VM extension calls"
    resource_pages = [p for p in graph_paths if p == f"POST {GRAPH_POST}"]
    # One query per table; the resources table of ~2,000 rows spans more than one 1,000-row page.
    assert 6 <= len(resource_pages) <= 12
    # What still goes to ARM is only what Resource Graph does not hold: per-parent data and two small listings.
    arm_only = [p for p in graph_paths if not p.startswith("POST ")]
    assert all(NOT_INDEXED.search(p) for p in arm_only), [p for p in arm_only if not NOT_INDEXED.search(p)][:3]
    assert len(graph_paths) < len(arm_paths)


def test_microsofts_example_responses_give_identical_findings_through_both_sources() -> None:
    bodies = [rebase(example_body(path)) for path in EXAMPLES]
    runs = both(e.estate(*bodies))
    (arm, _), (graph, _) = runs["arm"], runs["graph"]
    # The examples hold no Microsoft Graph answers and no SQL encryption protector: both sources miss the same.
    assert failures(graph) == failures(arm)
    assert not any(c.api == RESOURCE_GRAPH_API for c in graph.failed_collections())
    findings = judge(arm)
    assert {f.resource_id.lower() for f in findings} >= {b["id"].lower() for b in bodies if "Sql" not in b["id"]}
    assert verdicts(judge(graph)) == verdicts(findings)


# --- failures and throttling ----------------------------------------------------------------------------


def test_a_refused_query_fails_its_listings_with_graph_and_falls_back_to_arm_with_auto() -> None:
    estate = load_estate(demo_estate_path())
    faults = (Fault(pattern="ResourceGraph", methods=("POST",), status=403, error_code="AuthorizationFailed"),)
    data = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    with serve(data, faults=faults) as (_, session):
        graph = collect_inventory(session, source="graph")
    with serve(data, faults=faults) as (_, session):
        auto = collect_inventory(session, source="auto")
    with serve(data) as (_, session):
        arm = collect_inventory(session, source="arm")
    failed = {(c.api, c.subscription_id) for c in graph.failed_collections()}
    for subscription in estate.subscriptions:
        assert ("Microsoft.Network/networkSecurityGroups", subscription.subscription_id) in failed
    assert all(c.status_code == 403 for c in graph.failed_collections())
    nsg_findings = [f for f in judge(graph) if f.resource_type == "Microsoft.Network/networkSecurityGroups"]
    assert nsg_findings and all(f.status is Status.ERROR for f in nsg_findings)
    # auto: the queries failed (and say so) and ARM answered instead, so the findings are ARM's.
    assert {c.api for c in auto.failed_collections()} == {RESOURCE_GRAPH_API}
    assert verdicts(judge(auto)) == verdicts(judge(arm))
    assert "resource-graph" not in auto.collection_sources()


def test_the_quota_paces_queries_instead_of_failing_them() -> None:
    data = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    with serve(data, graph_quota=2, graph_quota_window=1.0) as (endpoint, session):
        graph = collect_inventory(session, source="graph")
        posts = [r for r in endpoint.requests if r.method == "POST"]
        quota = quota_of(session)
        waited = quota.waited if quota is not None else 0.0
    with serve(data) as (_, session):
        arm = collect_inventory(session, source="arm")
    assert not graph.failed_collections()
    # Seven queries, two a second: the client waited for the quota to reset rather than failing.
    assert len(posts) >= 7
    assert waited > 0
    assert verdicts(judge(graph)) == verdicts(judge(arm))


def test_calls_that_need_no_waiting_query_run_while_the_quota_holds_one_back() -> None:
    estate, _ = generate(1, 300)
    # Twenty rows a page and two queries a second: the VMs' and NICs' queries page for several seconds.
    with serve(estate, page_size=20, graph_quota=2, graph_quota_window=1.0) as (endpoint, session):
        graph = collect_inventory(session, source="graph")
        served = [f"{r.method} {r.path}" for r in endpoint.requests]
    assert not graph.failed_collections()
    last_post = max(i for i, line in enumerate(served) if line.startswith("POST "))
    eligibility = re.compile(r"/resourceGroups/[^/]+/providers/Microsoft\.Authorization/roleEligibilitySchedule\w+$")
    groups = [i for i, line in enumerate(served) if eligibility.search(line)]
    # A resource group's eligibilities need only the subscriptions' and groups' query, which is read first:
    # they are read while the other queries still wait for the quota. (Which of those queries finishes
    # last depends on which thread the quota lets through first, so no call that waits on one is used.)
    assert groups and min(groups) < last_post
    assert len(graph.key_vault_keys) > 0


def test_queries_and_arm_calls_together_keep_within_the_bound_in_flight() -> None:
    estate, _ = generate(1, 300)
    with serve(estate, page_size=20, latency_ms=20) as (endpoint, session):
        graph = collect_inventory(session, source="graph", max_workers=3)
        peak = endpoint.peak_in_flight
    assert not graph.failed_collections()
    # Resource Graph pages and ARM calls overlap, but never more than three are out at once.
    assert peak == 3


def test_a_transient_query_failure_is_retried() -> None:
    data = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    faults = (Fault(pattern="ResourceGraph", methods=("POST",), status=503, times=2),)
    with serve(data, faults=faults) as (endpoint, session):
        graph = collect_inventory(session, source="graph")
        posts = [r for r in endpoint.requests if r.method == "POST"]
    assert not graph.failed_collections()
    assert len(posts) >= 7


@pytest.mark.parametrize(("text", "seconds"), [("00:00:05", 5.0), ("01:02:03", 3723.0), ("0:00:00.5", 0.5)])
def test_reset_times_are_read(text: str, seconds: float) -> None:
    assert resets_after(text) == seconds


@pytest.mark.parametrize("text", [None, "", "5", "00:61:00", "soon"])
def test_unreadable_reset_times_are_none(text: str | None) -> None:
    assert resets_after(text) is None


# --- read-only ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        QUERY_PATH + "/",
        "/providers/Microsoft.ResourceGraph/resourcesHistory",
        "/providers/Microsoft.ResourceGraph/queries/q1",
        f"/subscriptions/{e.SUB}/providers/Microsoft.ResourceGraph/resources",
        f"/subscriptions/{e.SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/listKeys",
        f"/subscriptions/{e.SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/listKeys",
    ],
)
def test_every_other_post_is_refused_before_it_is_sent(path: str) -> None:
    with serve(e.estate()) as (endpoint, session):
        pipeline = graph_client(session)._client
        with pytest.raises(WriteRefusedError):
            pipeline.send_request(HttpRequest("POST", f"{session.arm_url}{path}?api-version=2022-10-01", json={}))
        for method in ("PUT", "PATCH", "DELETE"):
            with pytest.raises(WriteRefusedError):
                pipeline.send_request(HttpRequest(method, f"{session.arm_url}{QUERY_PATH}?api-version=2022-10-01"))
        assert endpoint.requests == []
        allowed = pipeline.send_request(
            HttpRequest("POST", f"{session.arm_url}{QUERY_PATH}?api-version=2022-10-01", json={"query": "resources"})
        )
        assert allowed.status_code == 200
        assert [r.method for r in endpoint.requests] == ["POST"]


# --- the command line -----------------------------------------------------------------------------------


def test_demo_through_resource_graph_says_so_in_its_reports(tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["demo", "--source", "graph", "--out", str(out), "--format", "json,markdown,html", "--quiet"]) == 0
    scan = json.loads((out / "findings.json").read_text(encoding="utf-8"))["scan"]
    assert "resource-graph" in scan["collection"]["sources"]
    assert "delay" in scan["collection"]["note"]
    assert "Resource Graph" in (out / "summary.md").read_text(encoding="utf-8")
    assert "Collected through" in (out / "report.html").read_text(encoding="utf-8")
    inventory = json.loads((out / "inventory.json").read_text(encoding="utf-8"))
    assert ["virtual_machines", "resource-graph"] in inventory["inventory"]["field_sources"]


def test_a_subscription_resource_graph_does_not_show_is_not_collected_rather_than_empty() -> None:
    unseen = "99999999-9999-9999-9999-999999999999"
    estate = e.estate(e.nsg("nsg-open", ("rdp", 100, {"destinationPortRange": "3389", "sourceAddressPrefix": "*"})))
    with serve(estate) as (_, session):
        graph = collect_inventory(session, [e.SUB, unseen], steps=core_steps(), source="graph")
    with serve(estate) as (_, session):
        auto = collect_inventory(session, [e.SUB, unseen], steps=core_steps(), source="auto")
    failed = {(c.api, c.subscription_id): c for c in graph.failed_collections()}
    nsgs = failed[("Microsoft.Network/networkSecurityGroups", unseen)]
    assert "no row for subscription" in nsgs.reason
    assert ("Microsoft.Network/networkSecurityGroups", e.SUB) not in failed
    assert [n.name for n in graph.network_security_groups] == ["nsg-open"]
    # auto asks ARM about it instead, which answers for itself (here: no such subscription).
    auto_failed = {(c.api, c.subscription_id): c for c in auto.failed_collections()}
    assert auto_failed[("Microsoft.Network/networkSecurityGroups", unseen)].status_code == 404

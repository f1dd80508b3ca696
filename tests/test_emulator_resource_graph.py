"""The local endpoint's Azure Resource Graph: tables, the KQL subset, paging, quota and faults."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from auditor.emulator import Emulator, Estate, Fault, demo_estate_path, load_estate
from auditor.emulator.arguments import add_arguments
from auditor.emulator.resource_graph import QueryError, UserQuota, parse_query
from tests.test_emulator import Answer, call

QUERY = "/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01"


@pytest.fixture
def demo() -> Iterator[Callable[..., Emulator]]:
    """Start emulators over the demo estate with the given options; each is stopped after the test."""
    started: list[Emulator] = []
    estate = load_estate(demo_estate_path())

    def start(**options: Any) -> Emulator:
        emulator = Emulator(estate, **options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


def ask(emulator: Emulator, query: str, path: str = QUERY, **request: Any) -> Answer:
    """One Resource Graph query POST."""
    return call(emulator, path, method="POST", body=json.dumps({"query": query, **request}).encode())


def test_rows_carry_lower_case_types_and_groups_and_vm_extensions_are_rows(demo: Callable[..., Emulator]) -> None:
    emulator = demo()
    answer = ask(
        emulator,
        "resources | where type in~ ('Microsoft.Compute/virtualMachines', "
        "'microsoft.compute/virtualmachines/extensions') | order by id asc",
        options={"$top": 1000},
    )
    assert answer.status == 200
    page = answer.json()
    rows = page["data"]
    assert page["count"] == page["totalRecords"] == len(rows) and page["resultTruncated"] == "false"
    kinds = {row["type"] for row in rows}
    assert kinds == {"microsoft.compute/virtualmachines", "microsoft.compute/virtualmachines/extensions"}
    vms = [row for row in rows if row["type"] == "microsoft.compute/virtualmachines"]
    assert len(vms) == 9 and all("resources" not in vm for vm in vms), "extensions are not embedded"
    extensions = [row for row in rows if row["type"].endswith("/extensions")]
    assert extensions and all(
        row["id"].lower().split("/extensions/")[0] in {v["id"].lower() for v in vms} for row in extensions
    )
    assert all(row["resourceGroup"] == row["resourceGroup"].lower() and row["subscriptionId"] for row in rows)
    assert [row["id"].lower() for row in rows] == sorted(row["id"].lower() for row in rows)


@pytest.mark.parametrize(
    ("table", "kind", "count"),
    [
        ("authorizationresources", "microsoft.authorization/roleassignments", 13),
        ("securityresources", "microsoft.security/pricings", 10),
        ("recoveryservicesresources", "microsoft.recoveryservices/vaults/backuppolicies", 5),
        ("resourcecontainers", "microsoft.resources/subscriptions", 2),
    ],
)
def test_each_table_holds_its_types(demo: Callable[..., Emulator], table: str, kind: str, count: int) -> None:
    rows = ask(demo(), f"{table} | where type =~ '{kind}'", options={"$top": 1000}).json()["data"]
    assert len(rows) == count and {row["type"] for row in rows} == {kind}
    other = ask(demo(), f"resources | where type =~ '{kind}'").json()
    assert other["totalRecords"] == 0, "a type lives in one table only"


def test_types_the_service_does_not_index_are_not_served(demo: Callable[..., Emulator]) -> None:
    emulator = demo()
    for kind in ("microsoft.keyvault/vaults/keys", "microsoft.security/securitycontacts"):
        for table in ("resources", "securityresources"):
            assert ask(emulator, f"{table} | where type =~ '{kind}'").json()["totalRecords"] == 0


def test_subscriptions_bound_the_rows(demo: Callable[..., Emulator]) -> None:
    emulator = demo()
    estate = load_estate(demo_estate_path())
    first = estate.subscriptions[0].subscription_id
    rows = ask(emulator, "resources", subscriptions=[first.upper()], options={"$top": 1000}).json()["data"]
    assert rows and {row["subscriptionId"] for row in rows} == {first}
    everything = ask(emulator, "resources", options={"$top": 1000}).json()
    assert everything["totalRecords"] > len(rows)


def test_pages_follow_the_skip_token_until_it_is_absent(demo: Callable[..., Emulator]) -> None:
    emulator = demo()
    query = "resources | where type =~ 'microsoft.compute/disks' | order by id asc"
    whole = ask(emulator, query, options={"$top": 1000}).json()["data"]
    collected: list[dict[str, Any]] = []
    options: dict[str, Any] = {"$top": 4}
    pages = 0
    while True:
        page = ask(emulator, query, options=options).json()
        pages += 1
        assert page["count"] == len(page["data"]) <= 4 and page["totalRecords"] == len(whole)
        collected += page["data"]
        if "$skipToken" not in page:
            break
        options = {"$top": 4, "$skipToken": page["$skipToken"]}
    assert collected == whole and pages == -(-len(whole) // 4)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"query": "resources | summarize count() by type"}, "unsupported stage"),
        ({"query": "advisorresources"}, "unknown table"),
        ({"query": "resources", "options": {"$top": 1001}}, "$top"),
        ({"query": "resources", "options": {"resultFormat": "table"}}, "resultFormat"),
        ({"query": "resources", "options": {"$skipToken": "not-a-token"}}, "$skipToken"),
        ({"query": "resources", "subscriptions": [f"{n:08d}" for n in range(1001)]}, "at most 1000"),
        ({"subscriptions": []}, "'query' string"),
    ],
)
def test_queries_outside_the_subset_get_resource_graphs_error_body(
    demo: Callable[..., Emulator], body: dict[str, Any], detail: str
) -> None:
    answer = call(demo(), QUERY, method="POST", body=json.dumps(body).encode())
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == "BadRequest"
    assert error["details"][0]["code"] == "InvalidQuery"
    assert detail in error["details"][1]["message"]


def test_only_the_documented_api_versions_are_answered(demo: Callable[..., Emulator]) -> None:
    emulator = demo()
    for version in ("2022-10-01", "2021-03-01"):
        path = f"/providers/Microsoft.ResourceGraph/resources?api-version={version}"
        assert ask(emulator, "resources", path=path).status == 200
    refused = ask(emulator, "resources", path="/providers/Microsoft.ResourceGraph/resources?api-version=2019-04-01")
    assert (refused.status, refused.error_code) == (400, "InvalidApiVersionParameter")


def test_every_answer_carries_the_quota_and_the_quota_throttles(demo: Callable[..., Emulator]) -> None:
    emulator = demo(graph_quota=2, graph_quota_window=60.0)
    first, second, third = (ask(emulator, "resources") for _ in range(3))
    assert [first.status, second.status, third.status] == [200, 200, 429]
    assert [a.headers["x-ms-user-quota-remaining"] for a in (first, second, third)] == ["1", "0", "0"]
    assert third.error_code == "RateLimiting"
    resets = third.headers["x-ms-user-quota-resets-after"]
    hours, minutes, seconds = (int(part) for part in resets.split(":"))
    assert hours == 0 and 0 < minutes * 60 + seconds <= 60


def test_the_quota_window_resets() -> None:
    now = [0.0]
    quota = UserQuota(1, 5.0, clock=lambda: now[0])
    assert quota.take()[0] is True
    allowed, headers = quota.take()
    assert allowed is False and dict(headers)["x-ms-user-quota-resets-after"] == "00:00:05"
    now[0] = 5.0
    assert quota.take()[0] is True


def test_faults_apply_to_the_query_as_to_arm_routes(demo: Callable[..., Emulator]) -> None:
    faults = [Fault(pattern="ResourceGraph", methods=("POST",), status=503, retry_after="1", times=1)]
    emulator = demo(faults=faults)
    failed = ask(emulator, "resources")
    assert (failed.status, failed.error_code, failed.headers["retry-after"]) == (503, "ServiceUnavailable", "1")
    assert ask(emulator, "resources").status == 200
    assert [r.method for r in emulator.requests] == ["POST", "POST"]


def test_other_posts_are_still_refused(demo: Callable[..., Emulator]) -> None:
    emulator = demo()
    for path in (
        "/providers/Microsoft.ResourceGraph/resourcesHistory?api-version=2021-03-01",
        "/subscriptions/x/providers/Microsoft.KeyVault/vaults/kv/listKeys?api-version=1",
    ):
        answer = call(emulator, path, method="POST", body=b"{}")
        assert (answer.status, answer.error_code) == (405, "MethodNotAllowed")


@pytest.mark.parametrize(
    ("text", "types", "columns"),
    [
        ("Resources", None, None),
        ("resources | where type =~ 'A/B'", {"a/b"}, None),
        ("resources | where type in~ ('A/B', \"c/d\") | project id, name", {"a/b", "c/d"}, ("id", "name")),
        ("resources | where type == 'A/B'", {"A/B"}, None),
    ],
)
def test_the_query_subset(text: str, types: set[str] | None, columns: tuple[str, ...] | None) -> None:
    query = parse_query(text)
    assert query.table == "resources"
    assert query.types == (frozenset(types) if types is not None else None)
    assert query.columns == columns


@pytest.mark.parametrize("text", ["", "resources | where name =~ 'x'", "resources | extend x = 1", "resources |"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(QueryError):
        parse_query(text)


def test_an_estate_without_indexed_types_answers_empty() -> None:
    estate = Estate.from_dict(
        {
            "subscriptions": [{"subscriptionId": "s1", "displayName": "one", "state": "Enabled"}],
            "resources": [],
            "graph": {},
        },
        "test",
    )
    with Emulator(estate) as emulator:
        page = ask(emulator, "resources").json()
    assert (page["totalRecords"], page["data"]) == (0, [])


def test_the_command_line_sets_the_quota() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--estate", "e.json"]).graph_quota == 15
    assert parser.parse_args(["--estate", "e.json", "--graph-quota", "1000"]).graph_quota == 1000
    with pytest.raises(SystemExit):
        parser.parse_args(["--estate", "e.json", "--graph-quota", "0"])

"""Where each listing comes from: ARM, or Azure Resource Graph for the types it indexes.

``--source arm`` lists every type through ARM, one call per subscription and type (plus per-parent
calls). ``--source graph`` and ``--source auto`` start one Resource Graph query per table (the large
``resources`` table split by provider namespace, see ``query_key``) over the whole scope (up to 1,000
subscriptions a query) and answer the listings and per-parent steps below from its rows; everything
Resource Graph does not hold still comes from ARM. The queries run beside the ARM calls: a step answered
from rows starts when its query is done, the others at once. With ``graph`` a failed query makes its listings
fail for every subscription; with ``auto`` they fall back to ARM.

A query only returns rows the caller may read, so an empty answer for a subscription could mean "no
resources" or "no access". Resource Graph's own row for the subscription (``resourcecontainers``,
``microsoft.resources/subscriptions``) tells them apart: a subscription without it is not collected
(``graph``) or read from ARM (``auto``), never an empty listing.

Where Resource Graph rows differ from ARM GET (Microsoft's Resource Graph docs: "Understanding the
query language", the table and resource type reference):

- ``type`` is lower-cased in every row, and ``resourceGroup`` too. Ids mostly keep ARM's spelling, but
  their resource group part is sometimes lower-cased (reported in Azure/azure-sdk-for-python#37740 and
  Azure/azure-rest-api-specs#31379), so rows are filed and joined by id ignoring case.
- A VM row has no ``resources`` array: its extensions are rows of their own
  (``microsoft.compute/virtualmachines/extensions``), joined to the VM here by id, so no per-VM
  extension call is needed.
- SQL databases (``microsoft.sql/servers/databases``) are rows of ``resources``; recovery vaults' backup
  policies and protected items are rows of ``recoveryservicesresources``; resource groups are rows of
  ``resourcecontainers`` typed ``microsoft.resources/subscriptions/resourcegroups``; Defender plans
  are rows of ``securityresources``; role assignments of ``authorizationresources``.
- Not indexed, so always ARM: security contacts, key vault keys, SQL TDE and
  retention policies and encryption protectors, SQL VMs' Automated Backup settings, PIM eligibilities,
  backup storage configuration, firewall policy rule collection groups, web app configuration. Role
  definitions also stay on ARM: Resource Graph files built-in roles once at tenant scope, where ARM lists
  them per subscription as the records expect.
- Rows follow ARM changes with a delay (usually seconds to minutes); reports say when Resource Graph
  was used.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from auditor.collect.base import (
    COLLECTION_ERRORS,
    Enrichment,
    Listing,
    PerParent,
    Step,
    TenantListing,
    failure,
)
from auditor.collect.resource_graph import NotVisibleError, TableQuery, chunks, run_query
from auditor.collect.session import AzureSession
from auditor.inventory import Collection

Source = Literal["arm", "graph", "auto"]
SOURCES: tuple[Source, ...] = ("arm", "graph", "auto")
RESOURCE_GRAPH_API = "Microsoft.ResourceGraph/resources"
CONTAINERS_TABLE = "resourcecontainers"
SUBSCRIPTION_TYPE = "microsoft.resources/subscriptions"
ARM = "arm"
RESOURCE_GRAPH = "resource-graph"
# Tenant-wide listings (security defaults, conditional access, directory roles) read Microsoft Graph.
MICROSOFT_GRAPH = "microsoft-graph"

Row = Mapping[str, Any]


@dataclass(frozen=True)
class EachRow:
    """A listing builder that makes one record of each row on its own, so rows are built as they arrive
    and never held: a tenant's rows at once would take more memory than its records."""

    convert: Callable[[Row, str], Any]

    def __call__(self, rows: Sequence[Row], subscription_id: str) -> Iterator[Any]:
        for row in rows:
            yield self.convert(row, subscription_id)


@dataclass(frozen=True)
class GraphListing:
    """A subscription listing answered from Resource Graph rows of some types of one table."""

    api: str
    table: str
    types: tuple[str, ...]
    # The rows of one subscription (of every type above) -> its records.
    build: Callable[[Sequence[Row], str], Iterable[Any]]


@dataclass(frozen=True)
class GraphChildren:
    """A per-parent step answered from Resource Graph rows filed under their parent's id."""

    api: str
    table: str
    types: tuple[str, ...]
    # How many "/"-separated parts of a row's id make its parent's id ("" first).
    parent_parts: int
    build: Callable[[Sequence[Row], Any], Iterable[Any]]


GraphStep = GraphListing | GraphChildren


def graph_steps() -> tuple[GraphStep, ...]:
    """Every step Resource Graph can answer (built on first use: it imports the collectors' builders)."""
    from auditor.collect.graph_builders import GRAPH_STEPS  # noqa: PLC0415 - only scans that use the graph

    return GRAPH_STEPS


@dataclass
class _Rows:
    """Rows of one table query, by lower-case type, then by subscription or by parent id."""

    by_subscription: dict[tuple[str, str], list[Row]] = dataclasses.field(default_factory=dict)
    by_parent: dict[tuple[str, str], list[Row]] = dataclasses.field(default_factory=dict)
    # Records already built from rows (EachRow listings), and the listings whose building failed, by
    # (api, subscription).
    records: dict[tuple[str, str], list[Any]] = dataclasses.field(default_factory=dict)
    failed: dict[tuple[str, str], BaseException] = dataclasses.field(default_factory=dict)
    error: BaseException | None = None


@dataclass
class SourcePlan:
    """The steps to run, and (once every query is done) which source answered each field and how it went.

    A step answered from Resource Graph rows names its query in ``after``: it starts when the query is
    done, while the steps that do not read it go ahead.
    """

    steps: tuple[Step, ...]
    field_sources: dict[str, str]
    collections: tuple[Collection, ...] = ()


@contextlib.contextmanager
def planned_sources(
    session: AzureSession,
    subscriptions: Sequence[str],
    steps: Sequence[Step],
    source: Source,
    *,
    max_workers: int = 8,
) -> Iterator[SourcePlan]:
    """Start a Resource Graph query for every table the steps need, and swap in steps answered from its rows.

    The queries run in the background while the block collects; leaving the block waits for them and
    fills in the plan's field sources and query outcomes. The subscriptions' own rows are read first,
    since every step answered from rows needs them (see the module docstring).
    """
    fields = {s.api: s.field for s in steps if isinstance(s, Listing | PerParent)}
    field_sources = {s.field: MICROSOFT_GRAPH if isinstance(s, TenantListing) else ARM for s in steps}
    if source == "arm" or not subscriptions:
        yield SourcePlan(tuple(steps), field_sources)
        return
    wanted = [g for g in graph_steps() if g.api in fields]
    queries: dict[QueryKey, set[str]] = defaultdict(set)
    for wanted_step in wanted:
        queries[query_key(wanted_step)].update(wanted_step.types)
    queries[(CONTAINERS_TABLE, "")].add(SUBSCRIPTION_TYPE)
    parent_parts = {t: g.parent_parts for g in wanted if isinstance(g, GraphChildren) for t in g.types}
    eager = {t: g for g in wanted if isinstance(g, GraphListing) and isinstance(g.build, EachRow) for t in g.types}

    def query(key: QueryKey) -> tuple[_Rows, Collection]:
        return _query_table(session, key, sorted(queries[key]), subscriptions, parent_parts=parent_parts, eager=eager)

    containers = query((CONTAINERS_TABLE, ""))
    visible = frozenset(
        subscription for (kind, subscription) in containers[0].by_subscription if kind == SUBSCRIPTION_TYPE
    )
    others = [key for key in queries if key != (CONTAINERS_TABLE, "")]
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(others) or 1)), thread_name_prefix="graph")
    futures: dict[QueryKey, Future[tuple[_Rows, Collection]]] = {(CONTAINERS_TABLE, ""): _done(containers)}
    try:
        futures.update({key: pool.submit(query, key) for key in others})
        by_api = {g.api: g for g in wanted}
        replaced: list[Step] = []
        answered: list[tuple[str, QueryKey]] = []
        for step in steps:
            graph = by_api.get(step.api)
            if graph is None:
                replaced.append(step)
                continue
            key = query_key(graph)
            auto = source == "auto"
            if isinstance(step, Listing) and isinstance(graph, GraphListing):
                fetch = _listing_fetch(graph, futures[key], visible, step.fetch if auto else None)
                replaced.append(Listing(step.api, step.field, fetch, after=futures[key]))
            elif isinstance(step, PerParent) and isinstance(graph, GraphChildren):
                children = _children_fetch(graph, futures[key], visible, step.fetch if auto else None)
                replaced.append(dataclasses.replace(step, fetch=children, after=futures[key]))
            else:
                replaced.append(step)
                continue
            answered.append((step.field, key))
        plan = SourcePlan(tuple(replaced), field_sources)
        yield plan
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    results = {key: future.result() for key, future in futures.items()}
    for field, key in answered:
        # With ``auto`` a failed query's steps read ARM instead.
        if results[key][0].error is None or source != "auto":
            field_sources[field] = RESOURCE_GRAPH
    # A field Resource Graph fills that ARM calls then complete (SQL databases' TDE state) has both sources.
    for done in replaced:
        if (
            isinstance(done, Enrichment)
            and field_sources.get(done.field) == RESOURCE_GRAPH
            and not _skipped_for_graph(done)
        ):
            field_sources[done.field] = f"{RESOURCE_GRAPH}+{ARM}"
    plan.collections = tuple(outcome for _, outcome in results.values())


def _done(value: tuple[_Rows, Collection]) -> Future[tuple[_Rows, Collection]]:
    """A future that is already done (the subscriptions' query, read before the others)."""
    future: Future[tuple[_Rows, Collection]] = Future()
    future.set_result(value)
    return future


# One query per table, but the large ``resources`` table split by provider namespace: the queries page
# side by side instead of one long chain of pages, and stay well inside the user quota (15 per 5 s).
QueryKey = tuple[str, str]
_SPLIT_NAMESPACES = frozenset({"microsoft.compute", "microsoft.network"})


def query_key(step: GraphStep) -> QueryKey:
    """The query that answers a step: its table and, for ``resources``, its namespace group."""
    if step.table != "resources":
        return step.table, ""
    namespace = step.types[0].split("/", 1)[0]
    return step.table, namespace if namespace in _SPLIT_NAMESPACES else ""


def _skipped_for_graph(step: Enrichment) -> bool:
    """True for the one enrichment Resource Graph rows make needless: VM extensions are rows of their own."""
    return step.api == "Microsoft.Compute/virtualMachines/extensions"


def _query_table(
    session: AzureSession,
    key: QueryKey,
    types: Sequence[str],
    subscriptions: Sequence[str],
    *,
    parent_parts: Mapping[str, int],
    eager: Mapping[str, GraphListing],
) -> tuple[_Rows, Collection]:
    """Every row of the wanted types of one table over the scope, filed for the steps that read them."""
    table, namespace = key
    found = _Rows()
    spelling = {s.lower(): s for s in subscriptions}
    scope = f"/providers/Microsoft.ResourceGraph/resources?table={table}" + (
        f"&types={namespace}/*" if namespace else ""
    )
    count = 0
    try:
        for group in chunks(list(subscriptions)):
            for row in run_query(session, TableQuery(table, tuple(types), group)):
                kind = str(row.get("type", "")).lower()
                subscription = spelling.get(str(row.get("subscriptionId", "")).lower())
                if subscription is None:
                    continue
                count += 1
                parts = parent_parts.get(kind)
                listing = eager.get(kind)
                if parts is not None:
                    parent = "/".join(str(row.get("id", "")).split("/")[:parts]).lower()
                    found.by_parent.setdefault((kind, parent), []).append(row)
                elif listing is not None:
                    _build_now(found, listing, row, subscription)
                else:
                    found.by_subscription.setdefault((kind, subscription), []).append(row)
    except COLLECTION_ERRORS as exc:
        found = _Rows(error=exc)
        return found, failure(RESOURCE_GRAPH_API, "", scope, exc)
    return found, Collection(RESOURCE_GRAPH_API, "", scope, ok=True, items=count)


def _build_now(found: _Rows, listing: GraphListing, row: Row, subscription: str) -> None:
    """Build one row's record as it arrives; a row that cannot be built fails its listing, as in ARM."""
    key = (listing.api, subscription)
    if key in found.failed:
        return
    assert isinstance(listing.build, EachRow)
    try:
        found.records.setdefault(key, []).append(listing.build.convert(row, subscription))
    except COLLECTION_ERRORS as exc:
        found.failed[key] = exc
        found.records.pop(key, None)


def _unseen(subscription_id: str) -> NotVisibleError:
    return NotVisibleError(
        f"Resource Graph returned no row for subscription {subscription_id}: the credential may not read it, "
        "so its resources are unknown"
    )


def _listing_fetch(
    graph: GraphListing,
    query: Future[tuple[_Rows, Collection]],
    visible: frozenset[str],
    fallback: Callable[[AzureSession, str], Iterable[Any]] | None,
) -> Callable[[AzureSession, str], Iterator[Any]]:
    """A listing's fetch answered from a query's rows; a subscription Resource Graph did not show is an
    error (or, with a fallback, read from ARM), never an empty listing."""

    def fetch(session: AzureSession, subscription_id: str) -> Iterator[Any]:
        rows = query.result()[0]
        if rows.error is not None or subscription_id not in visible:
            if fallback is not None:
                yield from fallback(session, subscription_id)
                return
            raise rows.error or _unseen(subscription_id)
        if isinstance(graph.build, EachRow):
            failed = rows.failed.get((graph.api, subscription_id))
            if failed is not None:
                raise failed
            # Popped: each listing runs once per subscription, and the records then live in the inventory.
            yield from rows.records.pop((graph.api, subscription_id), [])
            return
        mine = [row for kind in graph.types for row in rows.by_subscription.pop((kind, subscription_id), ())]
        yield from graph.build(mine, subscription_id)

    return fetch


def _children_fetch(
    graph: GraphChildren,
    query: Future[tuple[_Rows, Collection]],
    visible: frozenset[str],
    fallback: Callable[[AzureSession, Any], Iterable[Any]] | None,
) -> Callable[[AzureSession, Any], Iterator[Any]]:
    """A per-parent step's fetch answered from a query's rows filed under the parent's id."""

    def fetch(session: AzureSession, parent: Any) -> Iterator[Any]:
        rows = query.result()[0]
        if rows.error is not None or parent.subscription_id not in visible:
            if fallback is not None:
                yield from fallback(session, parent)
                return
            raise rows.error or _unseen(parent.subscription_id)
        key = str(parent.id).lower()
        mine = [row for kind in graph.types for row in rows.by_parent.pop((kind, key), ())]
        yield from graph.build(mine, parent)

    return fetch


def rows_of(rows: Sequence[Row], kind: str) -> list[Row]:
    """The rows of one (lower-case) type."""
    return [row for row in rows if str(row.get("type", "")).lower() == kind]

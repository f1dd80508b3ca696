"""Run every collector over every subscription in scope, concurrently, into one Inventory.

Collection runs in phases: every listing first (all subscriptions, all services, in parallel), then
per-parent calls phase by phase, each phase in parallel over all its parents. A failure never stops the
scan: it becomes a Collection record that evaluation turns into ``error`` findings for its scope.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from azure.mgmt.resource.subscriptions import SubscriptionClient

from auditor.collect import (
    authorization,
    backup,
    compute,
    defender,
    firewall,
    graph,
    keys,
    keyvault,
    monitor,
    network,
    sql,
    storage,
    web,
)
from auditor.collect.base import (
    COLLECTION_ERRORS,
    Enrichment,
    Listing,
    PerParent,
    Step,
    TenantListing,
    failure,
    run_enrichment,
    run_listing,
    run_per_parent,
    run_tenant_listing,
    text,
)
from auditor.collect.session import AzureSession
from auditor.inventory import Collection, Inventory, Subscription

# Every collector, in no particular order: steps run by phase, and within a phase concurrently.
COLLECTORS = (
    network,
    firewall,
    compute,
    keyvault,
    keys,
    sql,
    storage,
    backup,
    defender,
    monitor,
    authorization,
    web,
    graph,
)
STEPS: tuple[Step, ...] = tuple(step for module in COLLECTORS for step in module.STEPS)
SUBSCRIPTIONS_API = "Microsoft.Resources/subscriptions"


def now() -> str:
    """The current UTC time in ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def visible_subscriptions(session: AzureSession) -> tuple[tuple[Subscription, ...], Collection]:
    """Every subscription the credential can see."""
    try:
        client = session.client(SubscriptionClient)
        found = tuple(
            Subscription(s.subscription_id or "", s.display_name or "", text(s.state) or "")
            for s in client.subscriptions.list()
        )
    except COLLECTION_ERRORS as exc:
        return (), failure(SUBSCRIPTIONS_API, "", "/subscriptions", exc)
    return found, Collection(SUBSCRIPTIONS_API, "", "/subscriptions", ok=True, items=len(found))


def resolve_scope(
    session: AzureSession, requested: Sequence[str] | None
) -> tuple[tuple[Subscription, ...], Collection]:
    """The subscriptions to scan: those requested (even if not listed), or every visible one."""
    visible, listing = visible_subscriptions(session)
    if not requested:
        return visible, listing
    by_id = {s.subscription_id.lower(): s for s in visible}
    chosen = tuple(by_id.get(sid.lower(), Subscription(sid, "", "Unknown")) for sid in requested)
    return chosen, listing


class _Collector:
    """The mutable state of one collection run: records by field and every Collection outcome."""

    def __init__(self, session: AzureSession, pool: ThreadPoolExecutor, scope: Sequence[Subscription]) -> None:
        self.session = session
        self.pool = pool
        self.scope = scope
        self.records: dict[str, list[Any]] = defaultdict(list)
        self.collections: list[Collection] = []

    def listings(self, steps: Sequence[Step]) -> None:
        jobs: list[tuple[str, Future[tuple[tuple[Any, ...], Collection]]]] = []
        for step in steps:
            if isinstance(step, Listing):
                jobs += [
                    (step.field, self.pool.submit(run_listing, self.session, step, sub.subscription_id))
                    for sub in self.scope
                ]
            elif isinstance(step, TenantListing):
                jobs.append((step.field, self.pool.submit(run_tenant_listing, self.session, step)))
        for field, job in jobs:
            found, outcome = job.result()
            self.records[field].extend(found)
            self.collections.append(outcome)

    def phase(self, steps: Sequence[PerParent | Enrichment]) -> None:
        """Run every per-parent step of one phase in parallel, then apply their results."""
        child_jobs = []
        enrich_jobs = []
        for step in steps:
            if isinstance(step, PerParent):
                parents = list(self.records[step.parent_field])
                child_jobs.append((step, [self._submit(run_per_parent, step, p) for p in parents]))
            else:
                positions = [i for i, r in enumerate(self.records[step.field]) if step.applies(r)]
                records = self.records[step.field]
                enrich_jobs.append(
                    (step, positions, [self._submit(run_enrichment, step, records[i]) for i in positions])
                )
        for step, futures in child_jobs:
            outcomes = [f.result() for f in futures]
            for children, _ in outcomes:
                self.records[step.field].extend(children)
            self._record(step.api, [c for _, c in outcomes])
        originals = {name: list(found) for name, found in self.records.items()}
        for enrichment, positions, futures in enrich_jobs:
            done = [f.result() for f in futures]
            records = self.records[enrichment.field]
            for position, (enriched, _) in zip(positions, done, strict=True):
                # Apply only what this enrichment changed, so several enrichments of one field in the same
                # phase each keep their part.
                records[position] = _merge(records[position], originals[enrichment.field][position], enriched)
            self._record(enrichment.api, [c for _, c in done])

    def _submit(self, runner: Callable[..., Any], step: Any, record: Any) -> Future[Any]:
        return self.pool.submit(runner, self.session, step, record)

    def _record(self, api: str, outcomes: list[Collection | None]) -> None:
        """Failures as they are, plus one success line per subscription where every call succeeded."""
        failures = [c for c in outcomes if c is not None]
        failed_subs = {c.subscription_id for c in failures}
        self.collections.extend(failures)
        self.collections.extend(
            Collection(api, sub.subscription_id, f"/subscriptions/{sub.subscription_id}", ok=True)
            for sub in self.scope
            if sub.subscription_id not in failed_subs
        )


def collect_inventory(
    session: AzureSession,
    subscriptions: Sequence[str] | None = None,
    *,
    resource_groups: Sequence[str] = (),
    max_workers: int = 8,
    steps: Sequence[Step] = STEPS,
) -> Inventory:
    """Collect every step for every subscription in scope; failures are recorded, never raised."""
    started = now()
    scope, subscription_listing = resolve_scope(session, subscriptions)
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect") as pool:
        run = _Collector(session, pool, scope)
        run.collections.append(subscription_listing)
        run.listings(steps)
        later = [s for s in steps if isinstance(s, PerParent | Enrichment)]
        for number in sorted({s.phase for s in later}):
            run.phase([s for s in later if s.phase == number])
    fields = {
        name: tuple(sorted(_in_groups(found, resource_groups), key=lambda r: r.id.lower()))
        for name, found in run.records.items()
    }
    return Inventory(
        source=session.arm_url,
        started_at=started,
        finished_at=now(),
        subscriptions=scope,
        collections=tuple(run.collections),
        resource_groups=tuple(resource_groups),
        **fields,
    )


def _merge(current: Any, original: Any, enriched: Any) -> Any:
    """``current`` with every field on which ``enriched`` differs from ``original``."""
    if enriched is original:
        return current
    changed = {
        f.name: getattr(enriched, f.name)
        for f in dataclasses.fields(original)
        if getattr(enriched, f.name) != getattr(original, f.name)
    }
    return dataclasses.replace(current, **changed) if changed else current


def _in_groups(records: list[Any], groups: Sequence[str]) -> list[Any]:
    """Records in the requested resource groups; subscription- and tenant-level records always stay."""
    if not groups:
        return records
    wanted = {g.lower() for g in groups}
    return [r for r in records if not getattr(r, "resource_group", "") or r.resource_group.lower() in wanted]

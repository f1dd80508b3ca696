"""Run every collector over every subscription in scope, concurrently, into one Inventory."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from azure.mgmt.resource.subscriptions import SubscriptionClient

from auditor.collect import compute, keyvault, network
from auditor.collect.base import (
    COLLECTION_ERRORS,
    Enrichment,
    Listing,
    failure,
    run_enrichment,
    run_listing,
    text,
)
from auditor.collect.session import AzureSession
from auditor.inventory import Collection, Inventory, Subscription

LISTINGS: tuple[Listing, ...] = network.LISTINGS + compute.LISTINGS + keyvault.LISTINGS
ENRICHMENTS: tuple[Enrichment, ...] = compute.ENRICHMENTS
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
) -> tuple[tuple[Subscription, ...], list[Collection]]:
    """The subscriptions to scan: those requested (even if not listed), or every visible one."""
    visible, listing = visible_subscriptions(session)
    if not requested:
        return visible, [listing]
    by_id = {s.subscription_id.lower(): s for s in visible}
    chosen = tuple(by_id.get(sid.lower(), Subscription(sid, "", "Unknown")) for sid in requested)
    return chosen, [listing]


def collect_inventory(
    session: AzureSession,
    subscriptions: Sequence[str] | None = None,
    *,
    max_workers: int = 8,
    listings: Sequence[Listing] = LISTINGS,
    enrichments: Sequence[Enrichment] = ENRICHMENTS,
) -> Inventory:
    """Collect every listing for every subscription in scope; failures are recorded, never raised."""
    started = now()
    scope, collections = resolve_scope(session, subscriptions)
    records: dict[str, list[Any]] = defaultdict(list)
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect") as pool:
        jobs = [
            (listing, pool.submit(run_listing, session, listing, sub.subscription_id))
            for sub in scope
            for listing in listings
        ]
        for listing, job in jobs:
            found, outcome = job.result()
            records[listing.field].extend(found)
            collections.append(outcome)
        for enrichment in enrichments:
            targets = records[enrichment.field]
            done = list(pool.map(lambda r, e=enrichment: run_enrichment(session, e, r), targets))
            records[enrichment.field] = [record for record, _ in done]
            collections.extend(_enrichment_outcomes(enrichment, scope, [c for _, c in done]))
    fields = {name: tuple(sorted(found, key=lambda r: r.id.lower())) for name, found in records.items()}
    return Inventory(
        source=session.arm_url,
        started_at=started,
        finished_at=now(),
        subscriptions=scope,
        collections=tuple(collections),
        **fields,
    )


def _enrichment_outcomes(
    enrichment: Enrichment, scope: Sequence[Subscription], outcomes: list[Collection | None]
) -> list[Collection]:
    """Failures as they are, plus one success line per subscription where every call succeeded."""
    failures = [c for c in outcomes if c is not None]
    failed_subs = {c.subscription_id for c in failures}
    successes = [
        Collection(enrichment.api, sub.subscription_id, f"/subscriptions/{sub.subscription_id}", ok=True)
        for sub in scope
        if sub.subscription_id not in failed_subs
    ]
    return failures + successes


def replace_records(inventory: Inventory, **fields: Any) -> Inventory:
    """A copy of the inventory with some fields replaced (used by tests and snapshots)."""
    return dataclasses.replace(inventory, **fields)

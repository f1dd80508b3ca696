"""Run every collector over every subscription in scope, concurrently, into one Inventory.

Collection runs in phases: every listing first (all subscriptions, all services, in parallel), then
per-parent calls phase by phase, each phase in parallel over all its parents. A failure never stops the
scan: it becomes a Collection record that evaluation turns into ``error`` findings for its scope.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from auditor.collect import (
    authorization,
    backup,
    compute,
    defender,
    eligibility,
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
    TENANT_SCOPE,
    Enrichment,
    Listing,
    PerParent,
    Reader,
    Step,
    TenantListing,
    arm_pipeline,
    failure,
    list_objects,
    path,
    run_enrichment,
    run_listing,
    run_per_parent,
    run_tenant_listing,
)
from auditor.collect.clients import SUBSCRIPTION_CLIENT
from auditor.collect.session import AzureSession, SessionRecipe
from auditor.collect.sources import Source, planned_sources
from auditor.gc_tuning import tune_for_scan
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
    eligibility,
    web,
    graph,
)
STEPS: tuple[Step, ...] = tuple(step for module in COLLECTORS for step in module.STEPS)
SUBSCRIPTIONS_API = "Microsoft.Resources/subscriptions"
# The api-version azure-mgmt-resource-subscriptions 1.0 sends.
SUBSCRIPTIONS_API_VERSION = "2022-12-01"


def tenant_wide(steps: Sequence[Step]) -> list[Step]:
    """Tenant-wide listings, and the per-parent steps over what they list: these run once, not per subscription."""
    fields = {s.field for s in steps if isinstance(s, TenantListing)}
    return [s for s in steps if isinstance(s, TenantListing) or (isinstance(s, PerParent) and s.parent_field in fields)]


def per_subscription(steps: Sequence[Step]) -> list[Step]:
    """Every step that runs once for each subscription."""
    once = tenant_wide(steps)
    return [s for s in steps if s not in once]


@dataclass(frozen=True)
class ProgressEvent:
    """One piece of collection finished; the first event of a run, kind "plan", announces what is to come."""

    # listing: one listing of one subscription (or a tenant-wide one, subscription ""); phase: one
    # per-parent step over every parent of one subscription; subscription: its listings are all done.
    kind: Literal["plan", "listing", "phase", "subscription"]
    api: str = ""
    subscription_id: str = ""
    ok: bool = True
    # plan only: the subscriptions in scope, and how many listing and phase events each API will send.
    subscriptions: tuple[str, ...] = ()
    expected: Mapping[str, int] = dataclasses.field(default_factory=dict)


Progress = Callable[[ProgressEvent], None]


class _ProgressRelay:
    """Delivers progress events one at a time from any thread, and notices finished subscriptions."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.lock = threading.Lock()
        self.pending: Counter[str] = Counter()

    def expect_listings(self, subscription_id: str, count: int) -> None:
        """Count the listings a subscription has to finish before it is done."""
        with self.lock:
            self.pending[subscription_id] += count

    def listing_done(self, api: str, subscription_id: str, job: Future[tuple[Any, Collection]]) -> None:
        """Done-callback of a listing job; runs in the worker thread that finished it."""
        if self.progress is None or job.cancelled():
            # A cancelled listing (the run was interrupted) has nothing to report.
            return
        ok = job.exception() is None and job.result()[1].ok
        with self.lock:
            self.progress(ProgressEvent("listing", api, subscription_id, ok))
            if subscription_id:
                self.pending[subscription_id] -= 1
                if self.pending[subscription_id] == 0:
                    self.progress(ProgressEvent("subscription", subscription_id=subscription_id))

    def emit(self, event: ProgressEvent) -> None:
        """Deliver one event, if anyone listens."""
        if self.progress is not None:
            with self.lock:
                self.progress(event)


def now() -> str:
    """The current UTC time in ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def visible_subscriptions(session: AzureSession) -> tuple[tuple[Subscription, ...], Collection]:
    """Every subscription the credential can see."""
    try:
        pipeline = arm_pipeline(session, SUBSCRIPTION_CLIENT)
        items = list_objects(pipeline, session.arm_url, path("/subscriptions", api_version=SUBSCRIPTIONS_API_VERSION))
        found = tuple(
            Subscription(r.text("subscriptionId") or "", r.text("displayName") or "", r.text("state") or "")
            for r in (Reader(item) for item in items)
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


@dataclass
class _Slot:
    """One listing of one subscription ("" for a tenant-wide one), and its job once started."""

    step: Listing | TenantListing
    subscription_id: str
    job: Future[tuple[tuple[Any, ...], Collection]] | None = None


class _Collector:
    """The mutable state of one collection run: records by field and every Collection outcome.

    A step starts as soon as what it reads is in, not when every listing is: a vault's keys are read
    while a Resource Graph query for the VMs still waits for quota. Only the driver thread (see ``run``)
    touches the records; pool threads and queries just wake it when something finishes.
    """

    def __init__(
        self,
        session: AzureSession,
        pool: ThreadPoolExecutor,
        scope: Sequence[Subscription],
        relay: _ProgressRelay | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.session = session
        self.pool = pool
        self.scope = scope
        self.records: dict[str, list[Any]] = defaultdict(list)
        self.collections: list[Collection] = []
        self.relay = relay or _ProgressRelay(None)
        # Set when anything this run waits for finishes (or the run is being stopped).
        self.changed = threading.Event()
        self.stopping = stopping or threading.Event()
        self.slots: dict[str, list[_Slot]] = defaultdict(list)
        self.taken: set[str] = set()

    def run(self, steps: Sequence[Step]) -> _Collector:
        """Every listing, then the per-parent phases in order, each step once its inputs are in."""
        self.listings(steps)
        later = [s for s in steps if isinstance(s, PerParent | Enrichment)]
        for number in sorted({s.phase for s in later}):
            self.phase([s for s in later if s.phase == number])
        for field in list(self.slots):
            self._take(field)
        return self

    def wake(self, _: object = None) -> None:
        """Done-callback of everything the run waits for."""
        self.changed.set()

    def listings(self, steps: Sequence[Step]) -> None:
        """Start every listing whose source is ready; the others start as their queries finish."""
        count = sum(isinstance(step, Listing) for step in steps)
        for sub in self.scope:
            self.relay.expect_listings(sub.subscription_id, count)
        for step in steps:
            if isinstance(step, Listing):
                if step.after is not None:
                    step.after.add_done_callback(self.wake)
                self.slots[step.field].extend(_Slot(step, sub.subscription_id) for sub in self.scope)
            elif isinstance(step, TenantListing):
                self.slots[step.field].append(_Slot(step, ""))
        for field in self.slots:
            self._ready(field)

    def phase(self, steps: Sequence[PerParent | Enrichment]) -> None:
        """Start every per-parent step of one phase as its input is in, then apply their results."""
        child_jobs = []
        enrich_jobs = []
        pending = list(steps)
        for step in pending:
            if isinstance(step, PerParent) and step.after is not None:
                step.after.add_done_callback(self.wake)
        while pending:
            self.changed.clear()
            ready = [step for step in pending if self._can_start(step)]
            if not ready:
                self._wait()
                continue
            for step in ready:
                pending.remove(step)
                if isinstance(step, PerParent):
                    parents = list(self._take(step.parent_field))
                    child_jobs.append((step, [self._submit(run_per_parent, step, p) for p in parents]))
                else:
                    records = self._take(step.field)
                    positions = [i for i, r in enumerate(records) if step.applies(r)]
                    enrich_jobs.append(
                        (step, positions, [self._submit(run_enrichment, step, records[i]) for i in positions])
                    )
        for step, futures in child_jobs:
            outcomes = [f.result() for f in futures]
            found = self._take(step.field)
            for children, _ in outcomes:
                found.extend(children)
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

    def _can_start(self, step: PerParent | Enrichment) -> bool:
        if isinstance(step, PerParent):
            return (step.after is None or step.after.done()) and self._ready(step.parent_field)
        return self._ready(step.field)

    def _ready(self, field: str) -> bool:
        """Start the field's listings whose source is ready; True once every one of them is done."""
        done = True
        for slot in self.slots.get(field, ()):
            after = slot.step.after if isinstance(slot.step, Listing) else None
            if slot.job is None and (after is None or after.done()):
                slot.job = self._start(slot)
            done = done and slot.job is not None and slot.job.done()
        return done

    def _start(self, slot: _Slot) -> Future[tuple[tuple[Any, ...], Collection]]:
        if isinstance(slot.step, Listing):
            job = self.pool.submit(run_listing, self.session, slot.step, slot.subscription_id)
        else:
            job = self.pool.submit(run_tenant_listing, self.session, slot.step)
        self._watch(job, slot.step.api, slot.subscription_id)
        job.add_done_callback(self.wake)
        return job

    def _take(self, field: str) -> list[Any]:
        """The field's records, once every listing of it is done (waiting for them here)."""
        while True:
            self.changed.clear()
            if self._ready(field):
                break
            self._wait()
        if field not in self.taken:
            self.taken.add(field)
            for slot in self.slots.get(field, ()):
                assert slot.job is not None
                found, outcome = slot.job.result()
                self.records[field].extend(found)
                self.collections.append(outcome)
        return self.records[field]

    def _wait(self) -> None:
        """Until something this run waits for finishes; a run being stopped stops here."""
        # Checked before as well: the stop's wake-up may have come before the caller cleared ``changed``.
        if not self.stopping.is_set():
            self.changed.wait()
        if self.stopping.is_set():
            raise CancelledError

    def _submit(self, runner: Callable[..., Any], step: Any, record: Any) -> Future[Any]:
        return self.pool.submit(runner, self.session, step, record)

    def _watch(self, job: Future[tuple[tuple[Any, ...], Collection]], api: str, subscription_id: str) -> None:
        # Reported as each listing finishes, not in the order they are collected, so a slow listing does
        # not hold the display back.
        job.add_done_callback(lambda done: self.relay.listing_done(api, subscription_id, done))

    def _record(self, api: str, outcomes: list[Collection | None]) -> None:
        """Failures as they are, plus one success line per subscription where every call succeeded."""
        failures = [c for c in outcomes if c is not None]
        subscription = self.scope[0].subscription_id if len(self.scope) == 1 else ""
        self.relay.emit(ProgressEvent("phase", api, subscription, ok=not failures))
        failed_subs = {c.subscription_id for c in failures}
        self.collections.extend(failures)
        if not self.scope and not failures:
            # The tenant-wide run (no subscription) records its success once, at the tenant scope.
            self.collections.append(Collection(api, "", TENANT_SCOPE, ok=True))
        self.collections.extend(
            Collection(api, sub.subscription_id, f"/subscriptions/{sub.subscription_id}", ok=True)
            for sub in self.scope
            if sub.subscription_id not in failed_subs
        )


def _collection_order(collection: Collection) -> tuple[str, str, str]:
    return (collection.api, collection.subscription_id, collection.scope.lower())


def collect_inventory(
    session: AzureSession,
    subscriptions: Sequence[str] | None = None,
    *,
    resource_groups: Sequence[str] = (),
    max_workers: int = 8,
    processes: int = 1,
    steps: Sequence[Step] = STEPS,
    progress: Progress | None = None,
    source: Source = "arm",
) -> Inventory:
    """Collect every step for every subscription in scope; failures are recorded, never raised.

    ``max_workers`` bounds the requests in flight. With ``processes`` > 1 the subscriptions are shared
    among worker processes (each with max_workers / processes threads), because turning API answers into
    records is CPU-bound and one interpreter runs it on one core. ``progress`` is called, one call at a
    time but from any thread, as each piece of collection finishes; it must be quick. ``source`` picks
    ARM or Azure Resource Graph for the types Resource Graph indexes (see ``auditor.collect.sources``);
    listings answered from Resource Graph rows run in this process, whatever ``processes`` says.
    """
    started = now()
    # The bound covers Resource Graph queries too, which run beside the ARM calls (see planned_sources).
    session.in_flight.set_limit(max_workers)
    scope, subscription_listing = resolve_scope(session, subscriptions)
    ids = [s.subscription_id for s in scope]
    with planned_sources(session, ids, steps, source, max_workers=max_workers) as sources:
        steps = sources.steps
        parallel = processes > 1 and len(scope) > 1 and session.recipe is not None and tuple(steps) == STEPS
        relay = _ProgressRelay(progress)
        relay.emit(_plan(scope, tenant_wide(steps) if parallel else steps))
        if parallel:
            workers = min(processes, len(scope))
            records, collections = _collect_in_processes(session, scope, max_workers, workers, relay)
        else:
            records, collections = _collect_in_threads(session, scope, steps, max_workers, relay)
    fields = {
        name: tuple(sorted(_in_groups(found, resource_groups), key=lambda r: r.id.lower()))
        for name, found in records.items()
    }
    return Inventory(
        source=session.arm_url,
        started_at=started,
        finished_at=now(),
        subscriptions=scope,
        # In a fixed order, not the order calls happened to finish in: reports and findings about failed
        # scopes then read the same from one run to the next.
        collections=(subscription_listing, *sources.collections, *sorted(collections, key=_collection_order)),
        resource_groups=tuple(resource_groups),
        field_sources=tuple(sorted(sources.field_sources.items())),
        **fields,  # type: ignore[arg-type]  # every field named here holds a tuple of records
    )


Collected = tuple[dict[str, list[Any]], list[Collection]]


def _plan(scope: Sequence[Subscription], steps: Sequence[Step]) -> ProgressEvent:
    """The plan event: how many listing and phase events each API will send for these steps."""
    expected: Counter[str] = Counter()
    once = tenant_wide(steps)
    for step in steps:
        # Every step but the tenant-wide ones runs, and reports, once per subscription.
        expected[step.api] += 1 if step in once else len(scope)
    return ProgressEvent("plan", subscriptions=tuple(s.subscription_id for s in scope), expected=dict(expected))


def _collect_in_threads(
    session: AzureSession,
    scope: Sequence[Subscription],
    steps: Sequence[Step],
    max_workers: int,
    relay: _ProgressRelay | None = None,
) -> Collected:
    """Every step over the scope in this process: each subscription goes through its phases on its own.

    A subscription's per-parent calls start as soon as the listings they read are in, so the CPU-heavy
    decoding of one subscription's large pages overlaps with another's many small per-parent calls, and
    calls that need no Resource Graph rows run while its queries wait for quota. All calls
    share one pool, which bounds the requests in flight.
    """
    tenant_steps = tenant_wide(steps)
    scoped_steps = per_subscription(steps)
    stopping = threading.Event()
    with (
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect") as pool,
        ThreadPoolExecutor(max_workers=len(scope) + 1, thread_name_prefix="subscription") as drivers,
    ):
        collectors = [(_Collector(session, pool, (), relay, stopping), tenant_steps)]
        collectors += [(_Collector(session, pool, (sub,), relay, stopping), scoped_steps) for sub in scope]
        try:
            runs = [drivers.submit(run.run, run_steps) for run, run_steps in collectors]
            records: dict[str, list[Any]] = defaultdict(list)
            collections: list[Collection] = []
            for done in runs:
                run = done.result()
                for name, found in run.records.items():
                    records[name].extend(found)
                collections.extend(run.collections)
        except BaseException:
            # An interrupt (or any failure here) drops every call not yet started, so leaving the ``with``
            # waits only for the requests in flight: a driver waiting on a cancelled call stops there, and
            # one that tries to submit another is refused; one waiting for its inputs is woken to stop.
            stopping.set()
            for run, _ in collectors:
                run.wake()
            drivers.shutdown(wait=False, cancel_futures=True)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return dict(records), collections


def _collect_in_processes(
    session: AzureSession,
    scope: Sequence[Subscription],
    max_workers: int,
    processes: int,
    relay: _ProgressRelay | None = None,
) -> Collected:
    """Tenant-wide listings here; subscription-scoped steps in worker processes, a share of subscriptions each."""
    assert session.recipe is not None
    relay = relay or _ProgressRelay(None)
    records, collections = _collect_in_threads(session, (), tenant_wide(STEPS), max_workers, relay)
    shares = [tuple(scope[i::processes]) for i in range(processes)]
    workers = max(1, max_workers // processes)
    # "spawn" starts clean interpreters: forking a process that already runs threads is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_start_worker) as pool:
        try:
            with _interrupts_blocked():
                # The workers start here; they inherit the blocked SIGINT and keep it away until they ignore it.
                jobs = [pool.submit(_collect_share, session.recipe, share, workers) for share in shares]
            for job, share in zip(jobs, shares, strict=True):
                (share_records, share_collections), sent = job.result()
                session.add_requests(sent)
                for name, found in share_records.items():
                    records.setdefault(name, []).extend(found)
                collections.extend(share_collections)
                # A worker process cannot call back into this one, so its subscriptions report when it is done.
                for subscription in share:
                    relay.emit(ProgressEvent("subscription", subscription_id=subscription.subscription_id))
        except BaseException:
            _stop_workers(pool)
            raise
    return records, collections


@contextlib.contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Hold SIGINT back from this thread for the block; one that came meanwhile is delivered at its end."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _start_worker() -> None:
    """In a worker process: scan-sized GC thresholds, and SIGINT ignored (Ctrl-C reaches the whole group)."""
    tune_for_scan()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Started with SIGINT blocked (see _interrupts_blocked): one pending now is discarded, being ignored.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the worker processes at once, mid-request, and drop the shares not yet started."""
    # The executor has no public way to end its workers before Python 3.14; shutdown forgets them, so
    # they are taken first.
    workers = list((pool._processes or {}).values())
    for process in workers:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.join(timeout=5)


def _collect_share(recipe: SessionRecipe, share: tuple[Subscription, ...], workers: int) -> tuple[Collected, int]:
    """In a worker process: every subscription-scoped step over a share of the subscriptions."""
    subscription_steps = per_subscription(STEPS)
    with recipe.build(max_connections=workers) as session:
        return _collect_in_threads(session, share, subscription_steps, workers), session.requests_sent


def _merge(current: Any, original: Any, enriched: Any) -> Any:
    """``current`` with every field on which ``enriched`` differs from ``original``."""
    if enriched is original:
        return current
    changed = {
        f.name: getattr(enriched, f.name)
        for f in dataclasses.fields(original)
        if getattr(enriched, f.name) != getattr(original, f.name)
    }
    if "unreadable" in changed:
        # Several enrichments may each add problems to one record: keep every one of them.
        added = tuple(p for p in enriched.unreadable if p not in original.unreadable)
        changed["unreadable"] = current.unreadable + added
    return dataclasses.replace(current, **changed) if changed else current


def _in_groups(records: list[Any], groups: Sequence[str]) -> list[Any]:
    """Records in the requested resource groups; subscription- and tenant-level records always stay."""
    if not groups:
        return records
    wanted = {g.lower() for g in groups}
    return [r for r in records if not getattr(r, "resource_group", "") or r.resource_group.lower() in wanted]

"""Run the baseline's checks over an inventory and turn their results into findings."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.arm_ids import key
from auditor.attestations import Attestation, apply_attestations
from auditor.baseline import Baseline, Control
from auditor.inventory import RESOURCE_GRAPH_NOTE, RESOURCE_GRAPH_SOURCE, Collection, Inventory
from auditor.model import CheckResult, Finding, Status, Verdict, erroring, rollup
from auditor.parameters import Params
from auditor.records.unreadable import Unreadable
from auditor.registry import CheckSpec, RegisteredCheck, Registry
from auditor.results import ControlSummary, ScanMetadata, ScanResult
from auditor.waivers import Waiver, apply_waivers

NOT_IMPLEMENTED = "not implemented"


def evaluate(
    inventory: Inventory,
    baseline: Baseline,
    registry: Registry,
    params: Params,
    *,
    attestations: Sequence[Attestation] = (),
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
    root: Path | None = None,
) -> ScanResult:
    """Every control of the baseline judged over the inventory, then attestations and waivers applied.

    Attestations and waivers are real-world documents, so their expiry is judged against ``today``
    (the evaluation date), not against the moment the inventory describes. Reports name the baseline
    relative to ``root`` (default: the working directory), never by an absolute path.
    """
    failures = inventory.failed_collections()
    findings: list[Finding] = []
    unread = unreadable_index(inventory)
    context = resource_context(inventory)
    for control in baseline.controls:
        findings.extend(
            _control_findings(control, inventory, failures, registry, params, unread=unread, context=context)
        )
    day = today or datetime.now(UTC).date()
    findings = apply_attestations(findings, attestations, day)
    findings, warnings = apply_waivers(findings, waivers, day)
    by_control: dict[str, list[Finding]] = {}
    for finding in findings:
        by_control.setdefault(finding.control_id, []).append(finding)
    summaries = [
        control_summary(control, by_control.get(control.id, []), rationale=_rationale(control, registry))
        for control in baseline.controls
    ]
    return ScanResult(
        metadata=_metadata(inventory, baseline, params, root or Path.cwd()),
        controls=tuple(summaries),
        findings=tuple(findings),
        collections=inventory.collections,
        warnings=tuple(warnings),
    )


def _control_findings(
    control: Control,
    inventory: Inventory,
    failures: tuple[Collection, ...],
    registry: Registry,
    params: Params,
    *,
    unread: dict[str, tuple[Unreadable, ...]],
    context: Mapping[str, ResourceContext],
) -> Iterable[Finding]:
    if control.is_manual:
        yield control_level_finding(control, "", Status.MANUAL, f"Needs an attestation: {control.description}")
        return
    if not control.checks:
        yield control_level_finding(control, "", Status.ERROR, NOT_IMPLEMENTED)
        return
    for check_id in control.checks:
        yield from _run_check(control, registry[check_id], inventory, failures, params, unread=unread, context=context)


def _run_check(
    control: Control,
    registered: RegisteredCheck,
    inventory: Inventory,
    failures: tuple[Collection, ...],
    params: Params,
    *,
    unread: dict[str, tuple[Unreadable, ...]],
    context: Mapping[str, ResourceContext],
) -> Iterable[Finding]:
    spec = registered.spec
    attempted = {c.api for c in inventory.collections}
    never = [api for api in spec.requires if api not in attempted]
    if never:
        # Data the check needs was not collected at all: judging without it would pass by absence.
        message = f"not collected by this scan: {', '.join(never)}"
        yield control_level_finding(control, spec.id, Status.ERROR, message)
        return
    broken = [c for c in failures if c.api in spec.requires]
    for collection in broken:
        # The scope could not be read, so nothing in it can be called compliant.
        yield _finding(
            context,
            control,
            registered,
            CheckResult(
                resource_id=collection.scope,
                resource_type=collection.api,
                subscription_id=collection.subscription_id,
                status=Status.ERROR,
                message=collection.describe(),
                evidence={
                    "api": collection.api,
                    "status_code": collection.status_code,
                    "error_code": collection.error_code,
                    "reason": collection.reason,
                },
            ),
        )
    # A failed listing hides its subscription from the check; a failed per-parent call only its parent.
    whole = frozenset(c.subscription_id for c in broken if _is_subscription_scope(c))
    parents = frozenset(c.scope for c in broken if not _is_subscription_scope(c))
    view = inventory.without_scopes(whole, parents)
    try:
        results = judge_each(registered, view, params)
    except Exception as exc:  # noqa: BLE001 - a crashing check must surface as an error, never as a pass
        yield control_level_finding(
            control, spec.id, Status.ERROR, f"check {spec.id} failed: {type(exc).__name__}: {exc}"
        )
        return
    results = judged_with_unreadable(spec, results, view, unread)
    for result in results:
        yield _finding(context, control, registered, result)
    if not results and not broken:
        yield control_level_finding(control, spec.id, Status.NOT_APPLICABLE, f"No {spec.subject} in scope")


def judge_each(registered: RegisteredCheck, inventory: Inventory, params: Params) -> list[CheckResult]:
    """The rule's judge applied to every record it is about; a judge that crashes costs that record only."""
    results: list[CheckResult] = []
    own = registered.own(params.at(inventory.reference_time))
    for record in registered.spec.subjects(inventory):
        try:
            verdict = registered.judge(record, own)
        except Exception as exc:  # noqa: BLE001 - one record's crash is that record's error, never a pass
            verdict = erroring(f"check {registered.spec.id} failed on this resource: {type(exc).__name__}: {exc}")
        if verdict is not None:
            results.append(result_of(record, verdict))
    return results


def result_of(record: Any, verdict: Verdict) -> CheckResult:
    """A verdict about a record, addressed to the record's id, type and subscription."""
    return CheckResult(
        resource_id=record.id,
        resource_type=record.type,
        subscription_id=record.subscription_id,
        status=verdict.status,
        message=verdict.message,
        evidence=verdict.evidence,
        severity=verdict.severity,
    )


def _is_subscription_scope(collection: Collection) -> bool:
    return (
        not collection.subscription_id
        or key(collection.scope) == f"/subscriptions/{collection.subscription_id}".lower()
    )


def unreadable_index(inventory: Inventory) -> dict[str, tuple[Unreadable, ...]]:
    """Every record with fields the collector could not read, by canonical id."""
    found: dict[str, tuple[Unreadable, ...]] = {}
    for name in inventory.resource_fields():
        for record in getattr(inventory, name):
            problems = getattr(record, "unreadable", ())
            if problems:
                found[key(record.id)] = found.get(key(record.id), ()) + tuple(problems)
    return found


def judged_with_unreadable(
    spec: CheckSpec,
    results: Sequence[CheckResult],
    inventory: Inventory,
    unread: dict[str, tuple[Unreadable, ...]],
) -> list[CheckResult]:
    """The check's results with unreadable fields applied, plus an error for every record of a judged type
    that has unreadable fields and got no result (a check may skip what it cannot classify).

    A check with no results at all is not "not applicable" while a record of any type it reads is unreadable:
    that record may be the one it would have judged.
    """
    if not unread:
        # Nothing anywhere in the inventory was unreadable, so nothing in the check's view is either.
        return list(results)
    judged = [with_unreadable(r, unread) for r in results]
    covered = {key(r.resource_id) for r in results}
    kinds = set(spec.resource_types) | (set(spec.requires) if not results else set())
    for name in inventory.resource_fields():
        for record in getattr(inventory, name):
            problems: tuple[Unreadable, ...] = getattr(record, "unreadable", ())
            if problems and record.type in kinds and key(record.id) not in covered:
                judged.append(
                    CheckResult(
                        resource_id=record.id,
                        resource_type=record.type,
                        subscription_id=record.subscription_id,
                        status=Status.ERROR,
                        message="cannot be judged: Azure returned unreadable values: "
                        + "; ".join(p.describe() for p in problems[:5]),
                        evidence={"unreadable": [p.describe() for p in problems]},
                    )
                )
    return judged


def with_unreadable(result: CheckResult, unread: dict[str, tuple[Unreadable, ...]]) -> CheckResult:
    """A pass or not-applicable about a resource with unread fields becomes an error naming them."""
    if result.status not in {Status.PASS, Status.NOT_APPLICABLE}:
        return result
    problems = unread.get(key(result.resource_id))
    if not problems:
        return result
    named = "; ".join(p.describe() for p in problems[:5]) + ("; ..." if len(problems) > 5 else "")
    evidence = dict(result.evidence) | {"unreadable": [p.describe() for p in problems], "would_be": result.status.value}
    return dataclasses.replace(
        result,
        status=Status.ERROR,
        message=f"cannot be judged: Azure returned unreadable values: {named}",
        evidence=evidence,
    )


def _finding(
    context: Mapping[str, ResourceContext], control: Control, registered: RegisteredCheck, result: CheckResult
) -> Finding:
    region, tags = context.get(result.resource_id.lower(), NO_CONTEXT) if result.resource_id else NO_CONTEXT
    return Finding(
        control_id=control.id,
        check_id=registered.spec.id,
        title=control.title,
        status=result.status,
        severity=result.severity or control.severity,
        resource_id=result.resource_id,
        resource_type=result.resource_type,
        subscription_id=result.subscription_id,
        message=result.message,
        evidence=dict(result.evidence),
        remediation=registered.spec.remediation.as_text() if result.status is not Status.PASS else "",
        frameworks=control.frameworks,
        region=region,
        tags=tags,
    )


def control_level_finding(control: Control, check_id: str, status: Status, message: str) -> Finding:
    """A finding about the control as a whole rather than about one resource."""
    return Finding(
        control_id=control.id,
        check_id=check_id,
        title=control.title,
        status=status,
        severity=control.severity,
        resource_id="",
        resource_type="",
        subscription_id="",
        message=message,
        frameworks=control.frameworks,
    )


# A resource's region and tags, as its inventory record holds them.
ResourceContext = tuple[str, Mapping[str, str]]
NO_CONTEXT: ResourceContext = ("", {})


def resource_context(inventory: Inventory) -> dict[str, ResourceContext]:
    """The region and tags of every record that has either, by lower-cased id, for findings about it."""
    found: dict[str, ResourceContext] = {}
    for name in inventory.resource_fields():
        for record in getattr(inventory, name):
            region = getattr(record, "location", "") or ""
            tags = getattr(record, "tags", None)
            if region or tags:
                rid = str(getattr(record, "id", "")).lower()
                if rid not in found:
                    found[rid] = (str(region), {str(k): str(v) for k, v in tags.items()} if tags else {})
    return found


def report_path(path: str, root: Path) -> str:
    """A file as reports name it: relative to root (forward slashes) when inside it, else its file name."""
    if not path:
        return ""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.name


def _rationale(control: Control, registry: Registry) -> str:
    texts = dict.fromkeys(registry[c].spec.rationale for c in control.checks if c in registry)
    return " ".join(text for text in texts if text)


def control_summary(control: Control, findings: list[Finding], *, rationale: str = "") -> ControlSummary:
    """A control's roll-up: its status from its findings' statuses, and their counts."""
    counts = Counter(f.status.value for f in findings)
    return ControlSummary(
        id=control.id,
        title=control.title,
        area=control.area,
        severity=control.severity,
        mode=control.mode,
        quote=control.quote,
        description=control.description,
        status=rollup([f.status for f in findings]),
        counts={status.value: counts.get(status.value, 0) for status in Status},
        frameworks=control.frameworks,
        line=control.line,
        rationale=rationale,
    )


def _metadata(inventory: Inventory, baseline: Baseline, params: Params, root: Path) -> ScanMetadata:
    return ScanMetadata(
        tool_version=__version__,
        started_at=inventory.started_at,
        finished_at=inventory.finished_at,
        source=inventory.source,
        subscriptions=tuple(s.subscription_id for s in inventory.subscriptions),
        baseline_path=report_path(baseline.path, root),
        baseline_sha256=baseline.sha256,
        baseline_name=baseline.name,
        parameters={name: list(v) if isinstance(v, tuple) else v for name, v in params.values.items()},
        as_of=inventory.reference_time.isoformat(),
        weakened_parameters=dict(params.weakened),
        subscription_names={s.subscription_id: s.display_name for s in inventory.subscriptions if s.display_name},
        principal_names=_principal_names(inventory),
        collection_sources=inventory.collection_sources(),
        collection_note=RESOURCE_GRAPH_NOTE if RESOURCE_GRAPH_SOURCE in inventory.collection_sources() else "",
        tls_endpoints=inventory.tls_scope,
    )


def _principal_names(inventory: Inventory) -> dict[str, str]:
    """Object id -> user principal name (or display name) of every user Microsoft Graph returned."""
    names: dict[str, str] = {}
    for user in inventory.user_registrations:
        name = user.user_principal_name or user.display_name or ""
        if user.id and name:
            names[user.id] = name
    return names

"""report.html: a self-contained page for people, rendered from a jinja2 template with autoescaping."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from auditor.drift import Changes
from auditor.history.charts import chart_height, trend_charts
from auditor.history.marks import with_age_notes
from auditor.model import GATING_STATUSES, Finding, Severity, Status, rollup
from auditor.reports.display import report_file, visible_bidi
from auditor.reports.evidence import evidence_pairs, json_text
from auditor.reports.frameworks import views
from auditor.reports.outline import (
    controls_by_area,
    controls_by_status,
    display_name,
    failed_collections,
    findings_by_control,
    findings_with_status,
    orphan_findings,
    subscriptions_seen,
)
from auditor.results import (
    SCORED_STATUSES,
    SEVERITY_WEIGHTS,
    ControlSummary,
    PostureScore,
    ScanMetadata,
    ScanResult,
    posture_score,
)

FORMAT = "html"
FILENAME = "report.html"
TEMPLATE = "report.html.j2"
# Inlined into the page by the template; hashed here so the page's CSP allows exactly these and nothing else.
STYLESHEET = "report.css"
SCRIPT = "report.js"

# Up to this many findings every control's table starts open and evidence is a key/value table; beyond it
# tables start collapsed, so a browser lays out only the headers of a large report until a reader opens a
# control, and evidence is "key: value" lines, which keep a 50,000-finding report within its size budget.
OPEN_TABLES_LIMIT = 1000
# Waivers and attestations ending within this many days of the scan are highlighted.
EXPIRY_WARNING_DAYS = 30
# Lists in the manual and waiver sections longer than this start collapsed.
OPEN_LIST_LIMIT = 200
UNLISTED_AREA = "Findings of controls not in the baseline"

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# The executive summary names at most this many controls, so that it prints on one page.
EXECUTIVE_CONTROLS = 8

# Geometry of the summary chart, in SVG user units.
CHART_LABEL_WIDTH = 200
CHART_BAR_WIDTH = 380
CHART_ROW_HEIGHT = 24
CHART_BAR_HEIGHT = 16
CHART_LABEL_CHARS = 24


@dataclass(frozen=True)
class FindingRow:
    """A finding as one light table row: four cells of plain text, lines split by newlines.

    A report may hold 50,000 rows and a browser's cost is mostly per element, so each row is a <tr> with
    four <td> and no markup inside them; the stylesheet keeps the newlines and emphasises first lines.
    """

    finding: Finding
    status: str
    resource: str
    message: str
    # Evidence as "key: value" lines (large reports), or as key/value pairs the page lays out as a table.
    evidence: str
    # Position of the finding's subscription in the report's list, for the filter, when no group carries it.
    subscription: int | None
    # The finding's own severity when it differs from its control's, for the filter.
    severity: str
    remediation: str
    pairs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RowGroup:
    """Consecutive rows whose resource ids start with the same subscription, which the group's header shows once.

    Each row then shows the rest of its id, so header and row together read as the full resource id.
    """

    prefix: str
    subscription: int | None
    rows: tuple[FindingRow, ...]
    # The subscription's display name, when the inventory holds one.
    name: str = ""


@dataclass(frozen=True)
class ControlSection:
    """A control with the rows of its findings and what all of them share."""

    control: ControlSummary
    groups: tuple[RowGroup, ...]
    # The remediation of each check of the control, as most of its findings give it.
    remediations: tuple[tuple[str, str], ...]
    check_ids: tuple[str, ...]
    resource_types: tuple[tuple[str, int], ...]
    open: bool

    @property
    def rows(self) -> tuple[FindingRow, ...]:
        """Every row of the control, in canonical order."""
        return tuple(row for group in self.groups for row in group.rows)

    @property
    def needs_attestation(self) -> bool:
        """True for a manual control nobody has attested yet."""
        return self.control.mode == "manual" and self.control.status is Status.MANUAL


@dataclass(frozen=True)
class AreaSection:
    """The controls of one area, in baseline order."""

    name: str
    anchor: str
    controls: tuple[ControlSection, ...]


@dataclass(frozen=True)
class Segment:
    """One status's share of a chart bar."""

    status: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    """One row of the summary chart: a label, its findings split by status, and its score."""

    label: str
    full_label: str
    total: int
    score: PostureScore
    y: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    """The summary chart's bars and the SVG geometry the template needs."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    bar_x: int
    bar_height: int
    total_x: int


@dataclass(frozen=True)
class Expiring:
    """An attestation or waiver as the manual and waiver sections list it."""

    finding: Finding
    fields: Mapping[str, str]
    days_left: int | None

    @property
    def expires(self) -> str:
        """The expiry date as written, or empty."""
        return self.fields.get("expires", "")

    @property
    def soon(self) -> bool:
        """True when it ends within the warning window of the scan, or has already ended."""
        return self.days_left is not None and self.days_left <= EXPIRY_WARNING_DAYS


@dataclass(frozen=True)
class ExecutiveControl:
    """A control the executive summary names: not shown kept, worst first."""

    control: ControlSummary
    gating: int


def environment() -> Environment:
    """The jinja2 environment of the report templates: autoescaped (.j2 too), strict about undefined names."""
    env = Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["thousands"] = _thousands
    env.filters["percent"] = _percent
    env.filters["report_file"] = report_file
    return env


def _finalize(value: object) -> object:
    # Every printed string shows its bidi controls as <U+XXXX>, so no name can display as another name;
    # markup the templates build themselves (macros) is already made of such strings.
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_bidi(value)
    return value


def render(result: ScanResult, changes: Changes | None = None) -> str:
    """The HTML report as text, with a section on ``changes`` since a previous scan when given."""
    history = result.history
    overdue = history.overdue_by_severity(result.findings) if history is not None else None
    trend = trend_charts(history.trend) if history is not None and history.trend is not None else None
    result = with_age_notes(result)
    env = environment()
    meta = result.metadata
    subscriptions = subscriptions_seen(result)
    positions = {subscription: index for index, subscription in enumerate(subscriptions)}
    open_tables = len(result.findings) <= OPEN_TABLES_LIMIT
    by_control = findings_by_control(result)
    areas = [
        AreaSection(
            name=area,
            anchor=f"area-{index}",
            controls=tuple(_section(c, by_control[c.id], positions, open_tables, meta) for c in controls),
        )
        for index, (area, controls) in enumerate(controls_by_area(result.controls), start=1)
    ]
    unlisted = _unlisted(orphan_findings(result), positions, open_tables, meta)
    if unlisted:
        areas.append(AreaSection(name=UNLISTED_AREA, anchor="area-unlisted", controls=unlisted))
    # Anchors are numbered rather than derived from control ids, which the baseline may spell any way.
    anchors = {section.control.id: f"control-{n}" for n, section in enumerate(_all_sections(areas), start=1)}
    scan_day = _scan_day(result.metadata)
    attestations = [
        _expiring(f, "attestation", scan_day) for f in findings_with_status(result, Status.MANUAL, Status.ATTESTED)
    ]
    waivers = sorted(
        (_expiring(f, "waiver", scan_day) for f in findings_with_status(result, Status.WAIVED)),
        key=lambda w: (w.days_left is None, w.days_left or 0),
    )
    expired_waivers = [
        _expiring(f, "expired_waiver", scan_day) for f in result.findings if "expired_waiver" in f.evidence
    ]
    failed = failed_collections(result)
    names = result.metadata.subscription_names
    frameworks = views(result)
    return env.get_template(TEMPLATE).render(
        subscription_labels=[_subscription_label(s, names) for s in subscriptions],
        subscription_names=names,
        frameworks=frameworks,
        executive=_executive(result.controls, by_control),
        meta=result.metadata,
        parameters=[(str(name), json_text(value)) for name, value in result.metadata.parameters.items()],
        scan_day=scan_day,
        statuses=[status.value for status in Status],
        severities=[severity.value for severity in reversed(Severity)],
        weights=[(severity.value, SEVERITY_WEIGHTS[severity]) for severity in reversed(Severity)],
        scored_statuses=[status.value for status in Status if status in SCORED_STATUSES],
        score=result.posture_score(),
        finding_count=len(result.findings),
        by_status=result.counts_by_status(),
        by_severity=result.counts_by_severity(),
        controls_by_status=controls_by_status(result),
        control_count=len(result.controls),
        chart=_chart(result.findings, areas),
        areas=areas,
        anchors=anchors,
        subscriptions=subscriptions,
        attestations=attestations,
        attestations_open=len(attestations) <= OPEN_LIST_LIMIT,
        waivers=waivers,
        waivers_open=len(waivers) <= OPEN_LIST_LIMIT,
        waivers_soon=sum(1 for w in waivers if w.soon),
        expired_waivers=expired_waivers,
        expiry_days=EXPIRY_WARNING_DAYS,
        failed_collections=failed,
        warnings=result.warnings,
        collection_count=len(result.collections),
        changes=changes,
        history=history,
        overdue=overdue,
        trend=trend,
        chart_height=chart_height,
        style_hash=_csp_hash(env, STYLESHEET),
        script_hash=_csp_hash(env, SCRIPT),
    )


def _all_sections(areas: Sequence[AreaSection]) -> list[ControlSection]:
    return [section for area in areas for section in area.controls]


def _subscription_label(subscription: str, names: Mapping[str, str]) -> str:
    name = names.get(subscription, "")
    return f"{name} ({subscription})" if name else subscription


def _executive(
    controls: Sequence[ControlSummary], by_control: Mapping[str, Sequence[Finding]]
) -> tuple[ExecutiveControl, ...]:
    failing = [c for c in controls if c.status in GATING_STATUSES]
    ranked = sorted(
        failing,
        key=lambda c: (-c.severity.rank, c.status is not Status.FAIL, -sum(f.gates for f in by_control[c.id])),
    )
    return tuple(ExecutiveControl(c, sum(f.gates for f in by_control[c.id])) for c in ranked[:EXECUTIVE_CONTROLS])


def _section(
    control: ControlSummary,
    findings: Sequence[Finding],
    positions: Mapping[str, int],
    open_table: bool,
    meta: ScanMetadata,
) -> ControlSection:
    check_ids = tuple(sorted({f.check_id for f in findings if f.check_id}))
    by_check: dict[str, list[str]] = {}
    for finding in findings:
        if finding.remediation:
            by_check.setdefault(finding.check_id, []).append(finding.remediation)
    usual = {check: _most_common(texts) for check, texts in sorted(by_check.items())}
    groups: list[RowGroup] = []
    members: list[FindingRow] = []
    prefix = ""
    for finding in findings:
        own = _subscription_prefix(finding)
        if own != prefix and members:
            groups.append(_group(prefix, members, positions, meta))
            members = []
        prefix = own
        members.append(
            _row(
                finding,
                prefix,
                positions,
                meta,
                show_severity=finding.severity is not control.severity,
                show_check=len(check_ids) > 1,
                remediation="" if finding.remediation == usual.get(finding.check_id) else finding.remediation,
                rich=open_table,
            )
        )
    if members:
        groups.append(_group(prefix, members, positions, meta))
    types = Counter(f.resource_type for f in findings if f.resource_type)
    return ControlSection(
        control=control,
        groups=tuple(groups),
        remediations=_distinct_texts(tuple(usual.items())),
        check_ids=check_ids,
        resource_types=tuple(sorted(types.items())),
        open=open_table,
    )


def _subscription_prefix(finding: Finding) -> str:
    """The "/subscriptions/<id>" the finding's resource id starts with, as written there, or empty."""
    subscription = finding.subscription_id
    if not subscription:
        return ""
    start = f"/subscriptions/{subscription}".lower()
    resource_id = finding.resource_id
    if resource_id.lower().startswith(start) and resource_id[len(start) : len(start) + 1] in ("", "/"):
        return resource_id[: len(start)]
    return ""


def _group(prefix: str, rows: list[FindingRow], positions: Mapping[str, int], meta: ScanMetadata) -> RowGroup:
    subscription_id = rows[0].finding.subscription_id
    subscription = positions.get(subscription_id) if prefix and len(positions) > 1 else None
    name = meta.subscription_names.get(subscription_id, "") if prefix else ""
    return RowGroup(prefix=prefix, subscription=subscription, rows=tuple(rows), name=name)


def _unlisted(
    findings: Sequence[Finding], positions: Mapping[str, int], open_table: bool, meta: ScanMetadata
) -> tuple[ControlSection, ...]:
    # Findings that name a control the baseline lacks get a stand-in control each, so they are shown,
    # filtered and counted like the rest rather than dropped.
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.control_id, []).append(finding)
    sections = []
    for control_id, members in grouped.items():
        counts = Counter(f.status.value for f in members)
        stand_in = ControlSummary(
            id=control_id,
            title=members[0].title,
            area=UNLISTED_AREA,
            severity=max((f.severity for f in members), key=lambda s: s.rank),
            mode="",
            quote="",
            description="The baseline does not list this control; its findings are shown so that none is lost.",
            status=rollup([f.status for f in members]),
            counts={status.value: counts.get(status.value, 0) for status in Status},
        )
        sections.append(_section(stand_in, members, positions, open_table, meta))
    return tuple(sections)


def _row(
    finding: Finding,
    prefix: str,
    positions: Mapping[str, int],
    meta: ScanMetadata,
    *,
    show_severity: bool,
    show_check: bool,
    remediation: str,
    rich: bool,
) -> FindingRow:
    subscription = finding.subscription_id
    status = finding.status.value.replace("_", " ")
    resource = [display_name(finding, meta) or "(no resource)"]
    rest = finding.resource_id[len(prefix) :]
    if rest:
        resource.append(rest)
    if subscription and not prefix:
        name = meta.subscription_names.get(subscription, "")
        resource.append(f"subscription {name} ({subscription})" if name else f"subscription {subscription}")
    if show_check and finding.check_id:
        resource.append(f"check {finding.check_id}")
    pairs = _named(evidence_pairs(finding.evidence), meta.principal_names)
    message = finding.message
    if finding.location is not None:
        where = finding.location
        message += f"\n{where.file}, lines {where.start_line}-{where.end_line} {where.address}".rstrip()
    return FindingRow(
        finding=finding,
        status=f"{status}\n{finding.severity.value}" if show_severity else status,
        resource="\n".join(resource),
        message=message,
        evidence="" if rich else "\n".join(f"{key}: {value}" for key, value in pairs),
        pairs=pairs if rich else (),
        subscription=positions.get(subscription) if not prefix and len(positions) > 1 else None,
        severity=finding.severity.value if show_severity else "",
        remediation=remediation,
    )


def _named(pairs: list[tuple[str, str]], principals: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    # Every user object id in a value gains the user's UPN, which is what people recognise.
    if not principals:
        return tuple(pairs)

    def with_upn(match: re.Match[str]) -> str:
        upn = principals.get(match.group())
        return f"{match.group()} ({upn})" if upn else match.group()

    return tuple((key, _GUID.sub(with_upn, value)) for key, value in pairs)


def _distinct_texts(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    # Checks that share one remediation text show it once, under the first of them.
    seen: set[str] = set()
    distinct = []
    for check, text in pairs:
        if text not in seen:
            seen.add(text)
            distinct.append((check, text))
    return tuple(distinct)


def _most_common(values: Sequence[str]) -> str:
    if not values:
        return ""
    counts = Counter(values)
    # Ties go to the first in canonical finding order, so the page does not depend on hash order.
    best = max(counts.values())
    return next(value for value in values if counts[value] == best)


def _chart(findings: Sequence[Finding], areas: Sequence[AreaSection]) -> Chart:
    groups: list[tuple[str, list[Finding]]] = [("All findings", list(findings))]
    for area in areas:
        groups.append((area.name, [row.finding for section in area.controls for row in section.rows]))
    bars = []
    for index, (label, members) in enumerate(groups):
        counts = Counter(f.status.value for f in members)
        total = len(members)
        segments = []
        x = float(CHART_LABEL_WIDTH)
        for status in Status:
            count = counts.get(status.value, 0)
            if count:
                width = round(CHART_BAR_WIDTH * count / total, 2)
                segments.append(Segment(status.value, count, round(x, 2), width))
                x += width
        short = label if len(label) <= CHART_LABEL_CHARS else label[: CHART_LABEL_CHARS - 1] + "\u2026"
        bars.append(
            Bar(
                label=short,
                full_label=label,
                total=total,
                score=posture_score(members),
                y=index * CHART_ROW_HEIGHT + (CHART_ROW_HEIGHT - CHART_BAR_HEIGHT) / 2,
                segments=tuple(segments),
            )
        )
    return Chart(
        bars=tuple(bars),
        width=CHART_LABEL_WIDTH + CHART_BAR_WIDTH + 150,
        height=len(bars) * CHART_ROW_HEIGHT,
        bar_x=CHART_LABEL_WIDTH,
        bar_height=CHART_BAR_HEIGHT,
        total_x=CHART_LABEL_WIDTH + CHART_BAR_WIDTH + 8,
    )


def _expiring(finding: Finding, key: str, scan_day: date | None) -> Expiring:
    raw = finding.evidence.get(key)
    fields = (
        {str(k): v if isinstance(v, str) else json_text(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    )
    return Expiring(finding=finding, fields=fields, days_left=_days_between(scan_day, fields.get("expires", "")))


def _scan_day(meta: ScanMetadata) -> date | None:
    """The day the scan is judged as of, which expiry warnings count from."""
    moment = meta.as_of or meta.finished_at
    try:
        return datetime.fromisoformat(moment).date()
    except ValueError:
        return None


def _days_between(start: date | None, end: str) -> int | None:
    if start is None or not end:
        return None
    try:
        return (date.fromisoformat(end) - start).days
    except ValueError:
        return None


def _thousands(value: int) -> str:
    return f"{value:,}"


def _percent(score: PostureScore) -> str:
    percent = score.percent
    return "n/a" if percent is None else f"{percent:.1f}%"


def _csp_hash(env: Environment, name: str) -> str:
    # The template includes the same file through the same environment, so the bytes hashed here are
    # exactly the bytes between the <style> or <script> tags.
    text = env.get_template(name).render()
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"sha256-{digest}"

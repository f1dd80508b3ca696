"""report.html: a self-contained page for people, rendered from a jinja2 template with autoescaping."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from auditor.model import Finding, Status
from auditor.reports.evidence import json_text
from auditor.reports.outline import (
    controls_by_area,
    controls_by_status,
    failed_collections,
    findings_by_control,
    orphan_findings,
)
from auditor.results import ControlSummary, ScanResult

FORMAT = "html"
FILENAME = "report.html"
TEMPLATE = "report.html.j2"
# Inlined into the page by the template; hashed here so the page's CSP allows exactly these and nothing else.
STYLESHEET = "report.css"
SCRIPT = "report.js"


@dataclass(frozen=True)
class FindingRow:
    """A finding with its evidence as (key, JSON text) pairs."""

    finding: Finding
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ControlSection:
    """A control with the rows of its findings."""

    control: ControlSummary
    rows: tuple[FindingRow, ...]

    @property
    def needs_attestation(self) -> bool:
        """True for a manual control nobody has attested yet."""
        return self.control.mode == "manual" and self.control.status is Status.MANUAL


@dataclass(frozen=True)
class AreaSection:
    """The controls of one area, in baseline order."""

    name: str
    controls: tuple[ControlSection, ...]


def environment() -> Environment:
    """The jinja2 environment of the report templates: autoescaped (.j2 too), strict about undefined names."""
    return Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(result: ScanResult) -> str:
    """The HTML report as text."""
    env = environment()
    by_control = findings_by_control(result)
    areas = tuple(
        AreaSection(
            name=area,
            controls=tuple(ControlSection(c, _rows(by_control[c.id])) for c in controls),
        )
        for area, controls in controls_by_area(result.controls)
    )
    return env.get_template(TEMPLATE).render(
        meta=result.metadata,
        statuses=[status.value for status in Status],
        by_status=result.counts_by_status(),
        by_severity=result.counts_by_severity(),
        controls_by_status=controls_by_status(result),
        control_count=len(result.controls),
        areas=areas,
        orphans=_rows(orphan_findings(result)),
        failed_collections=failed_collections(result),
        warnings=result.warnings,
        collection_count=len(result.collections),
        style_hash=_csp_hash(env, STYLESHEET),
        script_hash=_csp_hash(env, SCRIPT),
    )


def _rows(findings: list[Finding]) -> tuple[FindingRow, ...]:
    return tuple(FindingRow(f, _evidence(f)) for f in findings)


def _evidence(finding: Finding) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), json_text(value)) for key, value in finding.evidence.items())


def _csp_hash(env: Environment, name: str) -> str:
    # The template includes the same file through the same environment, so the bytes hashed here are
    # exactly the bytes between the <style> or <script> tags.
    text = env.get_template(name).render()
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"sha256-{digest}"

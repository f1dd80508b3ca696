"""findings.json: a scan's findings, control roll-ups and listing coverage as one deterministic document."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from auditor.drift import Changes, changes_document
from auditor.inventory import Collection
from auditor.model import Finding, SourceLocation
from auditor.reports.display import report_file
from auditor.reports.evidence import JsonValue, json_value
from auditor.reports.frameworks import FrameworkView, views
from auditor.reports.outline import controls_by_status, sorted_collections, sorted_findings, status_counts
from auditor.results import ControlSummary, ScanResult

FORMAT = "json"
FILENAME = "findings.json"
SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "findings.schema.json"
TOOL_NAME = "auditor"


def render(result: ScanResult, changes: Changes | None = None) -> str:
    """The findings document as indented JSON text ending in a newline; ``changes`` since a previous scan."""
    text = json.dumps(document(result, changes), indent=2, ensure_ascii=False, allow_nan=False)
    return text + "\n"


def schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) that findings.json conforms to."""
    source = resources.files("auditor.reports").joinpath("schemas", SCHEMA_FILE)
    loaded: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return loaded


def document(result: ScanResult, changes: Changes | None = None) -> dict[str, JsonValue]:
    """The findings document as JSON data, keys in the order the schema lists them."""
    meta = result.metadata
    body: dict[str, JsonValue] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": meta.tool_version},
        "scan": {
            "started_at": meta.started_at,
            "finished_at": meta.finished_at,
            "as_of": meta.as_of or meta.finished_at,
            "source": meta.source,
            "subscriptions": list(meta.subscriptions),
            "baseline": {
                "path": report_file(meta.baseline_path),
                "name": meta.baseline_name,
                "sha256": meta.baseline_sha256,
            },
            "parameters": _object(meta.parameters),
            "weakened_parameters": dict(meta.weakened_parameters),
            "subscription_names": {str(k): str(v) for k, v in meta.subscription_names.items()},
            "principal_names": {str(k): str(v) for k, v in meta.principal_names.items()},
            "collection": {"sources": list(meta.collection_sources), "note": meta.collection_note},
            "tls_endpoints": list(meta.tls_endpoints),
        },
        "summary": {
            "by_status": dict(result.counts_by_status()),
            "by_severity": dict(result.counts_by_severity()),
            "controls": dict(controls_by_status(result)),
        },
        "coverage": [_collection(c) for c in sorted_collections(result.collections)],
        "controls": [_control(c) for c in result.controls],
        "frameworks": [_framework(v) for v in views(result)],
        "findings": [_finding(f) for f in sorted_findings(result.findings)],
        "warnings": list(result.warnings),
    }
    if changes is not None:
        # Present only when the run compared itself with a previous scan (--compare).
        drift = changes_document(changes)
        drift["previous"]["path"] = report_file(str(drift["previous"]["path"]))
        body["changes"] = drift
    _add_history(body, result)
    return body


def _add_history(body: dict[str, JsonValue], result: ScanResult) -> None:
    """Ages, overdue counts and the store, when the run keeps a history; notification outcomes when it notified."""
    history = result.history
    if history is not None:
        summary = body["summary"]
        assert isinstance(summary, dict)
        summary["overdue"] = dict(history.overdue_by_severity(result.findings))
        body["history"] = {
            "store": history.store,
            "scope": history.scope,
            "scan_id": history.scan_id,
            "previous_scan_id": history.previous_scan_id,
            "sla_days": {severity.value: days for severity, days in history.slas.items()},
        }
        findings = body["findings"]
        assert isinstance(findings, list)
        for item in findings:
            assert isinstance(item, dict)
            age = history.ages.get(str(item["id"]))
            if age is not None:
                item["age"] = {
                    "first_seen": age.first_seen,
                    "open_since": age.open_since,
                    "days_open": age.days_open,
                    "sla_days": age.sla_days if age.open_since is not None else None,
                    "due": age.due,
                    "overdue": age.overdue,
                    "reopened": age.reopened,
                }
    if result.notifications:
        body["notifications"] = [
            {"target": d.target, "ok": d.ok, "detail": d.detail, "findings": d.findings} for d in result.notifications
        ]


def _collection(collection: Collection) -> dict[str, JsonValue]:
    return {
        "api": collection.api,
        "subscription_id": collection.subscription_id,
        "scope": collection.scope,
        "ok": collection.ok,
        "status_code": collection.status_code,
        "error_code": collection.error_code,
        "reason": collection.reason,
        "items": collection.items,
    }


def _control(control: ControlSummary) -> dict[str, JsonValue]:
    return {
        "id": control.id,
        "title": control.title,
        "area": control.area,
        "severity": control.severity.value,
        "mode": control.mode,
        "quote": control.quote,
        "description": control.description,
        "status": control.status.value,
        "counts": dict(status_counts(control.counts)),
        "frameworks": _frameworks(control.frameworks),
    }


def _finding(finding: Finding) -> dict[str, JsonValue]:
    return {
        "id": finding.id,
        "control_id": finding.control_id,
        "check_id": finding.check_id,
        "title": finding.title,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "resource_id": finding.resource_id,
        "resource_type": finding.resource_type,
        "resource_name": finding.resource_name,
        "subscription_id": finding.subscription_id,
        "resource_group": finding.resource_group,
        "region": finding.region,
        "tags": {str(k): str(v) for k, v in finding.tags.items()},
        "message": finding.message,
        "evidence": _object(finding.evidence),
        "remediation": finding.remediation,
        "frameworks": _frameworks(finding.frameworks),
        "location": _location(finding.location),
    }


def _framework(view: FrameworkView) -> dict[str, JsonValue]:
    framework = view.framework
    return {
        "key": framework.key,
        "name": framework.name,
        "version": framework.version,
        "citation": framework.citation,
        "url": framework.url,
        "counts": dict(view.counts()),
        "requirements": [
            {
                "id": r.id,
                "title": r.title,
                "citation": r.citation,
                "url": r.url,
                "status": r.status.value,
                "controls": [{"id": c.id, "status": c.status.value} for c in r.controls],
            }
            for r in view.requirements
        ],
    }


def _location(location: SourceLocation | None) -> JsonValue:
    if location is None:
        return None
    return {
        "file": location.file,
        "start_line": location.start_line,
        "end_line": location.end_line,
        "address": location.address,
    }


def _frameworks(frameworks: Mapping[str, Sequence[str]]) -> dict[str, JsonValue]:
    return {str(name): [str(ref) for ref in refs] for name, refs in frameworks.items()}


def _object(values: Mapping[str, object]) -> dict[str, JsonValue]:
    return {str(key): json_value(value) for key, value in values.items()}

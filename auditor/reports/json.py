"""findings.json: a scan's findings, control roll-ups and listing coverage as one deterministic document."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from auditor.drift import changes_document
from auditor.inventory import Collection
from auditor.model import Finding, SourceLocation
from auditor.reports.evidence import JsonValue, json_value
from auditor.reports.outline import controls_by_status, sorted_collections, sorted_findings, status_counts
from auditor.results import ControlSummary, ScanResult

FORMAT = "json"
FILENAME = "findings.json"
SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "findings.schema.json"
TOOL_NAME = "auditor"


def render(result: ScanResult) -> str:
    """The findings document as indented JSON text ending in a newline."""
    text = json.dumps(document(result), indent=2, ensure_ascii=False, allow_nan=False)
    return text + "\n"


def schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) that findings.json conforms to."""
    source = resources.files("auditor.reports").joinpath("schemas", SCHEMA_FILE)
    loaded: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return loaded


def document(result: ScanResult) -> dict[str, JsonValue]:
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
                "path": meta.baseline_path,
                "name": meta.baseline_name,
                "sha256": meta.baseline_sha256,
            },
            "parameters": _object(meta.parameters),
            "collection": {"sources": list(meta.collection_sources), "note": meta.collection_note},
        },
        "summary": {
            "by_status": dict(result.counts_by_status()),
            "by_severity": dict(result.counts_by_severity()),
            "controls": dict(controls_by_status(result)),
        },
        "coverage": [_collection(c) for c in sorted_collections(result.collections)],
        "controls": [_control(c) for c in result.controls],
        "findings": [_finding(f) for f in sorted_findings(result.findings)],
        "warnings": list(result.warnings),
    }
    if result.changes is not None:
        # Present only when the run compared itself with a previous scan (--compare).
        body["changes"] = changes_document(result.changes)
    return body


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
        "message": finding.message,
        "evidence": _object(finding.evidence),
        "remediation": finding.remediation,
        "frameworks": _frameworks(finding.frameworks),
        "location": _location(finding.location),
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

"""The typed options of each command, as the command line (with its run configuration) resolved them.

The parser in ``auditor.cli`` builds exactly one of these per run and checks each value as it does; the
commands read only these objects, never the parser's namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from auditor.history.options import HistoryCommandOptions, HistoryOptions
from auditor.model import Severity

# Where listings come from (auditor.collect.sources.Source, spelt out so options import no collection code).
Source = Literal["arm", "graph", "auto"]

# --fail-on none: write the reports and never exit 1.
FAIL_ON_NONE = "none"


class ThresholdError(ValueError):
    """A gate severity that is not one of the valid values; the message lists them."""


def parse_threshold(text: str | None, source: str, *, allow_none: bool) -> Severity | None:
    """A --fail-on style severity (case-insensitive); None for ``none`` where report-only is allowed."""
    valid = [s.value for s in reversed(Severity)] + ([FAIL_ON_NONE] if allow_none else [])
    value = (text or "").strip().lower()
    if allow_none and value == FAIL_ON_NONE:
        return None
    try:
        return Severity(value)
    except ValueError:
        raise ThresholdError(f"{source} {text!r}: expected one of {', '.join(valid)}") from None


@dataclass(frozen=True)
class ReportOptions:
    """What every evaluating command (demo, scan, evaluate) shares: the policy, the inputs and the reports."""

    out: Path
    formats: tuple[str, ...]
    baseline: Path | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    attestations: Path | None = None
    waivers: Path | None = None
    compare: Path | None = None
    sign_key: Path | None = None
    controls: tuple[str, ...] = ()
    exclude_controls: tuple[str, ...] = ()
    quiet: bool = False
    # The repository root that reports name files relative to (the baseline in SARIF, IaC sources).
    root: Path = Path()
    history: HistoryOptions = field(default_factory=HistoryOptions)


@dataclass(frozen=True)
class GateOptions:
    """When a run exits 1: --fail-on (None for ``none``: report only) or, relative to --compare, --fail-on-new."""

    fail_on: Severity | None = Severity.HIGH
    fail_on_new: Severity | None = None


@dataclass(frozen=True)
class DemoOptions:
    """``auditor demo``."""

    report: ReportOptions
    estate: Path | None = None
    # Where listings come from: arm, graph (Azure Resource Graph) or auto.
    source: Source = "arm"
    # TLS endpoints to probe as host:port (--tls-endpoint); None probes the demo's own local sites.
    tls_endpoints: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ScanOptions:
    """``auditor scan``: the live estate to read, how, and where the inventory goes."""

    report: ReportOptions
    gate: GateOptions
    # None scans every subscription the credential sees (--all-subscriptions).
    subscriptions: tuple[str, ...] | None
    resource_groups: tuple[str, ...] = ()
    arm_endpoint: str | None = None
    ca_bundle: Path | None = None
    snapshot: Path | None = None
    max_workers: int = 8
    processes: int = 1
    # Where listings come from: arm, graph (Azure Resource Graph) or auto.
    source: Source = "arm"
    # TLS endpoints to probe as host:port (--tls-endpoint), besides the App Service custom host names.
    tls_endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluateOptions:
    """``auditor evaluate``: a saved inventory judged offline."""

    report: ReportOptions
    gate: GateOptions
    snapshot: Path


@dataclass(frozen=True)
class DiffOptions:
    """``auditor diff``."""

    old: Path
    new: Path
    json: bool = False


@dataclass(frozen=True)
class VerifyOptions:
    """``auditor verify``."""

    folder: Path
    public_key: Path | None = None
    quiet: bool = False


@dataclass(frozen=True)
class KeygenOptions:
    """``auditor keygen``."""

    out: Path


@dataclass(frozen=True)
class ListControlsOptions:
    """``auditor list-controls``."""

    baseline: Path | None = None
    controls: tuple[str, ...] = ()
    exclude_controls: tuple[str, ...] = ()
    json: bool = False


@dataclass(frozen=True)
class IacOptions:
    """``auditor iac``: infrastructure code gated through checkov, reported like a scan."""

    report: ReportOptions
    gate: GateOptions
    paths: tuple[Path, ...]
    # False when --out was not given: the reports are rendered into a temporary folder and removed.
    keep: bool = True


@dataclass(frozen=True)
class EmulatorOptions:
    """``auditor emulator``: an estate file served as a local HTTPS ARM endpoint."""

    estate: Path
    # 0: any free port on 127.0.0.1.
    port: int
    page_size: int
    token: str
    # Fault specifications as given (auditor.emulator.faults.parse_fault reads them).
    faults: tuple[str, ...]
    latency_ms: int
    graph_quota: int


CommandOptions = (
    DemoOptions
    | ScanOptions
    | EvaluateOptions
    | DiffOptions
    | VerifyOptions
    | KeygenOptions
    | ListControlsOptions
    | IacOptions
    | EmulatorOptions
    | HistoryCommandOptions
)

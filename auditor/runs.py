"""The steps every evaluating command shares (demo, scan, evaluate, iac): the policy and decision files loaded
before any work, and after judging, the changes since a previous scan, the reports and manifest in --out,
the closing summary and the gate.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auditor.annotations import ci_annotations, failure_lines, failures
from auditor.attestations import Attestation, load_attestations
from auditor.baseline import Baseline, check_parameter_types, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.control_selection import select_controls
from auditor.drift import Changes, ScanFindings, compare, load_findings, scan_findings
from auditor.history import cli as history_cli
from auditor.manifest import SigningKey, load_signing_key, write_manifest
from auditor.model import Finding, Severity
from auditor.options import GateOptions, ReportOptions
from auditor.parameters import Params
from auditor.registry import Registry
from auditor.reports import write_reports
from auditor.results import ScanResult
from auditor.staging import staged_folder
from auditor.terminal import printable, summary_lines, wants_color
from auditor.waivers import Waiver, load_waivers

EXIT_OK = 0
EXIT_GATED = 1
# Writes a file of the run (e.g. the inventory) into the staging folder and returns its path there.
ExtraFile = Callable[[Path], Path]


@dataclass(frozen=True)
class Evaluation:
    """Everything an evaluation needs from the command line, validated before any collection starts."""

    baseline: Baseline
    registry: Registry
    params: Params
    formats: tuple[str, ...]
    attestations: tuple[Attestation, ...]
    waivers: tuple[Waiver, ...]
    previous: ScanFindings | None = None
    signing_key: SigningKey | None = None
    history: history_cli.HistoryRun | None = None


def load_evaluation(options: ReportOptions, *, history: bool = True) -> Evaluation:
    """Read and validate the baseline, parameters, control choice, attestations, waivers and keys (and open the
    history, for a run that keeps one)."""
    registry = builtin_registry()
    full = load_baseline(options.baseline or default_baseline_path(), registry)
    if options.baseline is not None:
        check_parameter_types(full, load_baseline(default_baseline_path(), registry))
    params = full.resolve_params(options.params)
    baseline = selected(full, options.controls, options.exclude_controls)
    every_id = [c.id for c in full.controls]
    chosen = {c.id for c in baseline.controls}
    # Decision files are checked against the whole baseline, then narrowed to the controls this run judges.
    attestations = load_attestations(options.attestations, every_id) if options.attestations else ()
    waivers = load_waivers(options.waivers, every_id) if options.waivers else ()
    return Evaluation(
        baseline=baseline,
        registry=registry,
        params=params,
        formats=options.formats,
        attestations=tuple(a for a in attestations if a.control in chosen),
        waivers=tuple(w for w in waivers if w.control in chosen),
        previous=load_findings(options.compare) if options.compare else None,
        signing_key=load_signing_key(options.sign_key) if options.sign_key else None,
        history=history_cli.prepare(options.history) if history else None,
    )


def selected(baseline: Baseline, include: Sequence[str], exclude: Sequence[str]) -> Baseline:
    """The baseline narrowed to --controls and --exclude-controls."""
    if not include and not exclude:
        return baseline
    return select_controls(baseline, include, exclude, sources=("--controls", "--exclude-controls"))


@dataclass(frozen=True)
class Outcome:
    """A judged run: its result, its changes since the previous scan (when compared) and the files written."""

    result: ScanResult
    changes: Changes | None
    written: tuple[Path, ...]


def changes_since(previous: ScanFindings | None, result: ScanResult, out: Path) -> Changes | None:
    """The drift from the previous scan's findings to this result's; None when the run does not compare."""
    if previous is None:
        return None
    current = scan_findings(str(out / "findings.json"), result.metadata.finished_at, result.findings)
    return compare(previous, current)


def deliver(
    result: ScanResult,
    options: ReportOptions,
    loaded: Evaluation,
    gate: GateOptions | None,
    *,
    replaceable: frozenset[str],
    extra: Sequence[ExtraFile] = (),
    keep: bool = True,
) -> Outcome:
    """Record and compare the result, notify, then write every file of the run into --out, whole or not at all.

    With ``keep`` False the reports are rendered into a temporary folder removed at once, so a report that
    cannot be written still fails the run, and nothing is listed as written.
    """
    result = history_cli.record(result, loaded.history, loaded.params)
    previous = loaded.previous
    if previous is None and loaded.history is not None and loaded.history.previous is not None:
        # With --history and no --compare, the previous scan of the same scope is the comparison.
        previous = loaded.history.previous
    changes = changes_since(previous, result, options.out)
    result = history_cli.notify(result, options.history, loaded.history, notify_threshold(gate), changes)
    if not keep:
        with tempfile.TemporaryDirectory(prefix="auditor-") as temporary:
            write_reports(result, Path(temporary), loaded.formats, changes)
        return Outcome(result, changes, ())
    with staged_folder(options.out, replaceable) as staging:
        written = write_reports(result, staging, loaded.formats, changes)
        written += [write(staging) for write in extra]
        written += seal(result, loaded.signing_key, staging, written)
    return Outcome(result, changes, tuple(options.out / path.relative_to(staging) for path in written))


def seal(result: ScanResult, signing_key: SigningKey | None, folder: Path, covered: Sequence[Path]) -> list[Path]:
    """Write manifest.json (and manifest.sig) over every file of this run in the report folder, last."""
    return write_manifest(
        folder,
        covered,
        tool_version=result.metadata.tool_version,
        baseline_sha256=result.metadata.baseline_sha256,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        signing_key=signing_key,
    )


def notify_threshold(gate: GateOptions | None) -> Severity:
    """What counts as a gated finding for notifications: --fail-on-new, else --fail-on, else high."""
    if gate is not None and (gate.fail_on_new or gate.fail_on):
        return gate.fail_on_new or gate.fail_on or Severity.HIGH
    return Severity.HIGH


def print_summary(outcome: Outcome, gate: GateOptions | None) -> None:
    """The closing summary, then what failed: the list for a person, annotations for the CI running this."""
    result = outcome.result
    for warning in result.warnings:
        print(f"auditor: warning: {warning}", file=sys.stderr)
    summary = summary_lines(
        result,
        outcome.written,
        gate=gate_summary(outcome, gate),
        changes=outcome.changes,
        color=wants_color(sys.stdout),
    )
    print("\n".join(summary))
    gated = failures(gated_findings(outcome, gate))
    lines = [*failure_lines(gated), *ci_annotations(gated, os.environ)]
    if lines:
        print("\n".join(lines))


def gated_findings(outcome: Outcome, gate: GateOptions | None) -> tuple[Finding, ...]:
    """The findings this run's gate catches: --fail-on-new's when given, --fail-on's otherwise."""
    result, changes = outcome.result, outcome.changes
    if gate is None:
        return ()
    if gate.fail_on_new is not None and changes is not None:
        newly = {state.id for state in changes.newly_gating(gate.fail_on_new)}
        return tuple(f for f in result.findings if f.id in newly)
    return result.gating(gate.fail_on) if gate.fail_on is not None else ()


def gate_summary(outcome: Outcome, gate: GateOptions | None) -> tuple[str, int] | None:
    """The gate this run applies, in words, and how many findings it catches; None when nothing gates."""
    if gate is None:
        return None
    if gate.fail_on_new is not None and outcome.changes is not None:
        label = f"newly fail or error at or above {gate.fail_on_new.value}"
        return label, len(outcome.changes.newly_gating(gate.fail_on_new))
    if gate.fail_on is None:
        return None
    return f"fail or error at or above {gate.fail_on.value}", len(outcome.result.gating(gate.fail_on))


def exit_status(outcome: Outcome, gate: GateOptions) -> int:
    """Exit 1 when the gate catches anything: --fail-on-new when given, --fail-on otherwise."""
    changes = outcome.changes
    if gate.fail_on_new is None or changes is None:
        return _gate(outcome.result, gate.fail_on)
    newly = changes.newly_gating(gate.fail_on_new)
    if newly:
        print(
            f"{len(newly)} finding(s) newly fail or error at or above {gate.fail_on_new.value} "
            f"since {printable(changes.previous_path)}: exit {EXIT_GATED}"
        )
        return EXIT_GATED
    return EXIT_OK


def _gate(result: ScanResult, threshold: Severity | None) -> int:
    if threshold is None:
        return EXIT_OK
    gated = result.gating(threshold)
    if gated:
        print(f"{len(gated)} finding(s) fail or error at or above {threshold.value}: exit {EXIT_GATED}")
        return EXIT_GATED
    return EXIT_OK

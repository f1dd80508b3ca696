"""The ``auditor`` command: demo | scan | evaluate | emulator.

Exit codes: 0 nothing gated, 1 findings at or above ``--fail-on``, 2 usage, configuration or input error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor import __version__
from auditor.attestations import Attestation, load_attestations
from auditor.baseline import Baseline, BaselineError, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.decision_files import EntryFileError
from auditor.emulator import cli as emulator_cli
from auditor.emulator.estate import EstateError, demo_estate_path, load_estate
from auditor.evaluate import evaluate
from auditor.inventory import Inventory
from auditor.model import Severity
from auditor.parameters import Params
from auditor.registry import Registry
from auditor.reports import REPORTERS, write_reports
from auditor.results import ScanResult
from auditor.snapshot import SnapshotError, load_snapshot, save_snapshot
from auditor.waivers import Waiver, load_waivers

EXIT_OK = 0
EXIT_GATED = 1
EXIT_INPUT = 2
DEFAULT_FORMATS = ("html", "json")
TOKEN_ENV = "AUDITOR_BEARER_TOKEN"  # noqa: S105 - the name of a variable, not a secret


class UsageError(Exception):
    """A problem with the command line or its inputs, reported in one line with exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageError, BaselineError, EstateError, SnapshotError, EntryFileError) as exc:
        print(f"auditor: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="auditor",
        description="Audit an Azure estate against the promises of its security policy.",
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="scan the bundled sample estate through a local endpoint")
    demo.add_argument("--estate", type=Path, help="estate file to serve instead of the bundled sample")
    _add_evaluation_options(demo, default_out="audit-report")
    demo.set_defaults(handler=run_demo)

    scan = commands.add_parser("scan", help="scan live Azure subscriptions (read-only)")
    scope = scan.add_mutually_exclusive_group(required=True)
    scope.add_argument("--subscription", action="append", metavar="ID", help="subscription id (repeatable)")
    scope.add_argument("--all-subscriptions", action="store_true", help="every subscription the credential sees")
    scan.add_argument(
        "--resource-group", action="append", default=[], metavar="NAME", help="only these resource groups (repeatable)"
    )
    scan.add_argument("--arm-endpoint", metavar="URL", help="ARM endpoint (default: https://management.azure.com)")
    scan.add_argument("--ca-bundle", type=Path, metavar="FILE", help="CA certificates to trust for the endpoint")
    scan.add_argument("--snapshot", type=Path, metavar="FILE", help="also save the collected inventory here")
    scan.add_argument("--max-workers", type=int, default=8, metavar="N", help="concurrent API calls (default 8)")
    scan.add_argument(
        "--processes", type=int, default=1, metavar="N", help="share subscriptions among N processes (default 1)"
    )
    _add_evaluation_options(scan, default_out="audit-report")
    _add_gate_option(scan)
    scan.set_defaults(handler=run_scan)

    offline = commands.add_parser("evaluate", help="evaluate a saved inventory snapshot offline")
    offline.add_argument("snapshot", type=Path, metavar="SNAPSHOT")
    _add_evaluation_options(offline, default_out="audit-report")
    _add_gate_option(offline)
    offline.set_defaults(handler=run_evaluate)

    emulator = commands.add_parser("emulator", help="serve an estate file as a local HTTPS ARM endpoint")
    emulator_cli.add_arguments(emulator)
    emulator.set_defaults(handler=emulator_cli.run)
    return parser


def _add_evaluation_options(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument("--baseline", type=Path, metavar="FILE", help="baseline.toml (default: the bundled one)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a baseline parameter (repeatable; lists comma-separated)",
    )
    parser.add_argument("--out", type=Path, default=Path(default_out), metavar="DIR", help="report folder")
    parser.add_argument(
        "--attestations", type=Path, metavar="FILE", help="TOML file of attestations for manual controls"
    )
    parser.add_argument("--waivers", type=Path, metavar="FILE", help="TOML file of waivers (accepted risks)")
    parser.add_argument(
        "--format",
        default=",".join(DEFAULT_FORMATS),
        metavar="LIST",
        help=f"report formats, comma-separated, from: {', '.join(sorted(REPORTERS))} (default html,json)",
    )


def _add_gate_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fail-on",
        type=Severity,
        default=Severity.HIGH,
        choices=list(Severity),
        metavar="SEVERITY",
        help="exit 1 when a fail or error finding is at or above this severity (default high)",
    )


def _parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param {pair!r}: expected NAME=VALUE")
        overrides[name.strip()] = value
    return overrides


def _formats(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in REPORTERS]
    if unknown or not names:
        raise UsageError(
            f"--format: unknown format {unknown[0] if unknown else text!r} (known: {', '.join(sorted(REPORTERS))})"
        )
    return names


@dataclass(frozen=True)
class Evaluation:
    """Everything an evaluation needs from the command line, validated before any collection starts."""

    baseline: Baseline
    registry: Registry
    params: Params
    formats: list[str]
    attestations: tuple[Attestation, ...]
    waivers: tuple[Waiver, ...]


def _load(args: argparse.Namespace) -> Evaluation:
    """Read and validate the baseline, parameters, formats, attestations and waivers."""
    registry = builtin_registry()
    baseline = load_baseline(args.baseline or default_baseline_path(), registry)
    params = baseline.resolve_params(_parse_overrides(args.param))
    control_ids = [c.id for c in baseline.controls]
    return Evaluation(
        baseline=baseline,
        registry=registry,
        params=params,
        formats=_formats(args.format),
        attestations=load_attestations(args.attestations, control_ids) if args.attestations else (),
        waivers=load_waivers(args.waivers, control_ids) if args.waivers else (),
    )


def _report(inventory: Inventory, args: argparse.Namespace, loaded: Evaluation) -> ScanResult:
    result = evaluate(
        inventory,
        loaded.baseline,
        loaded.registry,
        loaded.params,
        attestations=loaded.attestations,
        waivers=loaded.waivers,
    )
    written = write_reports(result, args.out, loaded.formats)
    for warning in result.warnings:
        print(f"auditor: warning: {warning}", file=sys.stderr)
    _print_summary(result, written)
    return result


def _print_summary(result: ScanResult, written: Sequence[Path]) -> None:
    counts = result.counts_by_status()
    shown = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    print(f"{len(result.controls)} controls, {len(result.findings)} findings: {shown}")
    failed_scopes = [c for c in result.collections if not c.ok]
    if failed_scopes:
        print(f"{len(failed_scopes)} listing(s) could not be collected; their controls report error")
    for path in written:
        print(f"wrote {path}")


def _gate(result: ScanResult, threshold: Severity) -> int:
    gated = result.gating(threshold)
    if gated:
        print(f"{len(gated)} finding(s) fail or error at or above {threshold.value}: exit {EXIT_GATED}")
        return EXIT_GATED
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    """Serve the sample estate locally, scan it through the SDK clients and write the reports."""
    loaded = _load(args)
    estate = load_estate(args.estate or demo_estate_path())
    from auditor.demo import scan_estate  # noqa: PLC0415 - keeps `--help` fast

    print(f"serving {estate.source} on a local HTTPS endpoint and scanning it through the Azure SDK clients")
    inventory, _ = scan_estate(estate)
    save_snapshot(inventory, args.out / "inventory.json")
    _report(inventory, args, loaded)
    print(f"wrote {args.out / 'inventory.json'}")
    if "html" in loaded.formats:
        print(f"open {(args.out / 'report.html').resolve()} in a browser")
    return EXIT_OK


def run_scan(args: argparse.Namespace) -> int:
    """Scan live subscriptions, read-only, and gate on the findings."""
    loaded = _load(args)
    from auditor.collect.scan import collect_inventory  # noqa: PLC0415 - keeps `--help` fast
    from auditor.collect.session import AzureSession  # noqa: PLC0415

    if args.ca_bundle and not args.ca_bundle.is_file():
        raise UsageError(f"--ca-bundle {args.ca_bundle}: no such file")
    if args.max_workers < 1 or args.processes < 1:
        raise UsageError("--max-workers and --processes must be at least 1")
    ca = str(args.ca_bundle) if args.ca_bundle else None
    token = os.environ.get(TOKEN_ENV)
    if args.arm_endpoint and token:
        session = AzureSession.for_emulator(args.arm_endpoint, ca or "", token)
    elif args.arm_endpoint:
        session = AzureSession.for_azure(arm_url=args.arm_endpoint, ca_bundle=ca)
    else:
        session = AzureSession.for_azure(ca_bundle=ca)
    with session:
        inventory = collect_inventory(
            session,
            None if args.all_subscriptions else args.subscription,
            resource_groups=args.resource_group,
            max_workers=args.max_workers,
            processes=args.processes,
        )
    if args.snapshot:
        save_snapshot(inventory, args.snapshot)
        print(f"wrote {args.snapshot}")
    return _gate(_report(inventory, args, loaded), args.fail_on)


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a saved inventory snapshot offline."""
    loaded = _load(args)
    inventory = load_snapshot(args.snapshot)
    return _gate(_report(inventory, args, loaded), args.fail_on)


if __name__ == "__main__":
    sys.exit(main())

"""The ``auditor`` command: demo | scan | evaluate | diff | verify | keygen | emulator.

Exit codes: 0 nothing gated, 1 findings at or above ``--fail-on``, 2 usage, configuration or input error.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auditor import __version__
from auditor.attestations import Attestation, load_attestations
from auditor.baseline import Baseline, BaselineError, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.decision_files import EntryFileError
from auditor.drift import DriftError, ScanFindings, changes_document, compare, load_findings, scan_findings
from auditor.emulator import cli as emulator_cli
from auditor.emulator.estate import EstateError, demo_estate_path, load_estate
from auditor.evaluate import evaluate
from auditor.iac import cli as iac_cli
from auditor.inventory import Inventory
from auditor.manifest import (
    ManifestError,
    SigningKey,
    generate_key_pair,
    load_public_key,
    load_signing_key,
    verify_folder,
    write_manifest,
)
from auditor.model import Severity
from auditor.parameters import Params
from auditor.registry import Registry
from auditor.reports import REPORTERS, write_reports
from auditor.results import ScanResult
from auditor.snapshot import SnapshotError, load_snapshot, save_snapshot
from auditor.terminal import (
    collection_progress,
    drift_lines,
    printable,
    summary_lines,
    verification_lines,
    wants_color,
)
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
        with _stdout_unless_quiet(args):
            return int(args.handler(args))
    except (UsageError, BaselineError, EstateError, SnapshotError, EntryFileError, DriftError, ManifestError) as exc:
        print(f"auditor: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`auditor diff --json | head`): not an error of ours. Point stdout at
        # devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


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
    _add_run_options(demo, gate=False)
    _add_source_option(demo)
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
    _add_source_option(scan)
    _add_gate_option(scan)
    _add_run_options(scan, gate=True)
    scan.set_defaults(handler=run_scan)

    offline = commands.add_parser("evaluate", help="evaluate a saved inventory snapshot offline")
    offline.add_argument("snapshot", type=Path, metavar="SNAPSHOT")
    _add_evaluation_options(offline, default_out="audit-report")
    _add_gate_option(offline)
    _add_run_options(offline, gate=True)
    offline.set_defaults(handler=run_evaluate)
    _add_integrity_commands(commands)

    iac = commands.add_parser("iac", help="gate infrastructure code (Terraform, plan JSON, ARM, Bicep) through checkov")
    iac_cli.add_arguments(iac)
    iac.set_defaults(handler=iac_cli.run)

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


def _add_source_option(parser: argparse.ArgumentParser) -> None:
    # The choices are auditor.collect.sources.SOURCES, spelt out so that --help does not import collection.
    parser.add_argument(
        "--source",
        choices=("arm", "graph", "auto"),
        default="arm",
        help="where listings come from: arm (every type through ARM), graph (Azure Resource Graph for the "
        "types it indexes, ARM for the rest) or auto (graph, falling back to ARM where a query fails); "
        "default arm",
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


def _add_run_options(parser: argparse.ArgumentParser, *, gate: bool) -> None:
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="PREVIOUS",
        help="findings.json (or its folder) of a previous scan: reports gain a 'changes since last scan' section",
    )
    if gate:
        parser.add_argument(
            "--fail-on-new",
            type=Severity,
            choices=list(Severity),
            metavar="SEVERITY",
            help="instead of --fail-on, exit 1 only for fail or error findings at or above SEVERITY that did not "
            "gate in PREVIOUS (new, or regressed); needs --compare",
        )
    parser.add_argument(
        "--sign-key", type=Path, metavar="FILE", help="Ed25519 private key (PEM) to sign manifest.json with"
    )
    _add_quiet_option(parser)


def _add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing but errors and warnings; the exit status tells"
    )


def _add_integrity_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = commands.add_parser("diff", help="compare the findings of two scans")
    diff.add_argument("old", type=Path, metavar="OLD", help="findings.json of the earlier scan, or its folder")
    diff.add_argument("new", type=Path, metavar="NEW", help="findings.json of the later scan, or its folder")
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")
    diff.set_defaults(handler=run_diff)

    verify = commands.add_parser("verify", help="check a report folder against its manifest.json")
    verify.add_argument("dir", type=Path, metavar="DIR", help="report folder")
    verify.add_argument(
        "--public-key", type=Path, metavar="FILE", help="Ed25519 public key (PEM): also check manifest.sig"
    )
    _add_quiet_option(verify)
    verify.set_defaults(handler=run_verify)

    keygen = commands.add_parser("keygen", help="create an Ed25519 key pair for signing manifests")
    keygen.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the two PEM files")
    keygen.set_defaults(handler=run_keygen)


@contextlib.contextmanager
def _stdout_unless_quiet(args: argparse.Namespace) -> Iterator[None]:
    """Silence stdout under --quiet: every informational line goes there, errors and warnings to stderr."""
    if not getattr(args, "quiet", False):
        yield
        return
    with Path(os.devnull).open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


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
    previous: ScanFindings | None = None
    signing_key: SigningKey | None = None


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
        previous=_previous_scan(args),
        signing_key=_signing_key(args),
    )


def _previous_scan(args: argparse.Namespace) -> ScanFindings | None:
    """The findings of --compare, read before any collection so a bad file fails fast."""
    compare_with: Path | None = getattr(args, "compare", None)
    if getattr(args, "fail_on_new", None) and compare_with is None:
        raise UsageError("--fail-on-new needs --compare PREVIOUS: new is relative to a previous scan")
    return load_findings(compare_with) if compare_with else None


def _signing_key(args: argparse.Namespace) -> SigningKey | None:
    """The --sign-key key, read before any collection so a bad key fails fast."""
    sign_key: Path | None = getattr(args, "sign_key", None)
    return load_signing_key(sign_key) if sign_key else None


def _report(inventory: Inventory, args: argparse.Namespace, loaded: Evaluation) -> ScanResult:
    result = evaluate(
        inventory,
        loaded.baseline,
        loaded.registry,
        loaded.params,
        attestations=loaded.attestations,
        waivers=loaded.waivers,
    )
    result = _with_changes(result, args, loaded)
    written = write_reports(result, args.out, loaded.formats)
    written += _seal(result, args, loaded, written)
    for warning in result.warnings:
        print(f"auditor: warning: {warning}", file=sys.stderr)
    _print_summary(result, written, args)
    return result


def _with_changes(result: ScanResult, args: argparse.Namespace, loaded: Evaluation) -> ScanResult:
    """The result with its changes since the previous scan, when the run was given --compare."""
    if loaded.previous is None:
        return result
    current = scan_findings(str(args.out / "findings.json"), result.metadata.finished_at, result.findings)
    return dataclasses.replace(result, changes=compare(loaded.previous, current))


def _seal(result: ScanResult, args: argparse.Namespace, loaded: Evaluation, written: Sequence[Path]) -> list[Path]:
    """Write manifest.json (and manifest.sig) over every file of this run in the report folder, last."""
    covered = list(written)
    inventory = _inventory_file(args)
    if inventory is not None and inventory.is_file() and inventory.resolve().is_relative_to(args.out.resolve()):
        covered.append(inventory)
    return write_manifest(
        args.out,
        covered,
        tool_version=result.metadata.tool_version,
        baseline_sha256=result.metadata.baseline_sha256,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        signing_key=loaded.signing_key,
    )


def _inventory_file(args: argparse.Namespace) -> Path | None:
    """The inventory behind this run's findings: demo's inventory.json, scan's --snapshot, evaluate's input."""
    if args.command == "demo":
        return Path(args.out / "inventory.json")
    snapshot: Path | None = getattr(args, "snapshot", None)
    return snapshot


def _print_summary(result: ScanResult, written: Sequence[Path], args: argparse.Namespace) -> None:
    print("\n".join(summary_lines(result, written, gate=_gate_summary(result, args), color=wants_color(sys.stdout))))


def _gate_summary(result: ScanResult, args: argparse.Namespace) -> tuple[str, int] | None:
    """The gate this run applies, in words, and how many findings it catches; None when nothing gates."""
    fail_on_new: Severity | None = getattr(args, "fail_on_new", None)
    if fail_on_new is not None and result.changes is not None:
        label = f"newly fail or error at or above {fail_on_new.value}"
        return label, len(result.changes.newly_gating(fail_on_new))
    fail_on: Severity | None = getattr(args, "fail_on", None)
    if fail_on is None:
        return None
    return f"fail or error at or above {fail_on.value}", len(result.gating(fail_on))


def _exit_status(result: ScanResult, args: argparse.Namespace) -> int:
    """Exit 1 when the gate catches anything: --fail-on-new when given, --fail-on otherwise."""
    if args.fail_on_new is None or result.changes is None:
        return _gate(result, args.fail_on)
    newly = result.changes.newly_gating(args.fail_on_new)
    if newly:
        print(
            f"{len(newly)} finding(s) newly fail or error at or above {args.fail_on_new.value} "
            f"since {printable(result.changes.previous_path)}: exit {EXIT_GATED}"
        )
        return EXIT_GATED
    return EXIT_OK


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
    from auditor.demo import scan_demo  # noqa: PLC0415 - keeps `--help` fast

    print(f"serving {estate.source} on a local HTTPS endpoint and scanning it through the Azure SDK clients")
    with collection_progress(sys.stderr, quiet=args.quiet) as progress:
        inventory, params, _ = scan_demo(
            estate, loaded.baseline, _parse_overrides(args.param), progress=progress, source=args.source
        )
    loaded = dataclasses.replace(loaded, params=params)
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
    from auditor.collect.tls import with_tls_probe  # noqa: PLC0415

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
    with session, collection_progress(sys.stderr, quiet=args.quiet) as progress:
        inventory = collect_inventory(
            session,
            None if args.all_subscriptions else args.subscription,
            resource_groups=args.resource_group,
            max_workers=args.max_workers,
            processes=args.processes,
            progress=progress,
            source=args.source,
        )
    # TLS endpoints are probed from this machine against the system trust store, like a browser would.
    inventory = with_tls_probe(inventory, loaded.params.get_list("tls_endpoints"), max_workers=args.max_workers)
    if args.snapshot:
        save_snapshot(inventory, args.snapshot)
        print(f"wrote {args.snapshot}")
    return _exit_status(_report(inventory, args, loaded), args)


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a saved inventory snapshot offline."""
    loaded = _load(args)
    inventory = load_snapshot(args.snapshot)
    return _exit_status(_report(inventory, args, loaded), args)


def run_diff(args: argparse.Namespace) -> int:
    """Compare the findings of two scans: new, resolved, changed and unchanged."""
    old, new = load_findings(args.old), load_findings(args.new)
    changes = compare(old, new)
    if args.json:
        document = changes_document(changes)
        document = {
            "previous": document.pop("previous"),
            "current": {"path": new.path, "finished_at": new.finished_at},
            **document,
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        current = f"{new.path} (finished {new.finished_at})"
        print("\n".join(drift_lines(changes, current, color=wants_color(sys.stdout))))
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    """Recompute the hashes of a report folder's manifest (and check its signature with --public-key)."""
    public_key = load_public_key(args.public_key) if args.public_key else None
    verification = verify_folder(args.dir, public_key)
    shown, problems = verification_lines(verification)
    for line in problems:
        print(line, file=sys.stderr)
    for line in shown:
        print(line)
    return EXIT_OK if verification.ok else EXIT_GATED


def run_keygen(args: argparse.Namespace) -> int:
    """Create an Ed25519 key pair for signing manifests."""
    private, public = generate_key_pair(args.out)
    print(f"wrote {private} (private: keep it secret, pass it to --sign-key)")
    print(f"wrote {public} (public: give it to whoever runs auditor verify --public-key)")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

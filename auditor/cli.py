"""The ``auditor`` command: demo | scan | evaluate | diff | verify | keygen | list-controls | iac | emulator.

Exit codes: 0 nothing gated, 1 findings at or above ``--fail-on``, 2 could not audit: a usage, configuration
or input error, no credential, or nothing collected.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from auditor import __version__
from auditor.baseline import BaselineError, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.control_selection import SelectionError, patterns
from auditor.decision_files import EntryFileError
from auditor.drift import DriftError, changes_document, compare, load_findings
from auditor.emulator import arguments as emulator_arguments
from auditor.emulator import cli as emulator_cli
from auditor.emulator.estate import EstateError, demo_estate_path, load_estate
from auditor.evaluate import evaluate
from auditor.gc_tuning import tune_for_scan
from auditor.history import cli as history_cli
from auditor.history.location import history_location
from auditor.history.options import HistoryCommandOptions, HistoryOptions
from auditor.history.options import command_options_from as history_command_options_from
from auditor.history.options import options_from as history_options_from
from auditor.iac import cli as iac_cli
from auditor.iac.runner import CheckovError
from auditor.input_files import InputFileError
from auditor.interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, terminate_raises
from auditor.inventory import Inventory
from auditor.manifest import (
    MANIFEST_FILE,
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_FILE,
    ManifestError,
    generate_key_pair,
    load_public_key,
    verify_folder,
)
from auditor.model import Severity
from auditor.options import (
    FAIL_ON_NONE,
    CommandOptions,
    DemoOptions,
    DiffOptions,
    EmulatorOptions,
    EvaluateOptions,
    GateOptions,
    IacOptions,
    KeygenOptions,
    ListControlsOptions,
    ReportOptions,
    ScanOptions,
    Source,
    ThresholdError,
    VerifyOptions,
    parse_threshold,
)
from auditor.records.tls import EndpointSyntaxError, endpoint_id, endpoint_name, parse_endpoint
from auditor.reports import REPORTERS
from auditor.reports.csv import framework_filename
from auditor.reports.frameworks import shipped_keys
from auditor.run_config import ConfigError, RunConfig, load_run_config
from auditor.runs import (
    Evaluation,
    ExtraFile,
    Outcome,
    deliver,
    exit_status,
    load_evaluation,
    print_summary,
    selected,
)
from auditor.snapshot import SnapshotError, load_snapshot, save_snapshot
from auditor.staging import StagingError, check_replaceable
from auditor.targets import UsageError, bounded_int, ca_bundle, https_url, output_file, output_folder
from auditor.targets import resource_group as resource_group_name
from auditor.targets import subscription_id as subscription_guid
from auditor.terminal import (
    collection_progress,
    drift_lines,
    printable,
    verification_lines,
    wants_color,
)

EXIT_OK = 0
EXIT_GATED = 1
EXIT_INPUT = 2
DEFAULT_FORMATS = ("html", "json")
DEFAULT_OUT = "audit-report"
# Settings `auditor iac` does not take from the run configuration: its reports are not the scan's (by default
# none are kept, and SARIF is what code scanning reads), so a configured --out or --format would mix the two;
# and code has no manual control an attestation could settle.
IAC_OWN_DEFAULTS = ("out", "format", "attestations")
DEFAULT_FAIL_ON = Severity.HIGH.value
DEFAULT_MAX_WORKERS = 8
MAX_WORKERS_LIMIT = 64
MAX_PROCESSES_LIMIT = 64
TOKEN_ENV = "AUDITOR_BEARER_TOKEN"  # noqa: S105 - the name of a variable, not a secret
# The files a run may write into --out besides the reports: demo's inventory and the manifest with its signature.
DEMO_INVENTORY = "inventory.json"
RUN_FILES = (DEMO_INVENTORY, MANIFEST_FILE, SIGNATURE_FILE)
# What a run may leave at the top of a report folder: a folder holding anything else is not replaced.
REPLACEABLE = frozenset(
    {r.FILENAME for r in REPORTERS.values()}
    | set(RUN_FILES)
    | {framework_filename(key) for key in shipped_keys()}  # the CSV report's one file per framework
)
KEY_FILES = (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE)

EXIT_CODES = """\
exit status:
  0  audited, nothing at or above the gate (--fail-on, or --fail-on-new with --compare)
  1  audited, and findings fail or error at or above the gate (verify: the folder does not match)
  2  could not audit: a bad option, configuration or input file, no credential or no subscription
     listing, or nothing could be collected; one line on stderr says which
  130, 143  stopped by SIGINT or SIGTERM; --out is as the previous run left it

option defaults come from, highest first: the command line, AUDITOR_* environment variables
(AUDITOR_OUT, AUDITOR_FORMAT, AUDITOR_FAIL_ON, AUDITOR_BASELINE, AUDITOR_CONTROLS, ...), the run
configuration (AUDITOR_CONFIG, else ./auditor.toml, else [tool.auditor] in ./pyproject.toml), built-ins"""

INPUT_ERRORS = (
    UsageError,
    BaselineError,
    EstateError,
    SnapshotError,
    EntryFileError,
    DriftError,
    ManifestError,
    ConfigError,
    SelectionError,
    InputFileError,
    StagingError,
    CheckovError,
    *history_cli.ERRORS,
)


class _ParserStop(Exception):  # noqa: N818 - a way out of argparse, not an error
    """argparse wanted to stop: --help, --version (status 0) or a usage error (status 2, already printed)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr, like every other error of the command."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and where to find the usage, then stop with status 2."""
        print(f"auditor: error: {printable(message)} (see {self.prog} --help)", file=sys.stderr)
        raise _ParserStop(EXIT_INPUT)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Stop parsing without leaving the process, so ``main`` can return the status."""
        if message:
            print(message, file=sys.stderr, end="")
        raise _ParserStop(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        config = load_run_config(os.environ, Path.cwd())
        parser = build_parser(config)
        args = parser.parse_args(argv)
    except _ParserStop as stop:
        return stop.status
    except INPUT_ERRORS as exc:
        print(f"auditor: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    try:
        options = options_from(args, config)
        tune_for_scan()
        with terminate_raises(), _stdout_unless_quiet(options):
            return COMMANDS[type(options)](options)
    except INPUT_ERRORS as exc:
        print(f"auditor: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("auditor: interrupted; the report folder is as it was", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("auditor: terminated; the report folder is as it was", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader went away (`auditor diff --json | head`): not an error of ours. Point stdout at
        # devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def build_parser(config: RunConfig | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand; defaults shown in --help include the run configuration's."""
    config = config or RunConfig()
    parser = _Parser(
        prog="auditor",
        description="Audit an Azure estate against the promises of its security policy.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help_text, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    demo = command("demo", "scan the bundled sample estate through a local endpoint")
    demo.add_argument("--estate", type=Path, help="estate file to serve instead of the bundled sample")
    _add_tls_option(demo, config, "the demo's local sites")
    _add_evaluation_options(demo, config)
    _add_run_options(demo, gate=False)
    _add_source_option(demo)

    scan = command("scan", "scan live Azure subscriptions (read-only)")
    scope = scan.add_mutually_exclusive_group(required=True)
    scope.add_argument("--subscription", action="append", metavar="ID", help="subscription id, a GUID (repeatable)")
    scope.add_argument("--all-subscriptions", action="store_true", help="every subscription the credential sees")
    scan.add_argument(
        "--resource-group", action="append", default=[], metavar="NAME", help="only these resource groups (repeatable)"
    )
    scan.add_argument(
        "--arm-endpoint",
        metavar="URL",
        help=_default_help("an https:// ARM endpoint", config, "arm_endpoint", "https://management.azure.com"),
    )
    scan.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help=_default_help("PEM CA certificates to trust for the endpoint", config, "ca_bundle", "system store"),
    )
    scan.add_argument("--snapshot", type=Path, metavar="FILE", help="also save the collected inventory here")
    _add_tls_option(scan, config, "none")
    scan.add_argument(
        "--max-workers",
        metavar="N",
        help=_default_help(
            f"concurrent API calls, 1-{MAX_WORKERS_LIMIT}", config, "max_workers", str(DEFAULT_MAX_WORKERS)
        ),
    )
    scan.add_argument(
        "--processes",
        metavar="N",
        help=_default_help(f"share subscriptions among N processes, 1-{MAX_PROCESSES_LIMIT}", config, "processes", "1"),
    )
    _add_evaluation_options(scan, config)
    _add_source_option(scan)
    _add_gate_option(scan, config)
    _add_run_options(scan, gate=True)

    offline = command("evaluate", "evaluate a saved inventory snapshot offline")
    offline.add_argument("snapshot", type=Path, metavar="SNAPSHOT")
    _add_evaluation_options(offline, config)
    _add_gate_option(offline, config)
    _add_run_options(offline, gate=True)
    _add_integrity_commands(commands)

    listing = command("list-controls", "list the baseline's controls: id, severity, mode, IaC, frameworks, title")
    _add_baseline_option(listing, config)
    _add_selection_options(listing, config)
    listing.add_argument("--json", action="store_true", help="print the controls as JSON")

    iac = command("iac", "gate infrastructure code (Terraform, plan JSON, ARM, Bicep) through checkov")
    iac.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="Terraform, plan JSON, ARM or Bicep file or folder"
    )
    iac_config = config.without(*IAC_OWN_DEFAULTS)
    _add_evaluation_options(
        iac,
        iac_config,
        attestations=False,
        out_default="none kept: the reports are rendered into a temporary folder removed at exit",
        format_default=",".join(iac_cli.DEFAULT_FORMATS),
    )
    _add_gate_option(iac, iac_config)
    _add_run_options(iac, gate=True, history=False)

    emulator = commands.add_parser("emulator", help="serve an estate file as a local HTTPS ARM endpoint")
    emulator_arguments.add_arguments(emulator)
    history_cli.add_command(commands)
    return parser


def _default_help(text: str, config: RunConfig, dest: str, builtin: str) -> str:
    """An option's help with its effective default and, when not built in, where that default comes from."""
    if dest in config.values:
        return f"{text} (default: {config.values[dest]}, from {config.sources[dest]})".replace("%", "%%")
    return f"{text} (default: {builtin})".replace("%", "%%")


def _add_baseline_option(parser: argparse.ArgumentParser, config: RunConfig) -> None:
    parser.add_argument(
        "--baseline", metavar="FILE", help=_default_help("baseline.toml", config, "baseline", "the bundled one")
    )


def _add_selection_options(parser: argparse.ArgumentParser, config: RunConfig) -> None:
    parser.add_argument(
        "--controls",
        metavar="LIST",
        help=_default_help("judge only these controls: ids or globs, comma-separated (NET-*,IAM-01)", config,
                           "controls", "all"),
    )  # fmt: skip
    parser.add_argument(
        "--exclude-controls",
        metavar="LIST",
        help=_default_help("leave out these controls: ids or globs, comma-separated", config, "exclude_controls",
                           "none"),
    )  # fmt: skip


def _add_evaluation_options(
    parser: argparse.ArgumentParser,
    config: RunConfig,
    *,
    attestations: bool = True,
    out_default: str = DEFAULT_OUT,
    format_default: str = ",".join(DEFAULT_FORMATS),
) -> None:
    _add_baseline_option(parser, config)
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a baseline parameter (repeatable; lists comma-separated; over the configuration's [params])",
    )
    parser.add_argument("--out", metavar="DIR", help=_default_help("report folder", config, "out", out_default))
    if attestations:
        parser.add_argument(
            "--attestations",
            metavar="FILE",
            help=_default_help("TOML file of attestations for manual controls", config, "attestations", "none"),
        )
    else:
        parser.set_defaults(attestations=None)
    parser.add_argument(
        "--waivers",
        metavar="FILE",
        help=_default_help("TOML file of waivers (accepted risks)", config, "waivers", "none"),
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="repository root that reports name files relative to, e.g. the baseline for code scanning (default .)",
    )
    parser.add_argument(
        "--format",
        metavar="LIST",
        help=_default_help(
            f"report formats, comma-separated, from: {', '.join(sorted(REPORTERS))}",
            config,
            "format",
            format_default,
        ),
    )
    _add_selection_options(parser, config)


def _add_tls_option(parser: argparse.ArgumentParser, config: RunConfig, builtin: str) -> None:
    parser.add_argument(
        "--tls-endpoint",
        action="append",
        dest="tls_endpoints",
        metavar="HOST:PORT",
        help=_default_help(
            "a public endpoint whose certificate and TLS versions ENC-04 probes, host:port, [IPv6]:port or a host "
            "(port 443) (repeatable; App Service custom host names are added; an empty value: none)",
            config,
            "tls_endpoints",
            builtin,
        ),
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


def _add_gate_option(parser: argparse.ArgumentParser, config: RunConfig) -> None:
    choices = ", ".join([*(s.value for s in reversed(Severity)), FAIL_ON_NONE])
    parser.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help=_default_help(
            f"exit 1 when a fail or error finding is at or above this severity, one of {choices} "
            f"({FAIL_ON_NONE}: report only, never exit 1)",
            config,
            "fail_on",
            DEFAULT_FAIL_ON,
        ),
    )


def _add_run_options(parser: argparse.ArgumentParser, *, gate: bool, history: bool = True) -> None:
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="PREVIOUS",
        help="findings.json (or its folder) of a previous scan: reports gain a 'changes since last scan' section",
    )
    if gate:
        parser.add_argument(
            "--fail-on-new",
            metavar="SEVERITY",
            help="instead of --fail-on, exit 1 only for fail or error findings at or above SEVERITY that did not "
            "gate in PREVIOUS (new, or regressed); needs --compare",
        )
    parser.add_argument(
        "--sign-key", metavar="FILE", help="Ed25519 private key (PEM) to sign manifest.json with (env AUDITOR_SIGN_KEY)"
    )
    if history:
        history_cli.add_run_options(parser, gate=gate)
    _add_quiet_option(parser)


def _add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing but errors and warnings; the exit status tells"
    )


def _add_integrity_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    diff = commands.add_parser("diff", help="compare the findings of two scans")
    diff.add_argument("old", type=Path, metavar="OLD", help="findings.json of the earlier scan, or its folder")
    diff.add_argument("new", type=Path, metavar="NEW", help="findings.json of the later scan, or its folder")
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")

    verify = commands.add_parser("verify", help="check a report folder against its manifest.json")
    verify.add_argument("dir", type=Path, metavar="DIR", help="report folder")
    verify.add_argument(
        "--public-key", type=Path, metavar="FILE", help="Ed25519 public key (PEM): also check manifest.sig"
    )
    _add_quiet_option(verify)

    keygen = commands.add_parser("keygen", help="create an Ed25519 key pair for signing manifests")
    keygen.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the two PEM files")


# --- from parsed arguments to one typed options object --------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    """Reads an option from the parsed arguments, else the run configuration, else its built-in default."""

    args: argparse.Namespace
    config: RunConfig

    def text(self, dest: str, builtin: str | None = None) -> tuple[str | None, str]:
        """The value as text and the name to give it in messages (option, variable or file key)."""
        option = "--" + dest.replace("_", "-")
        given: str | None = vars(self.args)[dest]
        if given is not None:
            return given, option
        if dest in self.config.values:
            return self.config.values[dest], self.config.source(dest, option)
        return builtin, option

    def path(self, dest: str) -> Path | None:
        value, source = self.text(dest)
        if value is None:
            return None
        if not value.strip():
            raise UsageError(f"{source}: expected a path, got an empty value")
        return Path(value)

    def integer(self, dest: str, builtin: int, low: int, high: int) -> int:
        value, source = self.text(dest, str(builtin))
        text = (value or "").strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            raise UsageError(f"{source} {value!r}: expected a whole number from {low} to {high}")
        return bounded_int(int(text), source, low, high)


def options_from(args: argparse.Namespace, config: RunConfig | None = None) -> CommandOptions:
    """The one options object of the command, every value checked; UsageError names the first bad one."""
    settings = _Settings(args, config or RunConfig())
    builders: Mapping[str, Callable[[_Settings], CommandOptions]] = {
        "demo": _demo_options,
        "scan": _scan_options,
        "evaluate": _evaluate_options,
        "diff": lambda s: DiffOptions(s.args.old, s.args.new, s.args.json),
        "verify": lambda s: VerifyOptions(s.args.dir, s.args.public_key, s.args.quiet),
        "keygen": lambda s: KeygenOptions(output_folder(s.args.out, "--out", KEY_FILES)),
        "list-controls": _list_options,
        "iac": _iac_options,
        "emulator": lambda s: emulator_arguments.options_of(s.args),
        "history": lambda s: history_command_options_from(s.args),
    }
    return builders[args.command](settings)


def _report_options(
    settings: _Settings,
    *,
    formats_default: Sequence[str] = DEFAULT_FORMATS,
    out_default: str = DEFAULT_OUT,
    history: bool = True,
    writes_out: bool = True,
) -> ReportOptions:
    args = settings.args
    formats = _formats(*settings.text("format", ",".join(formats_default)))
    out_text, out_source = settings.text("out", out_default)
    if not (out_text or "").strip():
        raise UsageError(f"{out_source}: expected a folder for the reports, got an empty value")
    out = Path(out_text or out_default)
    written = [REPORTERS[name].FILENAME for name in formats]
    return ReportOptions(
        # A run that keeps no reports (auditor iac without --out) writes nothing there.
        out=output_folder(out, out_source, [*written, *RUN_FILES]) if writes_out else out,
        formats=formats,
        baseline=settings.path("baseline"),
        params={**settings.config.params, **_parse_overrides(args.param)},
        attestations=settings.path("attestations"),
        waivers=settings.path("waivers"),
        compare=args.compare,
        sign_key=settings.path("sign_key"),
        controls=patterns(*_or_empty(settings.text("controls"))),
        exclude_controls=patterns(*_or_empty(settings.text("exclude_controls"))),
        quiet=args.quiet,
        root=_root_folder(args.root),
        history=history_options_from(args) if history else HistoryOptions(),
    )


def _root_folder(root: Path) -> Path:
    """--root: the folder reports name files relative to; it must exist."""
    if not root.is_dir():
        raise UsageError(f"--root {root}: not a folder, expected the repository root that reports name files from")
    return root


def _or_empty(pair: tuple[str | None, str]) -> tuple[str, str]:
    return pair[0] or "", pair[1]


def _gate_options(settings: _Settings, *, history: bool = True) -> GateOptions:
    fail_on = _threshold(*settings.text("fail_on", DEFAULT_FAIL_ON), allow_none=True)
    new_text = settings.args.fail_on_new
    fail_on_new = _threshold(new_text, "--fail-on-new", allow_none=False) if new_text is not None else None
    kept = history and history_location(settings.args.history)
    if fail_on_new is not None and settings.args.compare is None and not kept:
        needs = "--compare PREVIOUS or --history" if history else "--compare PREVIOUS"
        raise UsageError(f"--fail-on-new needs {needs}: new is relative to a previous scan")
    return GateOptions(fail_on=fail_on, fail_on_new=fail_on_new)


def _threshold(text: str | None, source: str, *, allow_none: bool) -> Severity | None:
    try:
        return parse_threshold(text, source, allow_none=allow_none)
    except ThresholdError as exc:
        raise UsageError(str(exc)) from None


def _source(text: str) -> Source:
    """--source as its literal type (argparse has already held it to the choices)."""
    if text == "graph":
        return "graph"
    if text == "auto":
        return "auto"
    if text == "arm":
        return "arm"
    raise UsageError(f"--source {text!r}: expected arm, graph or auto")


def _tls_endpoints(settings: _Settings) -> tuple[str, ...] | None:
    """--tls-endpoint (repeatable), else the configuration's comma-separated list, each checked; None if not set."""
    given: list[str] | None = settings.args.tls_endpoints
    if given is not None:
        # An empty value asks for no endpoint (in the demo: not its local sites either).
        entries, source = [e for e in given if e.strip()], "--tls-endpoint"
    elif "tls_endpoints" in settings.config.values:
        entries = [e for e in settings.config.values["tls_endpoints"].split(",") if e.strip()]
        source = settings.config.source("tls_endpoints", "--tls-endpoint")
    else:
        return None
    endpoints: dict[str, str] = {}
    for entry in entries:
        try:
            host, port = parse_endpoint(entry)
        except EndpointSyntaxError as exc:
            raise UsageError(f"{source}: {printable(str(exc))}, expected host:port") from None
        # Host names compare case-insensitively, as the probe's record ids do.
        endpoints.setdefault(endpoint_id(host, port), endpoint_name(host.rstrip("."), port))
    return tuple(endpoints.values())


def _demo_options(settings: _Settings) -> DemoOptions:
    return DemoOptions(
        report=_report_options(settings),
        estate=settings.args.estate,
        source=_source(settings.args.source),
        tls_endpoints=_tls_endpoints(settings),
    )


def _scan_options(settings: _Settings) -> ScanOptions:
    args = settings.args
    report = _report_options(settings)
    endpoint, endpoint_source = settings.text("arm_endpoint")
    bundle = settings.path("ca_bundle")
    subscriptions = None if args.all_subscriptions else tuple(dict.fromkeys(map(subscription_guid, args.subscription)))
    return ScanOptions(
        report=report,
        gate=_gate_options(settings),
        subscriptions=subscriptions,
        resource_groups=tuple(resource_group_name(name) for name in args.resource_group),
        arm_endpoint=https_url(endpoint, endpoint_source) if endpoint is not None else None,
        ca_bundle=ca_bundle(bundle, settings.text("ca_bundle")[1]) if bundle is not None else None,
        snapshot=output_file(args.snapshot, "--snapshot") if args.snapshot is not None else None,
        max_workers=settings.integer("max_workers", DEFAULT_MAX_WORKERS, 1, MAX_WORKERS_LIMIT),
        processes=settings.integer("processes", 1, 1, MAX_PROCESSES_LIMIT),
        source=_source(settings.args.source),
        tls_endpoints=_tls_endpoints(settings) or (),
    )


def _evaluate_options(settings: _Settings) -> EvaluateOptions:
    return EvaluateOptions(
        report=_report_options(settings), gate=_gate_options(settings), snapshot=settings.args.snapshot
    )


def _iac_options(settings: _Settings) -> IacOptions:
    """``auditor iac``: the evaluating commands' options, its own report defaults, and no history."""
    given_out = settings.args.out is not None
    report = _report_options(
        dataclasses.replace(settings, config=settings.config.without(*IAC_OWN_DEFAULTS)),
        formats_default=iac_cli.DEFAULT_FORMATS,
        out_default=".",
        history=False,
        writes_out=given_out,
    )
    return IacOptions(
        report=report,
        gate=_gate_options(settings, history=False),
        paths=tuple(settings.args.paths),
        keep=given_out,
    )


def _list_options(settings: _Settings) -> ListControlsOptions:
    return ListControlsOptions(
        baseline=settings.path("baseline"),
        controls=patterns(*_or_empty(settings.text("controls"))),
        exclude_controls=patterns(*_or_empty(settings.text("exclude_controls"))),
        json=settings.args.json,
    )


@contextlib.contextmanager
def _stdout_unless_quiet(options: CommandOptions) -> Iterator[None]:
    """Silence stdout under --quiet: every informational line goes there, errors and warnings to stderr."""
    report = getattr(options, "report", None)
    quiet = report.quiet if isinstance(report, ReportOptions) else getattr(options, "quiet", False)
    if not quiet:
        yield
        return
    with Path(os.devnull).open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


def _parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param {printable(pair[:80])!r}: expected NAME=VALUE")
        overrides[name.strip()] = value
    return overrides


def _formats(text: str | None, source: str = "--format") -> tuple[str, ...]:
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    unknown = [name for name in names if name not in REPORTERS]
    if unknown or not names:
        shown = unknown[0] if unknown else text
        raise UsageError(f"{source}: unknown format {shown!r} (known: {', '.join(sorted(REPORTERS))})")
    return tuple(dict.fromkeys(names))


# --- running the commands ----------------------------------------------------------------------------------------


def _report_and_summarise(
    inventory: Inventory,
    options: ReportOptions,
    loaded: Evaluation,
    gate: GateOptions | None,
    inventory_file: Path | None,
    *,
    source: Path | None = None,
) -> Outcome:
    """Judge the inventory, write every file of the run into --out (whole or not at all) and print the summary."""
    result = evaluate(
        inventory,
        loaded.baseline,
        loaded.registry,
        loaded.params,
        attestations=loaded.attestations,
        waivers=loaded.waivers,
        root=options.root,
    )
    inventory_name = _inventory_in_out(options.out, inventory_file)
    extra: list[ExtraFile] = []
    if inventory_name is not None:
        extra.append(lambda staging: _stage_inventory(inventory, source, staging / inventory_name))
    outcome = deliver(result, options, loaded, gate, replaceable=_run_files(options.out, inventory_file), extra=extra)
    print_summary(outcome, gate)
    return outcome


def _inventory_in_out(out: Path, inventory_file: Path | None) -> str | None:
    """The inventory's path inside --out (posix), when it lies there and so belongs to the sealed folder."""
    if inventory_file is None:
        return None
    try:
        return inventory_file.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return None


def _run_files(out: Path, inventory_file: Path | None) -> frozenset[str]:
    """What this run may replace at the top of --out: the files any run writes, and its inventory."""
    inventory_name = _inventory_in_out(out, inventory_file)
    return REPLACEABLE | {inventory_name} if inventory_name else REPLACEABLE


def _stage_inventory(inventory: Inventory, source: Path | None, staged: Path) -> Path:
    """The inventory into the staging folder: evaluate's input copied byte for byte, a collection saved."""
    if source is not None:
        staged.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staged)
    else:
        save_snapshot(inventory, staged)
    return staged


def run_demo(options: DemoOptions) -> int:
    """Serve the sample estate locally, scan it through the SDK clients and write the reports."""
    report = options.report
    inventory_file = report.out / DEMO_INVENTORY
    check_replaceable(report.out, _run_files(report.out, inventory_file))  # fails fast, before collecting
    loaded = load_evaluation(report)
    estate = load_estate(options.estate or demo_estate_path())
    from auditor.demo import scan_demo  # noqa: PLC0415 - keeps `--help` fast

    print(f"serving {estate.source} on a local HTTPS endpoint and scanning it through the Azure SDK clients")
    with collection_progress(sys.stderr, quiet=report.quiet) as progress:
        inventory, _, _ = scan_demo(
            estate,
            loaded.baseline,
            dict(report.params),
            tls_endpoints=options.tls_endpoints,
            progress=progress,
            source=options.source,
        )
    outcome = _report_and_summarise(inventory, report, loaded, None, inventory_file)
    if "html" in loaded.formats:
        print(f"open {(report.out / 'report.html').resolve()} in a browser")
    return history_cli.exit_status(outcome.result, report.history, EXIT_OK)


def run_scan(options: ScanOptions) -> int:
    """Scan live subscriptions, read-only, and gate on the findings; exit 2 when nothing can be audited."""
    check_replaceable(options.report.out, _run_files(options.report.out, options.snapshot))
    loaded = load_evaluation(options.report)
    from auditor.collect.preflight import preflight  # noqa: PLC0415 - keeps `--help` fast
    from auditor.collect.scan import SUBSCRIPTIONS_API, collect_inventory  # noqa: PLC0415
    from auditor.collect.tls import with_tls_probe  # noqa: PLC0415

    # The SDK's own warnings would repeat what the findings and the one-line errors below already say.
    azure_log = logging.getLogger("azure")
    if not any(isinstance(handler, logging.NullHandler) for handler in azure_log.handlers):
        azure_log.addHandler(logging.NullHandler())
    with _session(options) as session:
        problem = preflight(session)
        if problem:
            raise UsageError(f"cannot audit: {problem}")
        with collection_progress(sys.stderr, quiet=options.report.quiet) as progress:
            inventory = collect_inventory(
                session,
                options.subscriptions,
                resource_groups=list(options.resource_groups),
                max_workers=options.max_workers,
                processes=options.processes,
                progress=progress,
                source=options.source,
            )
    _require_something_collected(inventory, SUBSCRIPTIONS_API)
    # TLS endpoints are probed from this machine against the system trust store, like a browser would.
    inventory = with_tls_probe(inventory, options.tls_endpoints, max_workers=options.max_workers)
    if options.snapshot and _inventory_in_out(options.report.out, options.snapshot) is None:
        save_snapshot(inventory, options.snapshot)  # one inside --out is written with the reports
        print(f"wrote {options.snapshot}")
    outcome = _report_and_summarise(inventory, options.report, loaded, options.gate, options.snapshot)
    return history_cli.exit_status(outcome.result, options.report.history, exit_status(outcome, options.gate))


def _session(options: ScanOptions) -> Any:
    """The session of a live scan: the bearer token of AUDITOR_BEARER_TOKEN, else DefaultAzureCredential."""
    from auditor.collect.session import AzureSession  # noqa: PLC0415 - keeps `--help` fast

    ca = str(options.ca_bundle) if options.ca_bundle else None
    token = os.environ.get(TOKEN_ENV)
    if options.arm_endpoint and token:
        return AzureSession.for_emulator(options.arm_endpoint, ca or "", token)
    if options.arm_endpoint:
        return AzureSession.for_azure(arm_url=options.arm_endpoint, ca_bundle=ca)
    return AzureSession.for_azure(ca_bundle=ca)


def _require_something_collected(inventory: Inventory, subscriptions_api: str) -> None:
    """A scan whose listings failed and returned nothing anywhere audited nothing: exit 2, not a report of errors."""
    # Enrichments of parents that were never listed succeed vacuously, so "nothing" means no item at all.
    listings = [c for c in inventory.collections if c.api != subscriptions_api]
    failed = [c for c in listings if not c.ok]
    if failed and not any(c.ok and c.items for c in listings):
        raise UsageError(
            f"cannot audit: nothing could be collected ({len(failed)} of {len(listings)} listings failed, the "
            f"rest returned nothing; first: {failed[0].describe()})"
        )


def run_evaluate(options: EvaluateOptions) -> int:
    """Evaluate a saved inventory snapshot offline."""
    check_replaceable(options.report.out, _run_files(options.report.out, options.snapshot))
    loaded = load_evaluation(options.report)
    inventory = load_snapshot(options.snapshot)
    outcome = _report_and_summarise(
        inventory, options.report, loaded, options.gate, options.snapshot, source=options.snapshot
    )
    return history_cli.exit_status(outcome.result, options.report.history, exit_status(outcome, options.gate))


def run_diff(options: DiffOptions) -> int:
    """Compare the findings of two scans: new, resolved, changed and unchanged."""
    old, new = load_findings(options.old), load_findings(options.new)
    changes = compare(old, new)
    if options.json:
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


def run_verify(options: VerifyOptions) -> int:
    """Recompute the hashes of a report folder's manifest (and check its signature with --public-key)."""
    public_key = load_public_key(options.public_key) if options.public_key else None
    verification = verify_folder(options.folder, public_key)
    shown, problems = verification_lines(verification)
    for line in problems:
        print(line, file=sys.stderr)
    for line in shown:
        print(line)
    return EXIT_OK if verification.ok else EXIT_GATED


def run_keygen(options: KeygenOptions) -> int:
    """Create an Ed25519 key pair for signing manifests."""
    private, public = generate_key_pair(options.out)
    print(f"wrote {private} (private: keep it secret, pass it to --sign-key)")
    print(f"wrote {public} (public: give it to whoever runs auditor verify --public-key)")
    return EXIT_OK


def run_list_controls(options: ListControlsOptions) -> int:
    """Print the baseline's controls: id, severity, mode, whether IaC can decide it, frameworks, title."""
    baseline = load_baseline(options.baseline or default_baseline_path(), builtin_registry())
    baseline = selected(baseline, options.controls, options.exclude_controls)
    from auditor.iac.selection import decidable  # noqa: PLC0415 - the IaC doors load only for this listing

    rows = [
        {
            "id": c.id,
            "title": c.title,
            "severity": c.severity.value,
            "mode": c.mode,
            "iac": "yes" if decidable(c) else "no",
            "frameworks": {name: list(refs) for name, refs in c.frameworks.items()},
        }
        for c in baseline.controls
    ]
    if options.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    from auditor.terminal import table  # noqa: PLC0415 - the same table the summary prints

    lines = table(
        ("id", "severity", "mode", "iac", "frameworks", "title"),
        [
            (
                str(r["id"]),
                str(r["severity"]),
                str(r["mode"]),
                str(r["iac"]),
                "; ".join(f"{n} {' '.join(refs)}" for n, refs in c.frameworks.items()),
                str(r["title"]),
            )
            for r, c in zip(rows, baseline.controls, strict=True)
        ],
    )
    print("\n".join(printable(line) for line in lines))
    return EXIT_OK


COMMANDS: Mapping[type[Any], Callable[[Any], int]] = {
    DemoOptions: run_demo,
    ScanOptions: run_scan,
    EvaluateOptions: run_evaluate,
    DiffOptions: run_diff,
    VerifyOptions: run_verify,
    KeygenOptions: run_keygen,
    ListControlsOptions: run_list_controls,
    IacOptions: iac_cli.run,
    EmulatorOptions: emulator_cli.run,
    HistoryCommandOptions: history_cli.run_history,
}


if __name__ == "__main__":
    sys.exit(main())

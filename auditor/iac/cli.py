"""``auditor iac PATH...``: gate infrastructure code on the baseline's controls through checkov.

Exit codes as for ``scan``: 0 nothing gated, 1 a fail or error finding at or above ``--fail-on``, 2 a usage
or input error (a missing path, a bad baseline, parameter or format, checkov missing or crashing).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from auditor.annotations import ci_annotations, failure_lines, failures
from auditor.baseline import BaselineError, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.iac.mapping import iac_result
from auditor.iac.runner import CheckovError, run_checkov
from auditor.iac.selection import mapped_check_ids
from auditor.model import Severity
from auditor.options import ThresholdError, parse_threshold
from auditor.reports import REPORTERS, write_reports
from auditor.results import ScanResult
from auditor.staging import StagingError, check_replaceable, staged_folder
from auditor.targets import UsageError, output_folder
from auditor.terminal import printable, summary_lines, wants_color

EXIT_OK = 0
EXIT_GATED = 1
EXIT_INPUT = 2
DEFAULT_FORMATS = "sarif,json"
REPORT_FILES = frozenset(r.FILENAME for r in REPORTERS.values())


class IacUsageError(Exception):
    """A problem with the command line or its inputs: one line on stderr, exit 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``auditor iac`` to a (sub)command parser."""
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="Terraform, plan JSON, ARM or Bicep file or folder"
    )
    parser.add_argument("--baseline", type=Path, metavar="FILE", help="baseline.toml (default: the bundled one)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a baseline parameter (repeatable; lists comma-separated)",
    )
    parser.add_argument(
        "--fail-on",
        default=Severity.HIGH.value,
        metavar="SEVERITY",
        help="exit 1 when a fail or error finding is at or above this severity, one of critical, high, medium, "
        "low, info, none (none: report only) (default high)",
    )
    parser.add_argument(
        "--format",
        default=DEFAULT_FORMATS,
        metavar="LIST",
        help=f"report formats, comma-separated, from: {', '.join(sorted(REPORTERS))} (default {DEFAULT_FORMATS})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="report folder, replaced whole by each run (default: none kept; the reports are written to a "
        "temporary folder that is removed at exit, so nothing lands in the working tree)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="folder that finding file paths are relative to, the repository root for code scanning "
        "(default: the current folder)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors; the exit status tells")


def run(args: argparse.Namespace) -> int:
    """Run checkov over the paths, map its results to the baseline's controls, report and gate."""
    try:
        return _run(args)
    except (IacUsageError, BaselineError, CheckovError, StagingError) as exc:
        print(f"auditor: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_INPUT


def _run(args: argparse.Namespace) -> int:
    paths: list[Path] = list(args.paths)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise IacUsageError(f"no such file or folder: {', '.join(missing)}")
    if not args.root.is_dir():
        raise IacUsageError(f"--root {args.root}: not a folder")
    formats = _formats(args.format)
    try:
        threshold = parse_threshold(args.fail_on, "--fail-on", allow_none=True)
    except ThresholdError as exc:
        raise IacUsageError(str(exc)) from None
    if args.out is not None:
        try:
            output_folder(args.out, "--out", [REPORTERS[name].FILENAME for name in formats])
        except UsageError as exc:
            raise IacUsageError(str(exc)) from None
        check_replaceable(args.out, REPORT_FILES)  # before checkov, not after
    registry = builtin_registry()
    baseline = load_baseline(args.baseline or default_baseline_path(), registry)
    params = baseline.resolve_params(_overrides(args.param))
    started = datetime.now(UTC)
    checkov = run_checkov(paths, mapped_check_ids(baseline), params)
    result = iac_result(
        checkov,
        baseline,
        registry,
        params,
        paths=paths,
        root=args.root,
        started_at=started,
        finished_at=datetime.now(UTC),
    )
    written = _write(result, args.out, formats)
    gated = result.gating(threshold) if threshold is not None else ()
    if not args.quiet:
        gate = (f"fail or error at or above {threshold.value}", len(gated)) if threshold is not None else None
        print("\n".join(summary_lines(result, written, gate=gate, color=wants_color(sys.stdout))))
        if args.out is None:
            print("reports not kept (give --out DIR to keep them)")
        shown = failures(gated)
        lines = [*failure_lines(shown), *ci_annotations(shown, os.environ)]
        if lines:
            print("\n".join(lines))
        if gated and threshold is not None:
            print(f"{len(gated)} finding(s) fail or error at or above {threshold.value}: exit {EXIT_GATED}")
    return EXIT_GATED if gated else EXIT_OK


def _write(result: ScanResult, out: Path | None, formats: list[str]) -> list[Path]:
    """The reports into --out, replacing it whole; without --out into a temporary folder (none listed)."""
    if out is None:
        # Rendered all the same, so a report that cannot be written fails the run as it would with --out.
        with tempfile.TemporaryDirectory(prefix="auditor-iac-") as temporary:
            write_reports(result, Path(temporary), formats)
        return []
    with staged_folder(out, REPORT_FILES) as staging:
        written = write_reports(result, staging, formats)
    return [out / path.relative_to(staging) for path in written]


def _formats(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in REPORTERS]
    if unknown or not names:
        known = ", ".join(sorted(REPORTERS))
        raise IacUsageError(f"--format: unknown format {unknown[0] if unknown else text!r} (known: {known})")
    return names


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise IacUsageError(f"--param {pair!r}: expected NAME=VALUE")
        overrides[name.strip()] = value
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """``auditor iac`` as a program of its own: ``python -m auditor.iac.cli PATH...``."""
    parser = argparse.ArgumentParser(prog="auditor iac", description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

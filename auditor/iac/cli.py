"""``auditor iac PATH...``: gate infrastructure code on the baseline's controls through checkov.

The run takes the main command's options and steps (auditor.runs): the reports, --waivers, --compare with
--fail-on-new, the signed manifest and the gate. Exit codes as for ``scan``: 0 nothing gated, 1 a fail or
error finding at or above the gate, 2 a usage or input error (a missing path, a bad baseline, parameter or
format, checkov missing or crashing).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from auditor.iac.mapping import iac_result
from auditor.iac.runner import run_checkov
from auditor.iac.selection import mapped_check_ids
from auditor.manifest import MANIFEST_FILE, SIGNATURE_FILE
from auditor.options import IacOptions
from auditor.reports import REPORTERS
from auditor.runs import deliver, exit_status, load_evaluation, print_summary
from auditor.staging import check_replaceable
from auditor.targets import UsageError

DEFAULT_FORMATS = ("sarif", "json")
# What an IaC run may replace at the top of --out: its reports and the manifest with its signature.
REPLACEABLE = frozenset({r.FILENAME for r in REPORTERS.values()} | {MANIFEST_FILE, SIGNATURE_FILE})


def run(options: IacOptions) -> int:
    """Run checkov over the paths, map its results to the baseline's controls, report and gate."""
    report = options.report
    missing = [str(p) for p in options.paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if options.keep:
        check_replaceable(report.out, REPLACEABLE)  # before checkov, not after
    loaded = load_evaluation(report, history=False)
    started = datetime.now(UTC)
    checkov = run_checkov(list(options.paths), mapped_check_ids(loaded.baseline), loaded.params)
    result = iac_result(
        checkov,
        loaded.baseline,
        loaded.registry,
        loaded.params,
        paths=options.paths,
        root=report.root,
        started_at=started,
        finished_at=datetime.now(UTC),
        waivers=loaded.waivers,
    )
    outcome = deliver(result, report, loaded, options.gate, replaceable=REPLACEABLE, keep=options.keep)
    print_summary(outcome, options.gate)
    if not options.keep:
        print("reports not kept (give --out DIR to keep them)")
    return exit_status(outcome, options.gate)


def main(argv: Sequence[str] | None = None) -> int:
    """``auditor iac`` as a program of its own: ``python -m auditor.iac.cli PATH...``."""
    from auditor.cli import main as auditor_main  # noqa: PLC0415 - the command line imports this module

    return auditor_main(["iac", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())

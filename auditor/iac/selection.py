"""Which checkov checks judge each control in code: checkov's own the baseline lists, then the auditor's rules."""

from __future__ import annotations

from auditor.baseline import IAC_FRAMEWORKS, Baseline, Control
from auditor.iac.doors import frameworks_of
from auditor.registry import iac_check_id


def iac_check_ids(control: Control, framework: str) -> tuple[str, ...]:
    """The checks for one framework: the baseline's checkov checks, then one per rule of the control with a door."""
    own = tuple(iac_check_id(rule) for rule in control.checks if framework in frameworks_of(rule))
    return control.iac.checks_for(framework) + own


def decidable(control: Control) -> bool:
    """True when some framework has a check that judges the control in code."""
    return any(iac_check_ids(control, framework) for framework in IAC_FRAMEWORKS)


def mapped_check_ids(baseline: Baseline) -> set[str]:
    """Every check id some control maps, for any framework: the checks checkov needs to run."""
    return {check for control in baseline.controls for f in IAC_FRAMEWORKS for check in iac_check_ids(control, f)}

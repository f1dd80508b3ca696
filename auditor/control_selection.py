"""Choosing which controls of the baseline a run judges: --controls and --exclude-controls (ids or globs)."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Sequence

from auditor.baseline import Baseline

_PATTERN = re.compile(r"^[A-Za-z0-9_*?\[\]-]{1,64}$")


class SelectionError(ValueError):
    """A pattern that is malformed or matches no control; the message names the option."""


def patterns(text: str, option: str) -> tuple[str, ...]:
    """Comma-separated control ids or globs (``NET-*``), checked for form only."""
    found = tuple(part.strip() for part in text.split(",") if part.strip())
    for pattern in found:
        if not _PATTERN.match(pattern):
            raise SelectionError(
                f"{option} {pattern!r}: expected control ids or globs such as NET-01 or NET-*, comma-separated"
            )
    return found


def select_controls(
    baseline: Baseline, include: Sequence[str], exclude: Sequence[str], *, sources: tuple[str, str]
) -> Baseline:
    """The baseline with only the chosen controls; every pattern must match at least one control."""
    ids = [control.id for control in baseline.controls]
    for pattern, option in [*((p, sources[0]) for p in include), *((p, sources[1]) for p in exclude)]:
        if not any(_matches(pattern, control_id) for control_id in ids):
            raise SelectionError(f"{option} {pattern!r}: matches no control of the baseline (ids: {_span(ids)})")
    chosen = tuple(
        control
        for control in baseline.controls
        if (not include or any(_matches(p, control.id) for p in include))
        and not any(_matches(p, control.id) for p in exclude)
    )
    if not chosen:
        raise SelectionError(f"{sources[0]} and {sources[1]}: together they leave no control to judge")
    return dataclasses.replace(baseline, controls=chosen)


def _matches(pattern: str, control_id: str) -> bool:
    return fnmatch.fnmatchcase(control_id.upper(), pattern.upper())


def _span(ids: Sequence[str]) -> str:
    return ", ".join(ids) if len(ids) <= 12 else f"{', '.join(ids[:12])}, ... ({len(ids)} in all)"

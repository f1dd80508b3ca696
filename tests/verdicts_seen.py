"""Which verdicts each built-in judge gave while the unit tests ran: recorded when RECORD_ENV names a file.

The recorder replaces every judge in its module before any test module imports it, so direct calls and
calls through a registry are both seen; the statuses are written when the session ends.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from auditor.checks import BUILTIN_MODULES
from auditor.model import Verdict
from auditor.parameters import Params
from auditor.registry import Judge, checks_in

RECORD_ENV = "AUDITOR_RECORD_VERDICTS"

SEEN: defaultdict[str, set[str]] = defaultdict(set)


def _recording(check_id: str, judge: Judge) -> Any:
    @functools.wraps(judge)
    def recorded(record: Any, params: Params) -> Verdict | None:
        verdict = judge(record, params)
        if verdict is not None:
            SEEN[check_id].add(verdict.status.value)
        return verdict

    return recorded


def install() -> None:
    """Replace every built-in judge with one that records its verdicts."""
    for name in BUILTIN_MODULES:
        module = importlib.import_module(name)
        for registered in list(checks_in(module)):
            setattr(module, registered.judge.__name__, _recording(registered.spec.id, registered.judge))


def write(path: Path) -> None:
    """The verdicts seen, by check id."""
    path.write_text(json.dumps({k: sorted(v) for k, v in sorted(SEEN.items())}, indent=1), encoding="utf-8")

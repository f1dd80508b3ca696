"""Which verdicts each built-in check gave while the unit tests ran: recorded when RECORD_ENV names a file.

The recorder replaces every check function in its module before any test module imports it, so direct
calls and calls through a registry are both seen; the statuses are written when the session ends.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from auditor.checks import BUILTIN_MODULES
from auditor.inventory import Inventory
from auditor.model import CheckResult
from auditor.parameters import Params
from auditor.registry import checks_in

RECORD_ENV = "AUDITOR_RECORD_VERDICTS"

SEEN: defaultdict[str, set[str]] = defaultdict(set)


def _recording(check_id: str, run: Callable[[Inventory, Params], Iterable[CheckResult]]) -> Any:
    @functools.wraps(run)
    def recorded(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
        results = list(run(inventory, params))
        SEEN[check_id].update(r.status.value for r in results)
        return iter(results)

    return recorded


def install() -> None:
    """Replace every built-in check function with one that records its verdicts."""
    for name in BUILTIN_MODULES:
        module = importlib.import_module(name)
        for registered in list(checks_in(module)):
            setattr(module, registered.run.__name__, _recording(registered.spec.id, registered.run))


def write(path: Path) -> None:
    """The verdicts seen, by check id."""
    path.write_text(json.dumps({k: sorted(v) for k, v in sorted(SEEN.items())}, indent=1), encoding="utf-8")

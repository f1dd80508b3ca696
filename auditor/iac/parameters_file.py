"""Baseline parameters handed to the checkov process, which has no parameter mechanism of its own.

``auditor iac`` writes the resolved parameters as JSON and names the file in ``AUDITOR_IAC_PARAMS``; the
checks in ``auditor.checks.iac`` read it back, or use the bundled baseline's defaults when it is not set
(so ``checkov --external-checks-dir checks/iac`` alone still works).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from auditor.parameters import Params, ParamValue

PARAMS_ENV = "AUDITOR_IAC_PARAMS"


class ParametersFileError(ValueError):
    """The parameters file is unreadable or not a JSON object of parameter values."""


def write_params(params: Params, path: Path) -> None:
    """Write the parameter values as one JSON object (lists as arrays)."""
    values = {name: list(value) if isinstance(value, tuple) else value for name, value in params.values.items()}
    path.write_text(json.dumps(values, indent=2, sort_keys=True), encoding="utf-8")


def read_params(path: Path) -> Params:
    """Read a file written by ``write_params``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParametersFileError(f"{PARAMS_ENV} {path}: cannot read parameters: {exc}") from None
    if not isinstance(data, dict):
        raise ParametersFileError(f"{PARAMS_ENV} {path}: expected a JSON object of parameter values")
    return Params({name: _value(name, value, path) for name, value in data.items()})


def _value(name: str, value: object, path: Path) -> ParamValue:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ParametersFileError(f"{PARAMS_ENV} {path}: parameter {name!r} has an unsupported value {value!r}")


def default_params() -> Params:
    """The bundled baseline's parameter defaults."""
    # Imported here: the whole check catalogue loads with the baseline, which a run with the file never needs.
    from auditor.baseline import default_baseline_path, load_baseline  # noqa: PLC0415
    from auditor.checks import builtin_registry  # noqa: PLC0415

    return load_baseline(default_baseline_path(), builtin_registry()).resolve_params()


@cache
def params_for(environment_value: str | None) -> Params:
    """The parameters a checkov run uses: from the named file, else the bundled defaults (read once each)."""
    return read_params(Path(environment_value)) if environment_value else default_params()


def current_params(environ: Mapping[str, str] = os.environ) -> Params:
    """The parameters named by ``AUDITOR_IAC_PARAMS`` in the environment, or the defaults."""
    return params_for(environ.get(PARAMS_ENV) or None)

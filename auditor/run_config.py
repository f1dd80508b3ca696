"""Run configuration: option defaults from ``auditor.toml`` (or ``[tool.auditor]`` in pyproject.toml) and
``AUDITOR_*`` environment variables.

Precedence, highest first: the command line, the environment, the configuration file, the built-in default.
Every value is kept as the text the command line would take, with where it came from, so the option's own
check reports a bad value under the name of its source (``AUDITOR_OUT``, ``auditor.toml: key 'out'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.input_files import MAX_SMALL_FILE_BYTES, InputFileError, read_toml

CONFIG_FILE = "auditor.toml"
PYPROJECT_FILE = "pyproject.toml"
CONFIG_ENV = "AUDITOR_CONFIG"

# Option destinations a run configuration may set, and the environment variable of each.
SETTINGS: Mapping[str, str] = {
    "baseline": "AUDITOR_BASELINE",
    "out": "AUDITOR_OUT",
    "format": "AUDITOR_FORMAT",
    "fail_on": "AUDITOR_FAIL_ON",
    "controls": "AUDITOR_CONTROLS",
    "exclude_controls": "AUDITOR_EXCLUDE_CONTROLS",
    "attestations": "AUDITOR_ATTESTATIONS",
    "waivers": "AUDITOR_WAIVERS",
    "sign_key": "AUDITOR_SIGN_KEY",
    "arm_endpoint": "AUDITOR_ARM_ENDPOINT",
    "ca_bundle": "AUDITOR_CA_BUNDLE",
    "max_workers": "AUDITOR_MAX_WORKERS",
    "processes": "AUDITOR_PROCESSES",
    # A list: comma-separated in the variable, a list of strings in the file.
    "tls_endpoints": "AUDITOR_TLS_ENDPOINTS",
}
# Settings that name a file or folder: relative paths in a configuration file are relative to that file.
PATH_SETTINGS = frozenset({"baseline", "out", "attestations", "waivers", "sign_key", "ca_bundle"})
# Baseline parameters: a [params] table in the file; on the command line, --param overrides them by name.
PARAMS_KEY = "params"


class ConfigError(ValueError):
    """A run configuration file or variable that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class RunConfig:
    """Option defaults as command-line text, where each came from, and baseline parameter overrides."""

    values: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    file: str = ""

    def without(self, *dests: str) -> RunConfig:
        """The configuration with the given settings left to the command line and the built-in defaults."""
        kept = {dest: value for dest, value in self.values.items() if dest not in dests}
        return RunConfig(kept, {d: s for d, s in self.sources.items() if d in kept}, self.params, self.file)

    def source(self, dest: str, option: str) -> str:
        """How a message names the origin of an option's value: the option, or the variable or file key."""
        return self.sources.get(dest, option)


def load_run_config(environ: Mapping[str, str], cwd: Path) -> RunConfig:
    """The configuration file (AUDITOR_CONFIG, ./auditor.toml or ./pyproject.toml) under the environment."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    params: dict[str, str] = {}
    path, table = _config_file(environ, cwd)
    if path is not None:
        where = f"{path}" if path.name == CONFIG_FILE or CONFIG_ENV in environ else f"{path}: [tool.auditor]"
        for key, value in table.items():
            if key == PARAMS_KEY:
                params = _params(value, f"{where}: key {key!r}")
                continue
            if key.replace("-", "_") not in SETTINGS:
                allowed = ", ".join(sorted([*SETTINGS, PARAMS_KEY]))
                raise ConfigError(f"{where}: unknown key {key!r} (allowed: {allowed})")
            dest = key.replace("-", "_")
            values[dest] = _text(value, f"{where}: key {key!r}")
            if dest in PATH_SETTINGS and values[dest] and not Path(values[dest]).is_absolute():
                values[dest] = str(path.parent / values[dest])
            sources[dest] = f"{where}: key {key!r}"
    for dest, variable in SETTINGS.items():
        if variable in environ:
            values[dest] = environ[variable]
            sources[dest] = variable
    return RunConfig(values, sources, params, str(path) if path else "")


def _config_file(environ: Mapping[str, str], cwd: Path) -> tuple[Path | None, dict[str, Any]]:
    named = environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        return path, _read(path, f"{CONFIG_ENV} {path}")
    own = cwd / CONFIG_FILE
    if own.exists():
        return own, _read(own, str(own))
    pyproject = cwd / PYPROJECT_FILE
    if pyproject.is_file():
        tool = _read(pyproject, str(pyproject)).get("tool", {})
        table = tool.get("auditor") if isinstance(tool, dict) else None
        if table is None:
            return None, {}
        if not isinstance(table, dict):
            raise ConfigError(f"{pyproject}: [tool.auditor] must be a table")
        return pyproject, table
    return None, {}


def _read(path: Path, where: str) -> dict[str, Any]:
    try:
        return read_toml(path, "run configuration", limit=MAX_SMALL_FILE_BYTES)
    except InputFileError as exc:
        raise ConfigError(str(exc).replace(f"run configuration {path}", where, 1)) from None


def _text(value: Any, where: str) -> str:
    """A TOML value as the command line would spell it: lists comma-separated, booleans true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        return ",".join(str(v) for v in value)
    raise ConfigError(f"{where}: expected a string, an integer or a list of strings, got {type(value).__name__}")


def _params(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of parameter = value")
    return {str(name): _text(item, f"{where}: {name!r}") for name, item in value.items()}

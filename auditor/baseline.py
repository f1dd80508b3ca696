"""Load ``baseline.toml`` and validate it against the check registry.

Every problem is reported with the file and the key it concerns, so a user editing the baseline knows
exactly what to fix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from auditor.input_files import MAX_SMALL_FILE_BYTES, InputFileError, decode_utf8, parse_toml, read_bytes
from auditor.model import Severity
from auditor.parameters import (
    Constraint,
    ParameterError,
    Params,
    ParamType,
    ParamValue,
    ValueFormat,
    Weakening,
    coerce,
    parse_cli,
)
from auditor.registry import Registry

AREAS = (
    "identity",
    "network",
    "endpoint",
    "encryption",
    "keys",
    "backup",
    "monitoring",
    "data",
    "organisation",
)
MODES = ("automated", "manual")

_TOP_KEYS = {"baseline", "parameters", "controls"}
# Former parameters that are no longer policy: what a baseline or --param that still sets one is told.
MOVED_PARAMETERS = {
    "tls_endpoints": "the TLS endpoints to probe are what a scan collects, not policy: it moved to the "
    "--tls-endpoint HOST:PORT option of scan and demo (repeatable; tls_endpoints in auditor.toml or "
    "AUDITOR_TLS_ENDPOINTS)",
}
_HEADER_KEYS = {"name", "version", "policy"}
_PARAMETER_KEYS = {"type", "default", "description", "quote"}
_CONSTRAINT_KEYS = {"min", "max", "choices", "format", "weakened_by", "allow_weakening"}
_LIST_TYPES = (ParamType.STRING_LIST, ParamType.CIDR_LIST)
_CONTROL_REQUIRED = {"id", "title", "area", "severity", "mode", "quote", "description"}
_CONTROL_OPTIONAL = {"checks", "parameters", "frameworks", "iac"}

# checkov frameworks a control may map checks for. Terraform plan JSON runs the Terraform checks, and Bicep
# runs the ARM ones, but the same check id can still mean different things in Terraform and ARM, so each
# framework lists its own.
IAC_FRAMEWORKS = ("terraform", "arm", "bicep")
IAC_NOT_DECIDABLE = "not_decidable"
IAC_CHECK_ID = re.compile(r"^CKV2?_AZURE_\d+$")


E = TypeVar("E", bound=StrEnum)


class BaselineError(ValueError):
    """The baseline file is unreadable or does not describe a valid set of controls."""


@dataclass(frozen=True)
class ParameterSpec:
    """A tunable value of the baseline and the policy sentence it comes from."""

    name: str
    type: ParamType
    default: ParamValue
    description: str
    quote: str
    constraint: Constraint = field(default_factory=Constraint)

    def accept(self, value: ParamValue, where: str) -> str:
        """Check a value against the constraint; returns why it weakens the control ("" if it does not)."""
        try:
            self.constraint.check(self.type, value)
        except ParameterError as exc:
            raise BaselineError(f"{where}: {exc}") from None
        reason = self.constraint.weakens(value)
        if reason and not self.constraint.allow_weakening:
            raise BaselineError(
                f"{where}: {reason}, which disables the control; the baseline must say allow_weakening = true "
                f"under [parameters.{self.name}] to accept it"
            )
        return reason


@dataclass(frozen=True)
class IacMapping:
    """The checkov checks that judge a control in infrastructure code, or why none can."""

    checks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    not_decidable: str = ""

    def checks_for(self, framework: str) -> tuple[str, ...]:
        """Check ids mapped for one of IAC_FRAMEWORKS (none for an unknown framework)."""
        return self.checks.get(framework, ())


@dataclass(frozen=True)
class Control:
    """One promise of the policy, encoded."""

    id: str
    title: str
    area: str
    severity: Severity
    mode: str
    quote: str
    description: str
    checks: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    iac: IacMapping = field(default_factory=IacMapping)
    # Line of the control's id in the baseline file (0 if unknown), where code scanning points live results.
    line: int = 0

    @property
    def is_manual(self) -> bool:
        """True when only an attestation can show this promise is kept."""
        return self.mode == "manual"


@dataclass(frozen=True)
class Baseline:
    """The validated baseline."""

    path: str
    sha256: str
    name: str
    version: str
    policy: str
    parameters: Mapping[str, ParameterSpec]
    controls: tuple[Control, ...]

    def control(self, control_id: str) -> Control:
        """The control with this id."""
        for control in self.controls:
            if control.id == control_id:
                return control
        raise KeyError(control_id)

    def resolve_params(self, overrides: Mapping[str, str] | None = None) -> Params:
        """Defaults with command-line overrides applied; an unknown name or bad value is an error."""
        values: dict[str, ParamValue] = {name: spec.default for name, spec in self.parameters.items()}
        weakened = {
            name: reason for name, spec in self.parameters.items() if (reason := spec.constraint.weakens(spec.default))
        }
        for name, text in (overrides or {}).items():
            spec = self.parameters.get(name)
            if spec is None and name in MOVED_PARAMETERS:
                raise BaselineError(f"--param {name}: {MOVED_PARAMETERS[name]}")
            if spec is None:
                known = ", ".join(sorted(self.parameters))
                raise BaselineError(f"--param {name}: unknown parameter (known: {known})")
            try:
                value = parse_cli(spec.type, text)
            except ParameterError as exc:
                raise BaselineError(f"--param {name}: {exc}") from None
            reason = spec.accept(value, f"--param {name}")
            values[name] = value
            weakened.pop(name, None)
            if reason:
                weakened[name] = reason
        return Params(values, weakened)


def check_parameter_types(baseline: Baseline, reference: Baseline) -> None:
    """Refuse a parameter the built-in checks read as one type but the baseline declares as another.

    The bundled baseline declares every parameter the built-in checks read, with the type they read it as
    (a test holds the two together), so it is the reference for a user's own baseline.
    """
    for name, spec in baseline.parameters.items():
        expected = reference.parameters.get(name)
        if expected is not None and expected.type is not spec.type:
            raise BaselineError(
                f"baseline {baseline.path}: parameter {name!r}: key 'type': {spec.type.value!r}, but the checks "
                f"read it as {expected.type.value!r}"
            )


def default_baseline_path() -> Path:
    """The baseline shipped with the package."""
    return Path(str(resources.files("auditor.data").joinpath("baseline.toml")))


def load_baseline(path: Path, registry: Registry) -> Baseline:
    """Read, parse and validate a baseline file against the registry."""
    try:
        raw_bytes = read_bytes(path, "baseline", limit=MAX_SMALL_FILE_BYTES)
        data = parse_toml(decode_utf8(raw_bytes, f"baseline {path}"), f"baseline {path}")
    except InputFileError as exc:
        raise BaselineError(str(exc)) from None
    baseline = _build(data, str(path), hashlib.sha256(raw_bytes).hexdigest(), registry)
    lines = control_lines(raw_bytes.decode("utf-8"))
    controls = tuple(dataclasses.replace(c, line=lines.get(c.id, 0)) for c in baseline.controls)
    return dataclasses.replace(baseline, controls=controls)


_CONTROLS_HEADER = re.compile(r"^\s*\[\[\s*controls\s*\]\]")
_ID_LINE = re.compile(r"""^\s*id\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def control_lines(text: str) -> dict[str, int]:
    """Line number (from 1) of each control's ``id = ...`` line, or of its [[controls]] header."""
    lines: dict[str, int] = {}
    header = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if _CONTROLS_HEADER.match(line):
            header = number
        elif header and (match := _ID_LINE.match(line)):
            lines.setdefault(match.group(1) or match.group(2) or "", number)
            header = 0
    return lines


def _build(data: dict[str, Any], source: str, sha256: str, registry: Registry) -> Baseline:
    where = f"baseline {source}"
    _reject_unknown(data, _TOP_KEYS, where)
    header = _table(data, "baseline", where)
    _reject_unknown(header, _HEADER_KEYS, f"{where}: [baseline]")
    parameters = _parameters(_table(data, "parameters", where), where)
    controls = _controls(data.get("controls"), where, parameters, registry)
    return Baseline(
        path=source,
        sha256=sha256,
        name=_string(header, "name", f"{where}: [baseline]"),
        version=_string(header, "version", f"{where}: [baseline]"),
        policy=_string(header, "policy", f"{where}: [baseline]"),
        parameters=parameters,
        controls=controls,
    )


def _parameters(table: dict[str, Any], where: str) -> dict[str, ParameterSpec]:
    specs: dict[str, ParameterSpec] = {}
    for name, entry in table.items():
        here = f"{where}: parameter {name!r}"
        if name in MOVED_PARAMETERS:
            raise BaselineError(f"{here}: {MOVED_PARAMETERS[name]}")
        if not isinstance(entry, dict):
            raise BaselineError(f"{here}: expected a table with keys {sorted(_PARAMETER_KEYS)}")
        _reject_unknown(entry, _PARAMETER_KEYS | _CONSTRAINT_KEYS, here)
        for key in _PARAMETER_KEYS:
            if key not in entry:
                raise BaselineError(f"{here}: missing key {key!r}")
        try:
            kind = ParamType(entry["type"])
        except ValueError:
            allowed = ", ".join(t.value for t in ParamType)
            raise BaselineError(f"{here}: key 'type': {entry['type']!r} is not one of {allowed}") from None
        try:
            default = coerce(kind, entry["default"])
        except ParameterError as exc:
            raise BaselineError(f"{here}: key 'default': {exc}") from None
        spec = ParameterSpec(
            name=name,
            type=kind,
            default=default,
            description=_string(entry, "description", here),
            quote=_string(entry, "quote", here),
            constraint=_constraint(entry, kind, here),
        )
        spec.accept(default, f"{here}: key 'default'")
        specs[name] = spec
    return specs


def _constraint(entry: dict[str, Any], kind: ParamType, here: str) -> Constraint:
    """The optional min, max, choices, format, weakened_by and allow_weakening keys of a parameter."""
    for key in ("min", "max"):
        if key in entry and (
            kind is not ParamType.INT or isinstance(entry[key], bool) or not isinstance(entry[key], int)
        ):
            raise BaselineError(f"{here}: key {key!r}: only an int parameter has a range, given as an integer")
    minimum, maximum = entry.get("min"), entry.get("max")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise BaselineError(f"{here}: key 'min': {minimum} is above max {maximum}")
    textual = (ParamType.STRING, ParamType.STRING_LIST)
    for key in ("choices", "format"):
        if key in entry and kind not in textual:
            raise BaselineError(f"{here}: key {key!r}: only a string or string_list parameter has one")
    choices = _strings(entry, "choices", here)
    value_format = _enum_key(entry, "format", ValueFormat, here)
    weakened_by = _enum_key(entry, "weakened_by", Weakening, here)
    if weakened_by is not None and kind not in _LIST_TYPES:
        raise BaselineError(f"{here}: key 'weakened_by': only a list parameter can be weakened")
    allow = entry.get("allow_weakening", False)
    if not isinstance(allow, bool):
        raise BaselineError(f"{here}: key 'allow_weakening': expected true or false, got {allow!r}")
    return Constraint(minimum, maximum, choices, value_format, weakened_by, allow)


def _enum_key(entry: dict[str, Any], key: str, kind: type[E], here: str) -> E | None:
    if key not in entry:
        return None
    try:
        return kind(entry[key])
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise BaselineError(f"{here}: key {key!r}: {entry[key]!r} is not one of {allowed}") from None


def _controls(
    value: Any, where: str, parameters: Mapping[str, ParameterSpec], registry: Registry
) -> tuple[Control, ...]:
    if not isinstance(value, list) or not value:
        raise BaselineError(f"{where}: 'controls' must be a non-empty array of tables ([[controls]])")
    controls: list[Control] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise BaselineError(f"{where}: controls[{index}] must be a table")
        label = entry.get("id", f"controls[{index}]")
        here = f"{where}: control {label}"
        _reject_unknown(entry, _CONTROL_REQUIRED | _CONTROL_OPTIONAL, here)
        for key in sorted(_CONTROL_REQUIRED):
            if key not in entry:
                raise BaselineError(f"{here}: missing key {key!r}")
        control = _control(entry, here, parameters, registry)
        if control.id in seen:
            raise BaselineError(f"{here}: duplicate control id {control.id!r}")
        seen.add(control.id)
        controls.append(control)
    return tuple(controls)


def _control(entry: dict[str, Any], here: str, parameters: Mapping[str, ParameterSpec], registry: Registry) -> Control:
    area = _choice(entry, "area", AREAS, here)
    mode = _choice(entry, "mode", MODES, here)
    severity = Severity(_choice(entry, "severity", tuple(s.value for s in Severity), here))
    checks = _strings(entry, "checks", here)
    if mode == "manual" and checks:
        raise BaselineError(f"{here}: key 'checks': a manual control has no checks")
    for check_id in checks:
        if check_id not in registry:
            raise BaselineError(f"{here}: key 'checks': unknown check {check_id!r}")
    params = _strings(entry, "parameters", here)
    for name in params:
        if name not in parameters:
            raise BaselineError(f"{here}: key 'parameters': {name!r} is not declared under [parameters]")
    for check_id in checks:
        for needed in registry[check_id].spec.parameters:
            if needed not in params:
                raise BaselineError(
                    f"{here}: key 'parameters': check {check_id!r} needs parameter {needed!r}, not listed"
                )
    return Control(
        id=_string(entry, "id", here),
        title=_string(entry, "title", here),
        area=area,
        severity=severity,
        mode=mode,
        quote=_string(entry, "quote", here),
        description=_string(entry, "description", here),
        checks=checks,
        parameters=params,
        frameworks=_frameworks(entry.get("frameworks", {}), here),
        iac=_iac(entry.get("iac", {}), here),
    )


def _frameworks(value: Any, here: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise BaselineError(f"{here}: key 'frameworks': expected a table of lists")
    return {name: _strings(value, name, f"{here}: frameworks") for name in value}


def _iac(value: Any, here: str) -> IacMapping:
    where = f"{here}: [controls.iac]"
    if not isinstance(value, dict):
        raise BaselineError(f"{where}: expected a table of check-id lists per framework")
    _reject_unknown(value, {*IAC_FRAMEWORKS, IAC_NOT_DECIDABLE}, where)
    checks: dict[str, tuple[str, ...]] = {}
    for framework in IAC_FRAMEWORKS:
        if framework not in value:
            continue
        ids = _strings(value, framework, where)
        for check_id in ids:
            if check_id.startswith("AUDITOR_"):
                raise BaselineError(
                    f"{where}: key {framework!r}: {check_id!r}: the auditor's own IaC checks follow from the "
                    "control's checks (each rule with an IaC door); list only checkov's (CKV_AZURE_n, CKV2_AZURE_n)"
                )
            if not IAC_CHECK_ID.match(check_id):
                raise BaselineError(
                    f"{where}: key {framework!r}: {check_id!r} is not a checkov Azure check id (CKV_AZURE_n, "
                    "CKV2_AZURE_n)"
                )
        if len(set(ids)) != len(ids):
            raise BaselineError(f"{where}: key {framework!r}: a check id is listed twice")
        checks[framework] = ids
    reason = value.get(IAC_NOT_DECIDABLE, "")
    if IAC_NOT_DECIDABLE in value:
        reason = _string(value, IAC_NOT_DECIDABLE, where)
        if any(checks.values()):
            raise BaselineError(f"{where}: key {IAC_NOT_DECIDABLE!r}: a control with IaC checks is decidable")
    return IacMapping(checks=checks, not_decidable=reason)


def _reject_unknown(table: dict[str, Any], allowed: set[str], here: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise BaselineError(f"{here}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _table(data: dict[str, Any], key: str, here: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise BaselineError(f"{here}: missing table [{key}]")
    return value


def _string(table: dict[str, Any], key: str, here: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BaselineError(f"{here}: key {key!r}: expected a non-empty string, got {value!r}")
    return value


def _strings(table: dict[str, Any], key: str, here: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BaselineError(f"{here}: key {key!r}: expected a list of strings, got {value!r}")
    return tuple(value)


def _choice(table: dict[str, Any], key: str, allowed: tuple[str, ...], here: str) -> str:
    value = table.get(key)
    if value not in allowed:
        raise BaselineError(f"{here}: key {key!r}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)

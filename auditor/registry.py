"""Rule metadata, the ``@check`` decorator and the registry that collects rules from modules.

A rule is a judge of one record: ``judge(record, params) -> Verdict | None`` (None: the record is not
what the rule is about). Its metadata says what it judges (``over``: an inventory field, or a function
that joins records into the subjects it judges) and which parameters it reads; evaluation does the loop,
the not-applicable case and the conversion into findings, and the IaC gate calls the same judge on
records built from code.

The decorator only attaches metadata to the function; nothing is registered at import time. A
``Registry`` is built explicitly from a list of modules, so built-in and third-party rules load the
same way and tests can build a registry of their own.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from auditor.inventory import Inventory
from auditor.model import Severity, Verdict
from auditor.parameters import Params

# A judge decides one record; None means the record is not the rule's subject (e.g. a Linux VM for a
# Windows-only rule). Records are typed per rule, so the registry can only know them as Any.
Judge = Callable[[Any, Params], Verdict | None]
# What a rule judges when no single inventory field holds it: records joined from several fields.
Subjects = Callable[[Inventory], Iterable[Any]]
F = TypeVar("F", bound=Callable[..., Verdict | None])
IAC_PREFIX = "AUDITOR_"

_SPEC_ATTRIBUTE = "__check_spec__"
MAX_TITLE_LENGTH = 150


@dataclass(frozen=True)
class Remediation:
    """How to fix a failing resource, in the forms operators use."""

    summary: str
    portal: str = ""
    cli: str = ""
    terraform: str = ""
    bicep: str = ""

    def as_text(self) -> str:
        """All forms, one per paragraph, for reports (worked out once: every failing finding carries it)."""
        return _remediation_text(self)


@functools.lru_cache(maxsize=1024)
def _remediation_text(remediation: Remediation) -> str:
    parts = [remediation.summary]
    parts += [f"Portal: {remediation.portal}"] if remediation.portal else []
    parts += [f"Azure CLI: {remediation.cli}"] if remediation.cli else []
    parts += [f"Terraform: {remediation.terraform}"] if remediation.terraform else []
    parts += [f"Bicep: {remediation.bicep}"] if remediation.bicep else []
    return "\n\n".join(parts)


@dataclass(frozen=True)
class CheckSpec:
    """Everything known about a check apart from its code."""

    id: str
    title: str
    severity: Severity
    resource_types: tuple[str, ...]
    requires: tuple[str, ...]
    parameters: tuple[str, ...]
    rationale: str
    remediation: Remediation
    over: str | Subjects
    # What the rule is about, in words, for the not-applicable message ("No key vaults in scope").
    subject: str

    def subjects(self, inventory: Inventory) -> Iterable[Any]:
        """The records this rule judges in an inventory."""
        if isinstance(self.over, str):
            records: Iterable[Any] = getattr(inventory, self.over)
            return records
        return self.over(inventory)

    @property
    def iac_id(self) -> str:
        """The id the rule's checkov check carries in the IaC gate."""
        return iac_check_id(self.id)


def iac_check_id(rule_id: str) -> str:
    """The checkov check id of a rule: ``AUDITOR_`` and the rule id in capitals."""
    return IAC_PREFIX + rule_id.upper()


@dataclass(frozen=True)
class RegisteredCheck:
    """A judge together with its metadata."""

    spec: CheckSpec
    judge: Judge

    def decide(self, record: Any, params: Params) -> Verdict | None:
        """The judge's verdict on one record, handed only the parameters the rule declares."""
        return self.judge(record, self.own(params))

    def own(self, params: Params) -> Params:
        """The parameters this rule declares, and no others."""
        return params.only(self.spec.parameters, self.spec.id)


def check(
    *,
    id: str,
    title: str,
    severity: Severity,
    resource_types: tuple[str, ...],
    requires: tuple[str, ...],
    rationale: str,
    remediation: Remediation,
    over: str | Subjects,
    subject: str,
    parameters: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Attach rule metadata to a judge; ``requires`` names the collections it reads, ``over`` what it judges."""
    if len(title) > MAX_TITLE_LENGTH:
        raise ValueError(f"check {id}: title longer than {MAX_TITLE_LENGTH} characters")
    if isinstance(over, str) and over not in Inventory.resource_field_names():
        raise ValueError(f"check {id}: over={over!r} is not an inventory field of records")
    spec = CheckSpec(id, title, severity, resource_types, requires, parameters, rationale, remediation, over, subject)

    def attach(function: F) -> F:
        setattr(function, _SPEC_ATTRIBUTE, spec)
        return function

    return attach


def checks_in(module: ModuleType) -> Iterator[RegisteredCheck]:
    """Every decorated check a module defines."""
    for value in vars(module).values():
        spec = getattr(value, _SPEC_ATTRIBUTE, None)
        if isinstance(spec, CheckSpec) and getattr(value, "__module__", None) == module.__name__:
            yield RegisteredCheck(spec, value)


class Registry:
    """An immutable set of checks keyed by id."""

    def __init__(self, checks: Iterable[RegisteredCheck]) -> None:
        by_id: dict[str, RegisteredCheck] = {}
        for registered in checks:
            if registered.spec.id in by_id:
                raise ValueError(f"check id {registered.spec.id!r} is defined twice")
            by_id[registered.spec.id] = registered
        self._checks: Mapping[str, RegisteredCheck] = by_id

    @classmethod
    def from_modules(cls, names: Iterable[str]) -> Registry:
        """Import the named modules and collect their checks."""
        found: list[RegisteredCheck] = []
        for name in names:
            found.extend(checks_in(importlib.import_module(name)))
        return cls(found)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def __getitem__(self, check_id: str) -> RegisteredCheck:
        return self._checks[check_id]

    def __iter__(self) -> Iterator[RegisteredCheck]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def ids(self) -> tuple[str, ...]:
        """Check ids in sorted order."""
        return tuple(sorted(self._checks))

"""Check metadata, the ``@check`` decorator and the registry that collects checks from modules.

The decorator only attaches metadata to the function; nothing is registered at import time. A
``Registry`` is built explicitly from a list of modules, so built-in and third-party checks load the
same way and tests can build a registry of their own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity
from auditor.parameters import Params

CheckFunction = Callable[[Inventory, Params], Iterable[CheckResult]]
F = TypeVar("F", bound=CheckFunction)

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
        """All forms, one per paragraph, for reports."""
        parts = [self.summary]
        parts += [f"Portal: {self.portal}"] if self.portal else []
        parts += [f"Azure CLI: {self.cli}"] if self.cli else []
        parts += [f"Terraform: {self.terraform}"] if self.terraform else []
        parts += [f"Bicep: {self.bicep}"] if self.bicep else []
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


@dataclass(frozen=True)
class RegisteredCheck:
    """A check function together with its metadata."""

    spec: CheckSpec
    run: CheckFunction


def check(
    *,
    id: str,
    title: str,
    severity: Severity,
    resource_types: tuple[str, ...],
    requires: tuple[str, ...],
    rationale: str,
    remediation: Remediation,
    parameters: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Attach check metadata to a function; ``requires`` names the collections it reads."""
    if len(title) > MAX_TITLE_LENGTH:
        raise ValueError(f"check {id}: title longer than {MAX_TITLE_LENGTH} characters")
    spec = CheckSpec(id, title, severity, resource_types, requires, parameters, rationale, remediation)

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

"""Compliance framework views: each requirement with the status rolled up from the controls mapped to it.

A control names the requirements it helps meet in ``baseline.toml`` (``[controls.frameworks]``); the
catalogue of each framework (its name, version, citations and links) is package data in
``auditor/data/frameworks/<key>.toml``. A requirement's status is the roll-up of its controls' statuses in
the same order a control rolls up its findings (``auditor.model.ROLLUP_ORDER``): fail, then error, manual,
pass, attested, waived, not applicable; the first present wins. So one failing control makes every
requirement it maps to fail, and a requirement passes only when no mapped control fails, errs or awaits
an attestation.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from auditor.model import Status, rollup
from auditor.results import ControlSummary, ScanResult

PACKAGE = "auditor.data.frameworks"


@dataclass(frozen=True)
class Framework:
    """A framework's catalogue entry: how to name it and where its requirements are published."""

    key: str
    name: str
    version: str
    citation: str
    url: str
    requirement_url: str
    requirements: Mapping[str, tuple[str, str, str]]  # id -> (title, citation, url)

    @property
    def label(self) -> str:
        """Name and version, e.g. "CIS Microsoft Azure Foundations Benchmark 2.0.0"."""
        return f"{self.name} {self.version}"

    def title(self, ref: str) -> str:
        """The requirement's title, or empty when the catalogue gives none."""
        return self.requirements.get(ref, ("", "", ""))[0]

    def cite(self, ref: str) -> str:
        """How to cite the requirement, e.g. "16 CFR § 312.8"; the framework key and id when unknown."""
        return self.requirements.get(ref, ("", "", ""))[1] or f"{self.name} {ref}"

    def link(self, ref: str) -> str:
        """The requirement's own page, or the framework's when it has none."""
        own = self.requirements.get(ref, ("", "", ""))[2]
        if own:
            return own
        if self.requirement_url:
            return self.requirement_url.format(ref=ref, base=ref.split("(", 1)[0])
        return self.url


@dataclass(frozen=True)
class Requirement:
    """One requirement of a framework with its mapped controls and their roll-up."""

    id: str
    title: str
    citation: str
    url: str
    status: Status
    controls: tuple[ControlSummary, ...]


@dataclass(frozen=True)
class FrameworkView:
    """A framework's requirements, in catalogue order then in first-mapped order, with status counts."""

    framework: Framework
    requirements: tuple[Requirement, ...]

    def counts(self) -> dict[str, int]:
        """Number of requirements per status, every status present."""
        counts = {status.value: 0 for status in Status}
        for requirement in self.requirements:
            counts[requirement.status.value] += 1
        return counts


@cache
def catalogue(key: str) -> Framework:
    """The framework catalogue shipped for the key; a bare stand-in for a key without a file."""
    source = resources.files(PACKAGE).joinpath(f"{key}.toml")
    if not source.is_file():
        return Framework(key, key, "", key, "", "", {})
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    header = data["framework"]
    requirements: dict[str, tuple[str, str, str]] = {}
    for ref, entry in data.get("requirements", {}).items():
        if isinstance(entry, str):
            requirements[ref] = (entry, "", "")
        else:
            requirements[ref] = (entry.get("title", ""), entry.get("citation", ""), entry.get("url", ""))
    return Framework(
        key=key,
        name=header["name"],
        version=header["version"],
        citation=header["citation"],
        url=header["url"],
        requirement_url=header.get("requirement_url", ""),
        requirements=requirements,
    )


def shipped_keys() -> list[str]:
    """Keys of every framework catalogue in the package, sorted."""
    files = resources.files(PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def framework_keys(controls: Iterable[ControlSummary]) -> list[str]:
    """Framework keys the controls reference, in order of first mention."""
    keys: dict[str, None] = {}
    for control in controls:
        keys.update(dict.fromkeys(control.frameworks))
    return list(keys)


def views(result: ScanResult) -> list[FrameworkView]:
    """A view per framework the result's controls reference, in order of first mention."""
    return [view(result.controls, key) for key in framework_keys(result.controls)]


def view(controls: Iterable[ControlSummary], key: str) -> FrameworkView:
    """The framework's requirements that some control maps to, each rolled up from those controls."""
    framework = catalogue(key)
    mapped: dict[str, list[ControlSummary]] = {}
    for control in controls:
        for ref in control.frameworks.get(key, ()):
            mapped.setdefault(ref, []).append(control)
    order = {ref: index for index, ref in enumerate(framework.requirements)}
    refs = sorted(mapped, key=lambda ref: (order.get(ref, len(order)), _natural(ref)))
    requirements = tuple(
        Requirement(
            id=ref,
            title=framework.title(ref),
            citation=framework.cite(ref),
            url=framework.link(ref),
            status=rollup([c.status for c in mapped[ref]]),
            controls=tuple(mapped[ref]),
        )
        for ref in refs
    )
    return FrameworkView(framework, requirements)


def _natural(ref: str) -> tuple[tuple[int, str], ...]:
    # "2.1.17" after "2.1.9", "AC-17" after "AC-4": numbers compare as numbers.
    parts = ref.replace("(", ".").replace(")", "").replace("-", ".").split(".")
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in parts)

"""Baseline parameters: their types, parsing from TOML and the command line, and typed access for checks."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from auditor.azure_regions import AZURE_REGIONS

ParamValue = int | str | bool | tuple[str, ...]


class ParamType(StrEnum):
    """The value types a baseline parameter can declare."""

    INT = "int"
    STRING = "string"
    BOOL = "bool"
    STRING_LIST = "string_list"
    CIDR_LIST = "cidr_list"


class ParameterError(ValueError):
    """A parameter value does not fit its declared type."""


class ValueFormat(StrEnum):
    """What a string parameter, or each item of a list parameter, must look like."""

    PORT = "port"
    EMAIL = "email"
    REGION = "region"
    GUID = "guid"


class Weakening(StrEnum):
    """The value of a parameter that turns its control off."""

    # An allow-list that admits everything: 0.0.0.0/0, ::/0 or "*".
    MATCH_ALL = "match_all"
    # A list of things to require or forbid that is empty, so nothing is required or forbidden.
    EMPTY = "empty"


# A value that cannot be stored in a 64-bit signed integer is no count, size or duration of any check.
INT_LIMIT = 2**63 - 1
# Python refuses to convert longer decimal strings (sys.get_int_max_str_digits).
MAX_INT_DIGITS = 4300
MAX_PORT = 65535
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FORMAT_WORDS = {
    ValueFormat.PORT: "a port 1-65535 or a range such as 1000-2000",
    ValueFormat.EMAIL: "an e-mail address such as admin@example.com",
    ValueFormat.REGION: "an Azure region name such as eastus",
    ValueFormat.GUID: "a GUID such as 00000000-0000-0000-0000-000000000000",
}


@dataclass(frozen=True)
class Constraint:
    """What a parameter's value must satisfy beyond its type, and which value would disable its control."""

    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    format: ValueFormat | None = None
    weakened_by: Weakening | None = None
    allow_weakening: bool = False

    def check(self, kind: ParamType, value: ParamValue) -> None:
        """Raise ParameterError when a value of the declared type breaks the constraint."""
        if kind is ParamType.INT and isinstance(value, int):
            self._check_range(value)
        items = value if isinstance(value, tuple) else (value,) if isinstance(value, str) else ()
        for item in items:
            if self.choices and item not in self.choices:
                raise ParameterError(f"{item!r} is not one of {', '.join(self.choices)}")
            if self.format is not None and not _fits(self.format, item):
                raise ParameterError(f"{item!r} is not {_FORMAT_WORDS[self.format]}")

    def _check_range(self, value: int) -> None:
        low = -INT_LIMIT if self.minimum is None else self.minimum
        high = INT_LIMIT if self.maximum is None else self.maximum
        if not low <= value <= high:
            shown = str(value) if len(str(abs(value))) <= 20 else f"an integer of {len(str(abs(value)))} digits"
            raise ParameterError(f"{shown} is out of range, expected {low} to {high}")

    def weakens(self, value: ParamValue) -> str:
        """Why this value disables the parameter's control, or "" when it does not."""
        if not isinstance(value, tuple) or self.weakened_by is None:
            return ""
        if self.weakened_by is Weakening.EMPTY and not value:
            return "the list is empty"
        if self.weakened_by is Weakening.MATCH_ALL:
            for item in value:
                if _matches_everything(item):
                    return f"{item!r} admits every source"
        return ""


def _fits(kind: ValueFormat, text: str) -> bool:
    if kind is ValueFormat.PORT:
        return _port_range(text)
    if kind is ValueFormat.EMAIL:
        return len(text) <= 254 and _EMAIL.match(text) is not None
    if kind is ValueFormat.REGION:
        return text.lower() in AZURE_REGIONS
    return _GUID.match(text) is not None


def _port(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 5 and 1 <= int(text) <= MAX_PORT


def _port_range(text: str) -> bool:
    low, sep, high = text.partition("-")
    if not sep:
        return _port(text)
    return _port(low) and _port(high) and int(low) <= int(high)


def _matches_everything(item: str) -> bool:
    if item.strip() in {"*", "any", "Any", "Internet"}:
        return True
    try:
        return ipaddress.ip_network(item, strict=False).prefixlen == 0
    except ValueError:
        return False


def coerce(kind: ParamType, value: Any) -> ParamValue:
    """Check a TOML value against the declared type and return it in canonical form."""
    if kind is ParamType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"expected an integer, got {value!r}")
        return value
    if kind is ParamType.BOOL:
        if not isinstance(value, bool):
            raise ParameterError(f"expected true or false, got {value!r}")
        return value
    if kind is ParamType.STRING:
        if not isinstance(value, str):
            raise ParameterError(f"expected a string, got {value!r}")
        return value
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ParameterError(f"expected a list of strings, got {value!r}")
    items = tuple(v.strip() for v in value)
    if kind is ParamType.CIDR_LIST:
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ParameterError(f"{item!r} is not an IP address or CIDR prefix") from None
    return items


def parse_cli(kind: ParamType, text: str) -> ParamValue:
    """Parse a ``--param NAME=VALUE`` value: lists are comma-separated, booleans true/false."""
    if kind is ParamType.INT:
        digits = text.strip().lstrip("+-")
        if len(digits) > MAX_INT_DIGITS and digits.isdigit():
            raise ParameterError(f"an integer of {len(digits)} digits is out of range")
        try:
            return int(text)
        except ValueError:
            raise ParameterError(f"expected an integer, got {_shorten(text)!r}") from None
    if kind is ParamType.BOOL:
        lowered = text.strip().lower()
        if lowered not in {"true", "false"}:
            raise ParameterError(f"expected true or false, got {text!r}")
        return lowered == "true"
    if kind is ParamType.STRING:
        return text
    items = [part for part in (p.strip() for p in text.split(",")) if part]
    return coerce(kind, items)


def _shorten(text: str, limit: int = 80) -> str:
    """A value as an error message quotes it: long values cut, so the message stays one readable line."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


@dataclass(frozen=True)
class Params:
    """Resolved parameter values with typed accessors, so checks stay type-checked."""

    values: Mapping[str, ParamValue]
    # Parameters set to a value that disables their control, accepted by `allow_weakening`: name -> why.
    weakened: Mapping[str, str] = field(default_factory=dict)

    # The rule these values were cut down for by `only`; empty for the baseline's whole set.
    owner: str = ""
    # The moment judged "as of" (the inventory's collection time); None until evaluation sets it.
    as_of: datetime | None = None

    def at(self, moment: datetime) -> Params:
        """The same values, judged as of the moment given."""
        return replace(self, as_of=moment)

    @property
    def moment(self) -> datetime:
        """The moment judged "as of", for rules about expiry and age."""
        if self.as_of is None:
            raise ValueError("the moment to judge as of was not set")
        return self.as_of

    def _get(self, name: str) -> ParamValue:
        try:
            return self.values[name]
        except KeyError:
            if self.owner:
                raise KeyError(f"rule {self.owner} reads parameter {name!r} without declaring it") from None
            raise KeyError(f"parameter {name!r} is not defined in the baseline") from None

    def only(self, names: Iterable[str], owner: str) -> Params:
        """The values of the named parameters alone, so a rule cannot read what it does not declare."""
        wanted = set(names)
        return Params(
            values={n: v for n, v in self.values.items() if n in wanted},
            weakened={n: w for n, w in self.weakened.items() if n in wanted},
            owner=owner,
            as_of=self.as_of,
        )

    def get_int(self, name: str) -> int:
        """An integer parameter."""
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"parameter {name!r} is not an integer")
        return value

    def get_str(self, name: str) -> str:
        """A string parameter."""
        value = self._get(name)
        if not isinstance(value, str):
            raise TypeError(f"parameter {name!r} is not a string")
        return value

    def get_bool(self, name: str) -> bool:
        """A boolean parameter."""
        value = self._get(name)
        if not isinstance(value, bool):
            raise TypeError(f"parameter {name!r} is not a boolean")
        return value

    def get_list(self, name: str) -> tuple[str, ...]:
        """A list parameter (strings or CIDR prefixes)."""
        value = self._get(name)
        if not isinstance(value, tuple):
            raise TypeError(f"parameter {name!r} is not a list")
        return value

"""Baseline parameters: their types, parsing from TOML and the command line, and typed access for checks."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
        try:
            return int(text)
        except ValueError:
            raise ParameterError(f"expected an integer, got {text!r}") from None
    if kind is ParamType.BOOL:
        lowered = text.strip().lower()
        if lowered not in {"true", "false"}:
            raise ParameterError(f"expected true or false, got {text!r}")
        return lowered == "true"
    if kind is ParamType.STRING:
        return text
    items = [part for part in (p.strip() for p in text.split(",")) if part]
    return coerce(kind, items)


@dataclass(frozen=True)
class Params:
    """Resolved parameter values with typed accessors, so checks stay type-checked."""

    values: Mapping[str, ParamValue]

    def _get(self, name: str) -> ParamValue:
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"parameter {name!r} is not defined in the baseline") from None

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

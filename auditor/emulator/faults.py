"""Injected faults: throttling, outages, slow answers, broken bodies and dropped connections.

A fault is matched by a regular expression searched (case-insensitively) in the decoded request path,
and by method. Faults come from an estate's ``faults`` list, from ``Emulator(faults=...)`` and from the
command line (``--fault pattern=/networkSecurityGroups,status=503,times=2,retry_after=1``). The field
names are the same everywhere, in snake_case: ``pattern``, ``methods``, ``status``, ``retry_after``,
``latency_ms``, ``malformed``, ``reset``, ``times``, ``error_code``, ``body``.

``body`` replaces the answer's body with the given text (with ``status``, or with 200 without one); an
empty string sends an empty body. ``$REQUEST_URL`` in it becomes the request's own absolute URL, so a
``nextLink`` can point at the page that carries it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

FAULT_FIELDS = (
    "pattern",
    "methods",
    "status",
    "retry_after",
    "latency_ms",
    "malformed",
    "reset",
    "times",
    "error_code",
    "body",
)
_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_HEADER_VALUE = re.compile(r"[\x21-\x7e][\x20-\x7e]*")
# Fields are separated by commas, but a pattern may hold commas itself (``{1,3}``) and so may a list
# of methods: split only where a comma starts ``name=`` or a bare flag.
_FIELD_SEPARATOR = re.compile(r",(?=\s*(?:[A-Za-z_]\w*\s*=|(?:malformed|reset)\s*(?:,|$)))")


class FaultError(ValueError):
    """A fault description that cannot be used."""


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour for requests whose path matches ``pattern``.

    Exactly one of ``status``, ``malformed`` and ``reset`` says what happens, or none of them when the
    fault only adds latency. ``times=None`` applies it to every matching request, ``times=N`` to the
    first N only. ``methods`` may hold ``"*"`` for every method.
    """

    pattern: str
    methods: tuple[str, ...] = ("GET",)
    status: int | None = None
    retry_after: str | None = None
    latency_ms: int = 0
    malformed: bool = False
    reset: bool = False
    times: int | None = None
    error_code: str = ""
    body: str | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            regex = re.compile(self.pattern, re.IGNORECASE)
        except re.error as exc:
            raise FaultError(f"pattern {self.pattern!r} is not a regular expression: {exc}") from None
        object.__setattr__(self, "_regex", regex)
        # A bare string would otherwise be read as a tuple of one-letter methods.
        if isinstance(cast(object, self.methods), str):
            raise FaultError("methods must be a sequence of method names, not one string")
        methods = tuple(method.strip().upper() for method in self.methods)
        if not methods or any(not method for method in methods):
            raise FaultError("methods must name at least one method")
        # Normalised here so that matching never has to think about case.
        object.__setattr__(self, "methods", methods)
        effects = [self.status is not None, self.malformed, self.reset]
        if sum(effects) > 1:
            raise FaultError("give only one of status, malformed and reset")
        if self.body is not None and (self.malformed or self.reset):
            raise FaultError("body goes with status (or alone, for a 200), not with malformed or reset")
        if not any(effects) and self.body is None and self.latency_ms <= 0:
            raise FaultError("a fault needs status, malformed, reset, body or latency_ms")
        if self.status is not None and not 400 <= self.status <= 599:
            raise FaultError(f"status must be between 400 and 599, not {self.status}")
        if self.retry_after is not None:
            if self.status is None:
                raise FaultError("retry_after needs a status")
            if not _HEADER_VALUE.fullmatch(self.retry_after):
                raise FaultError(f"retry_after {self.retry_after!r} is not a valid header value")
        if self.error_code and self.status is None:
            raise FaultError("error_code needs a status")
        if self.latency_ms < 0:
            raise FaultError("latency_ms must not be negative")
        if self.times is not None and self.times < 1:
            raise FaultError("times must be at least 1 (leave it out for every request)")

    def applies_to(self, method: str, path: str) -> bool:
        """True if a request with this method and decoded path matches."""
        if "*" not in self.methods and method.upper() not in self.methods:
            return False
        return self._regex.search(path) is not None


def fault_from_mapping(data: Mapping[str, Any]) -> Fault:
    """A fault from a JSON object with the snake_case field names."""
    unknown = sorted(set(data) - set(FAULT_FIELDS))
    if unknown:
        raise FaultError(f"unknown field {unknown[0]!r} (expected some of {', '.join(FAULT_FIELDS)})")
    if "pattern" not in data:
        raise FaultError("missing 'pattern'")
    pattern = _expect(data, "pattern", str)
    methods_value = data.get("methods", ["GET"])
    if isinstance(methods_value, str):
        methods: tuple[str, ...] = (methods_value,)
    elif isinstance(methods_value, list) and all(isinstance(item, str) for item in methods_value):
        methods = tuple(methods_value)
    else:
        raise FaultError("'methods' must be a list of strings")
    retry_after = data.get("retry_after")
    if isinstance(retry_after, int) and not isinstance(retry_after, bool):
        retry_after = str(retry_after)
    elif retry_after is not None and not isinstance(retry_after, str):
        raise FaultError("'retry_after' must be a string or an integer")
    return Fault(
        pattern=pattern,
        methods=methods,
        status=_optional_int(data, "status"),
        retry_after=retry_after,
        latency_ms=_optional_int(data, "latency_ms") or 0,
        malformed=_expect(data, "malformed", bool, default=False),
        reset=_expect(data, "reset", bool, default=False),
        times=_optional_int(data, "times"),
        error_code=_expect(data, "error_code", str, default=""),
        body=_expect(data, "body", str) if data.get("body") is not None else None,
    )


def parse_fault(text: str) -> Fault:
    """A fault from its command-line form, e.g. ``pattern=/disks,status=429,retry_after=1,times=2``."""
    values: dict[str, str] = {}
    for part in _FIELD_SEPARATOR.split(text.strip()):
        name, equals, value = part.partition("=")
        name = name.strip()
        if name not in FAULT_FIELDS:
            raise FaultError(f"fault {text!r}: unknown field {name!r} (expected some of {', '.join(FAULT_FIELDS)})")
        if name in values:
            raise FaultError(f"fault {text!r}: {name} given twice")
        # A bare flag (``reset``) means true.
        values[name] = value.strip() if equals else "true"
    if "pattern" not in values:
        raise FaultError(f"fault {text!r}: missing pattern=REGEX")
    try:
        return Fault(
            pattern=values["pattern"],
            methods=tuple(re.split(r"[,|+]", values.get("methods", "GET"))),
            status=_int_text(values, "status"),
            retry_after=values.get("retry_after"),
            latency_ms=_int_text(values, "latency_ms") or 0,
            malformed=_bool_text(values, "malformed"),
            reset=_bool_text(values, "reset"),
            times=_int_text(values, "times"),
            error_code=values.get("error_code", ""),
            body=values.get("body"),
        )
    except FaultError as exc:
        raise FaultError(f"fault {text!r}: {exc}") from None


class FaultPlan:
    """The faults one emulator applies, with the count of uses left for each; safe across threads."""

    def __init__(self, faults: Iterable[Fault]) -> None:
        self._faults = tuple(faults)
        self._remaining: list[int | None] = [fault.times for fault in self._faults]
        self._lock = threading.Lock()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault that applies to this request and has uses left, using one of them."""
        with self._lock:
            for position, fault in enumerate(self._faults):
                remaining = self._remaining[position]
                if remaining == 0 or not fault.applies_to(method, path):
                    continue
                if remaining is not None:
                    self._remaining[position] = remaining - 1
                return fault
        return None


def _expect(data: Mapping[str, Any], name: str, kind: type[Any], default: Any = None) -> Any:
    value = data.get(name, default)
    # bool is a subclass of int; a JSON true where a number belongs is still a mistake.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise FaultError(f"'{name}' must be {_KIND_NAMES.get(kind, kind.__name__)}")
    return value


def _optional_int(data: Mapping[str, Any], name: str) -> int | None:
    if data.get(name) is None:
        return None
    value: int = _expect(data, name, int)
    return value


def _int_text(values: Mapping[str, str], name: str) -> int | None:
    text = values.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise FaultError(f"{name} must be an integer, not {text!r}") from None


def _bool_text(values: Mapping[str, str], name: str) -> bool:
    text = values.get(name, "false").lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FaultError(f"{name} must be true or false, not {text!r}")

"""A value Azure returned that the contract cannot read: the record keeps it, and checks must not pass it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unreadable:
    """One field of one resource whose value is absent where required, or of the wrong shape.

    ``field`` is the path in the raw ARM resource (``properties.securityRules[2].access``); ``value`` is a
    short rendering of what was there (``absent`` when the key was missing).
    """

    field: str
    value: str

    def describe(self) -> str:
        """``field = value`` for messages."""
        return f"{self.field} = {self.value}"

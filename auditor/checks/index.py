"""Look-ups of inventory records by ARM id, case-insensitively, for checks that follow references."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

from auditor.arm_ids import key
from auditor.inventory import Inventory
from auditor.records.network import Subnet
from auditor.records.unreadable import Unreadable


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


RecordT = TypeVar("RecordT", bound=_HasId)


class ById(Generic[RecordT]):
    """Records keyed by their id.

    A record with fields Azure returned but the collector could not read (``unreadable``) is left out,
    so a check that follows a reference to it meets a record it cannot judge through and reports error.
    """

    def __init__(self, records: Iterable[RecordT]) -> None:
        self._records: dict[str, RecordT] = {}
        self._unreadable: dict[str, tuple[Unreadable, ...]] = {}
        for record in records:
            problems: tuple[Unreadable, ...] = getattr(record, "unreadable", ())
            if problems:
                self._unreadable[key(record.id)] = problems
            else:
                self._records[key(record.id)] = record

    def get(self, resource_id: str | None) -> RecordT | None:
        """The record with this id, or None when absent or not given."""
        return self._records.get(key(resource_id)) if resource_id else None

    def missing(self, resource_id: str) -> str:
        """Why a referenced record is not available: not collected, or collected with unreadable fields."""
        problems = self._unreadable.get(key(resource_id))
        if not problems:
            return "was not collected"
        return "could not be read (" + "; ".join(p.describe() for p in problems[:3]) + ")"


def subnets_by_id(inventory: Inventory) -> ById[Subnet]:
    """Every subnet of every virtual network, by subnet id."""
    # The subnets of a VNet with unreadable fields are left out like any unreadable record.
    return ById(subnet for vnet in inventory.virtual_networks if not vnet.unreadable for subnet in vnet.subnets)

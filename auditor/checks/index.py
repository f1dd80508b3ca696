"""Look-ups of inventory records by ARM id, case-insensitively, for checks that follow references."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

from auditor.arm_ids import key
from auditor.inventory import Inventory
from auditor.records.network import Subnet


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


RecordT = TypeVar("RecordT", bound=_HasId)


class ById(Generic[RecordT]):
    """Records keyed by their id."""

    def __init__(self, records: Iterable[RecordT]) -> None:
        self._records = {key(r.id): r for r in records}

    def get(self, resource_id: str | None) -> RecordT | None:
        """The record with this id, or None when absent or not given."""
        return self._records.get(key(resource_id)) if resource_id else None


def subnets_by_id(inventory: Inventory) -> ById[Subnet]:
    """Every subnet of every virtual network, by subnet id."""
    return ById(subnet for vnet in inventory.virtual_networks for subnet in vnet.subnets)

"""Resource tags: an immutable, hashable name -> value mapping, so records stay frozen and hashable."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping


class Tags(Mapping[str, str]):
    """The ARM ``tags`` of one resource; empty when the resource has none."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: tuple[tuple[str, str], ...] = tuple(sorted((items or {}).items()))

    def __getitem__(self, name: str) -> str:
        for key, value in self._items:
            if key == name:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._items)

    def items(self) -> ItemsView[str, str]:
        """The (name, value) pairs, sorted by name, without a look-up per name."""
        return dict(self._items).items()

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other.items())

    def __repr__(self) -> str:
        return f"Tags({dict(self._items)!r})"


NO_TAGS = Tags()

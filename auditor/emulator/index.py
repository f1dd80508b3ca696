"""The estate indexed for serving: resources by id, collections by path, resource groups by name.

Every resource, top-level entry or embedded child, is filed under its id and under its collection path
(its id minus the last segment), so one rule answers child collections (``.../securityRules``),
separately given children (``.../vaults/kv1/keys``), extension resources
(``RESOURCE/providers/Microsoft.Insights/diagnosticSettings``), subscription-scope items
(``/subscriptions/S/providers/Microsoft.Security/pricings``) and resource-group type lists alike.
All keys are case-folded because ARM ids are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.emulator.estate import Estate, EstateSubscription
from auditor.emulator.paths import ArmPath, parse_arm_path, path_key

# Used when no resource in a derived group says where it is.
FALLBACK_LOCATION = "global"

# Listings ARM answers from a resource's descendants rather than its direct children: the last segment
# of the request path, and the collection segment the listed items sit in.
_DESCENDANT_LISTS = {"backupprotecteditems": "protecteditems"}


@dataclass(frozen=True)
class ResourceGroup:
    """A resource group as served: given explicitly or derived from the ids beneath it."""

    subscription_id: str
    name: str
    location: str

    @property
    def id(self) -> str:
        """ARM id of the group."""
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.name}"

    def as_arm(self) -> dict[str, Any]:
        """The group in the shape ARM's resource-group GET returns."""
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
            "properties": {"provisioningState": "Succeeded"},
        }


class EstateIndex:
    """Read-only lookups over one estate; built once per emulator, safe to share across threads."""

    def __init__(self, estate: Estate) -> None:
        self._subscriptions = {item.subscription_id.lower(): item for item in estate.subscriptions}
        self._by_id: dict[str, Mapping[str, Any]] = {}
        self._collections: dict[str, list[Mapping[str, Any]]] = {}
        self._ancestors: set[str] = set()
        # Top-level resources by subscription, by (subscription, group) and by (subscription, type).
        self._top_by_subscription: dict[str, list[Mapping[str, Any]]] = {}
        self._top_by_group: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        self._top_by_type: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        self._groups: dict[str, dict[str, ResourceGroup]] = {key: {} for key in self._subscriptions}

        # Entries given in the file come first, so they win over an embedded child with the same id.
        for resource in estate.resources:
            self._add(resource)
        for resource in estate.resources:
            for child in _embedded_children(resource, path_key(resource["id"])):
                if path_key(child["id"]) not in self._by_id:
                    self._add(child)
        self._derive_groups(estate)

    def _add(self, resource: Mapping[str, Any]) -> None:
        key = path_key(resource["id"])
        self._by_id[key] = resource
        parent, _, _ = key.rpartition("/")
        self._collections.setdefault(parent, []).append(resource)
        while parent:
            self._ancestors.add(parent)
            parent, _, _ = parent.rpartition("/")
        parsed = parse_arm_path(resource["id"])
        if parsed.is_top_level_resource and parsed.subscription_id and parsed.resource_group:
            subscription = parsed.subscription_id.lower()
            self._top_by_subscription.setdefault(subscription, []).append(resource)
            self._top_by_group.setdefault((subscription, parsed.resource_group.lower()), []).append(resource)
            self._top_by_type.setdefault((subscription, parsed.resource_type), []).append(resource)

    def _derive_groups(self, estate: Estate) -> None:
        for given in estate.resource_groups:
            groups = self._groups[given.subscription_id.lower()]
            groups[given.name.lower()] = ResourceGroup(
                self._subscription_spelling(given.subscription_id), given.name, given.location
            )
        for resource in estate.resources:
            parsed = parse_arm_path(resource["id"])
            if parsed.subscription_id is None or parsed.resource_group is None:
                continue
            groups = self._groups[parsed.subscription_id.lower()]
            known = groups.get(parsed.resource_group.lower())
            location = resource.get("location")
            if known is None:
                groups[parsed.resource_group.lower()] = ResourceGroup(
                    self._subscription_spelling(parsed.subscription_id),
                    parsed.resource_group,
                    location if isinstance(location, str) and location else FALLBACK_LOCATION,
                )
            elif known.location == FALLBACK_LOCATION and isinstance(location, str) and location:
                groups[parsed.resource_group.lower()] = ResourceGroup(known.subscription_id, known.name, location)

    def _subscription_spelling(self, subscription_id: str) -> str:
        return self._subscriptions[subscription_id.lower()].subscription_id

    @property
    def subscriptions(self) -> tuple[EstateSubscription, ...]:
        """Every subscription, in file order."""
        return tuple(self._subscriptions.values())

    def subscription(self, subscription_id: str) -> EstateSubscription | None:
        """A subscription by id, ignoring case."""
        return self._subscriptions.get(subscription_id.lower())

    def groups(self, subscription_id: str) -> list[ResourceGroup]:
        """The resource groups of a subscription: given ones first, then derived ones in file order."""
        return list(self._groups.get(subscription_id.lower(), {}).values())

    def group(self, subscription_id: str, name: str) -> ResourceGroup | None:
        """One resource group, ignoring case."""
        return self._groups.get(subscription_id.lower(), {}).get(name.lower())

    def resource(self, path: ArmPath) -> Mapping[str, Any] | None:
        """The resource a path names, top-level or embedded."""
        return self._by_id.get(path.key)

    def resources(self) -> list[Mapping[str, Any]]:
        """Every resource, given or embedded, in the order it was filed."""
        return list(self._by_id.values())

    def knows_scope(self, key: str) -> bool:
        """True if a resource has this key or lies beneath it (a backup fabric the file never lists)."""
        return key in self._by_id or key in self._ancestors

    def collection(self, path: ArmPath) -> list[Mapping[str, Any]]:
        """Every item a collection path lists."""
        items = list(self._collections.get(path.key, ()))
        if path.is_subscription_type_list and path.subscription_id is not None:
            items = self._top_by_type.get((path.subscription_id.lower(), path.resource_type), []) + items
        descendant_segment = _DESCENDANT_LISTS.get(path.segments[-1].lower()) if path.segments else None
        if descendant_segment is not None:
            prefix = path.owner_key + "/"
            items += [
                resource
                for key, resource in self._by_id.items()
                if key.startswith(prefix) and key.split("/")[-2] == descendant_segment
            ]
        return items

    def top_level(self, subscription_id: str, group: str | None = None) -> list[Mapping[str, Any]]:
        """Top-level resources of a subscription, or of one of its groups, in file order."""
        if group is None:
            return list(self._top_by_subscription.get(subscription_id.lower(), ()))
        return list(self._top_by_group.get((subscription_id.lower(), group.lower()), ()))


def _embedded_children(resource: Mapping[str, Any], parent_key: str) -> Iterator[Mapping[str, Any]]:
    """Children ARM embeds: list items under ``properties`` and in ``resources`` with ids beneath the parent.

    Items whose id lies elsewhere are references (an NSG's ``networkInterfaces``), not children.
    """
    candidates: list[Any] = []
    properties = resource.get("properties")
    if isinstance(properties, dict):
        for value in properties.values():
            if isinstance(value, list):
                candidates.extend(value)
    nested = resource.get("resources")
    if isinstance(nested, list):
        candidates.extend(nested)
    for item in candidates:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        key = path_key(item["id"])
        if key.startswith(parent_key + "/"):
            yield item
            yield from _embedded_children(item, key)

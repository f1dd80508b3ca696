"""Pure helpers over ARM resource ids, which Azure compares case-insensitively."""

from __future__ import annotations


def segments(resource_id: str) -> list[str]:
    """The non-empty path segments of an id."""
    return [part for part in resource_id.split("/") if part]


def subscription_of(resource_id: str) -> str:
    """The subscription id an ARM id lives in, or '' for tenant-level ids."""
    parts = segments(resource_id)
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return ""


def resource_group_of(resource_id: str) -> str:
    """The resource group an ARM id lives in, or '' above resource-group scope."""
    parts = segments(resource_id)
    if len(parts) >= 4 and parts[2].lower() == "resourcegroups":
        return parts[3]
    return ""


def name_of(resource_id: str) -> str:
    """The last segment of an id."""
    # Splitting once from the right: rules call this per record, and a full split costs a list per call.
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def parent_of(resource_id: str) -> str:
    """The id of the parent resource of a child (two segments up), e.g. a subnet's virtual network."""
    parts = segments(resource_id)
    return "/" + "/".join(parts[:-2]) if len(parts) > 2 else ""


def same_id(left: str | None, right: str | None) -> bool:
    """True when two ids name the same resource."""
    return left is not None and right is not None and left.lower() == right.lower()


def key(resource_id: str) -> str:
    """The canonical form to index resources by id."""
    return resource_id.rstrip("/").lower()

"""The ARM path grammar: what a request path or a resource id names.

ARM paths are a scope (the tenant root, ``/subscriptions/S`` or ``/subscriptions/S/resourceGroups/R``)
followed by ``providers/NAMESPACE`` and alternating type and name segments. ``providers/NAMESPACE`` may
open again further down for extension resources (``.../vaults/kv1/providers/Microsoft.Insights/
diagnosticSettings/d``). A path that ends on a name is a resource; one that ends on a type is a
collection of the resources beneath its owner. Comparison is case-insensitive, as in ARM.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote


class PathKind(Enum):
    """What an ARM path names."""

    ROOT = "root"
    SUBSCRIPTIONS = "subscriptions"
    SUBSCRIPTION = "subscription"
    GROUPS = "resource groups"
    GROUP = "resource group"
    GENERIC_LIST = "generic resource list"
    RESOURCE = "resource"
    COLLECTION = "collection"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ArmPath:
    """A parsed ARM path: its kind, its segments (decoded, original case) and where its scope lies."""

    kind: PathKind
    segments: tuple[str, ...]
    subscription_id: str | None = None
    resource_group: str | None = None
    # For a collection, how many leading segments name the resource or scope that owns it.
    owner_length: int = 0

    @property
    def key(self) -> str:
        """The case-folded path used as an index key."""
        return join_key(self.segments)

    @property
    def owner_key(self) -> str:
        """Index key of the resource or scope a collection belongs to."""
        return join_key(self.segments[: self.owner_length])

    @property
    def is_top_level_resource(self) -> bool:
        """True for ``/subscriptions/S/resourceGroups/R/providers/NS/TYPE/NAME``."""
        return self.kind is PathKind.RESOURCE and self.resource_group is not None and len(self.segments) == 8

    @property
    def is_subscription_type_list(self) -> bool:
        """True for ``/subscriptions/S/providers/NS/TYPE``, the subscription-wide list of one type."""
        return (
            self.kind is PathKind.COLLECTION
            and self.resource_group is None
            and self.subscription_id is not None
            and len(self.segments) == 5
        )

    @property
    def resource_type(self) -> str:
        """``namespace/type`` of a top-level resource or a subscription-wide type list, case-folded."""
        if self.is_top_level_resource:
            return f"{self.segments[5]}/{self.segments[6]}".lower()
        if self.is_subscription_type_list:
            return f"{self.segments[3]}/{self.segments[4]}".lower()
        return ""


def split_segments(path: str) -> tuple[str, ...] | None:
    """Segments of a decoded path, tolerating leading and trailing slashes; None if one is empty."""
    stripped = path.strip("/")
    if not stripped:
        return ()
    segments = tuple(stripped.split("/"))
    if any(not segment for segment in segments):
        return None
    return segments


def join_key(segments: tuple[str, ...]) -> str:
    """The index key for a sequence of segments: slash-joined and case-folded."""
    return ("/" + "/".join(segments)).lower()


def path_key(path: str) -> str:
    """The index key of a decoded path or resource id."""
    return "/" + path.strip("/").lower()


def decode_path(raw_path: str) -> str:
    """Percent-decode a request path as UTF-8 (ids may hold non-ASCII names)."""
    return unquote(raw_path, encoding="utf-8", errors="strict")


def parse_arm_path(path: str) -> ArmPath:
    """Classify a decoded path or resource id by the ARM grammar."""
    segments = split_segments(path)
    if segments is None:
        return ArmPath(PathKind.UNKNOWN, ())
    if not segments:
        return ArmPath(PathKind.ROOT, ())
    lower = [segment.lower() for segment in segments]
    count = len(segments)
    subscription_id: str | None = None
    resource_group: str | None = None
    if lower[0] == "subscriptions":
        if count == 1:
            return ArmPath(PathKind.SUBSCRIPTIONS, segments)
        subscription_id = segments[1]
        if count == 2:
            return ArmPath(PathKind.SUBSCRIPTION, segments, subscription_id)
        scope_length = 2
        if lower[2] == "resourcegroups":
            if count == 3:
                return ArmPath(PathKind.GROUPS, segments, subscription_id)
            resource_group = segments[3]
            if count == 4:
                return ArmPath(PathKind.GROUP, segments, subscription_id, resource_group)
            scope_length = 4
        if count == scope_length + 1 and lower[scope_length] == "resources":
            return ArmPath(PathKind.GENERIC_LIST, segments, subscription_id, resource_group)
    elif lower[0] == "providers":
        scope_length = 0
    else:
        return ArmPath(PathKind.UNKNOWN, segments)
    return _parse_provider_tail(segments, lower, scope_length, subscription_id, resource_group)


def _parse_provider_tail(
    segments: tuple[str, ...],
    lower: list[str],
    scope_length: int,
    subscription_id: str | None,
    resource_group: str | None,
) -> ArmPath:
    """Walk ``providers/NS/type/name/...`` after the scope, where ``providers/NS`` may reopen."""
    if lower[scope_length] != "providers":
        return ArmPath(PathKind.UNKNOWN, segments, subscription_id, resource_group)
    index = scope_length
    expecting_type = True
    after_namespace = False
    owner_length = scope_length
    while index < len(segments):
        if expecting_type and lower[index] == "providers":
            if index + 1 >= len(segments):
                return ArmPath(PathKind.UNKNOWN, segments, subscription_id, resource_group)
            # The owner of what follows is whatever came before this providers/NS pair.
            owner_length = index
            index += 2
            after_namespace = True
            continue
        if expecting_type:
            if not after_namespace:
                owner_length = index
            expecting_type = False
        else:
            expecting_type = True
        after_namespace = False
        index += 1
    if after_namespace:
        return ArmPath(PathKind.UNKNOWN, segments, subscription_id, resource_group)
    kind = PathKind.RESOURCE if expecting_type else PathKind.COLLECTION
    return ArmPath(kind, segments, subscription_id, resource_group, owner_length)

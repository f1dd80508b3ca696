"""Estate files: the subscriptions, resources and Graph answers the emulator serves, validated on load.

An estate is a JSON object::

    {
      "subscriptions": [{"subscriptionId": "...", "displayName": "...", "state": "Enabled",
                         "tenantId": "... (optional)"}],
      "resources": [ <ARM objects exactly as ARM's GET returns them> ],
      "graph": {"/identity/conditionalAccess/policies": [ ... ], "/policies/...": { ... }},
      "resourceGroups": [{"id": "/subscriptions/S/resourceGroups/R", "name": "R", "location": "..."}],
      "raw": [{"path": "/exact/path", "status": 200, "body": "<any text>"}],
      "faults": [{"pattern": "/disks", "status": 429, "retry_after": "1", "times": 1}]
    }

``resourceGroups``, ``raw`` and ``faults`` are optional; keys starting with ``$`` or ``_`` and
``description`` are ignored so a file can carry a schema link and comments. Resource ids may be of
subscription scope (``/subscriptions/S/...``) at any depth, or tenant scope (``/providers/...``); child
resources may be embedded as ARM embeds them or given as entries of their own beneath their parent.
The estate keeps the given objects as they are; nothing may change them afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from auditor.emulator.faults import Fault, FaultError, fault_from_mapping
from auditor.emulator.paths import PathKind, parse_arm_path, path_key
from auditor.input_files import InputFileError, read_json

DEFAULT_TENANT_ID = "00000000-0000-0000-0000-000000000000"
REQUIRED_KEYS = ("subscriptions", "resources", "graph")
OPTIONAL_KEYS = ("resourceGroups", "raw", "faults", "description", "asOf")
_ID_SHAPES = (
    "/subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}[/...], "
    "/subscriptions/{id}/providers/{namespace}/{type}/{name}[/...] or /providers/{namespace}/{type}/{name}[/...]"
)


class EstateError(ValueError):
    """An estate file that cannot be served; the message names the file and the place."""


@dataclass(frozen=True)
class EstateSubscription:
    """A subscription the estate holds."""

    subscription_id: str
    display_name: str
    state: str
    tenant_id: str = DEFAULT_TENANT_ID


@dataclass(frozen=True)
class EstateResourceGroup:
    """A resource group given explicitly, with the location groups derived from ids cannot know."""

    id: str
    name: str
    location: str

    @property
    def subscription_id(self) -> str:
        """The subscription id inside the group's id."""
        return self.id.strip("/").split("/")[1]


@dataclass(frozen=True)
class RawResponse:
    """A fixed body served for one exact path, whether or not it is valid JSON."""

    path: str
    status: int
    body: str


@dataclass(frozen=True)
class Estate:
    """A validated estate; ``source`` names the file (or other origin) it came from."""

    subscriptions: tuple[EstateSubscription, ...]
    resources: tuple[Mapping[str, Any], ...]
    graph: Mapping[str, Any]
    faults: tuple[Fault, ...] = ()
    raw: tuple[RawResponse, ...] = ()
    resource_groups: tuple[EstateResourceGroup, ...] = ()
    source: str = "<memory>"
    # The moment a sample estate describes (its backup times, key expiries); a scan of it is judged then.
    as_of: str | None = None

    @classmethod
    def from_dict(cls, data: Any, source: str) -> Estate:
        """Validate a decoded estate; ``source`` names it in error messages."""
        return _Validator(source).estate(data)


def load_estate(path: str | Path) -> Estate:
    """Read, parse and validate an estate file."""
    source = str(path)
    try:
        data = read_json(Path(path), "estate")
    except InputFileError as exc:
        raise EstateError(str(exc)) from None
    return Estate.from_dict(data, source)


def demo_estate_path() -> Path:
    """Where the packaged demo estate lives (``auditor/data/demo-estate.json``)."""
    return Path(str(files("auditor.data").joinpath("demo-estate.json")))


class _Validator:
    """Checks one decoded estate, raising EstateError that names the file and the place."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> EstateError:
        prefix = f"estate {self.source}: "
        return EstateError(prefix + (f"{where}: {message}" if where else message))

    def estate(self, data: Any) -> Estate:
        if not isinstance(data, dict):
            raise self.fail("", f"the top level must be an object, not {_json_type(data)}")
        for key in REQUIRED_KEYS:
            if key not in data:
                raise self.fail("", f"missing top-level key '{key}'")
        for key in data:
            if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS and not key.startswith(("$", "_")):
                expected = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
                raise self.fail("", f"unknown top-level key '{key}' (expected some of {expected})")
        subscriptions = self.subscriptions(self.list_at(data, "subscriptions"))
        known = {subscription.subscription_id.lower() for subscription in subscriptions}
        return Estate(
            subscriptions=subscriptions,
            resources=self.resources(self.list_at(data, "resources"), known),
            graph=self.graph(data["graph"]),
            faults=self.faults(self.list_at(data, "faults", optional=True)),
            raw=self.raw(self.list_at(data, "raw", optional=True)),
            resource_groups=self.resource_groups(self.list_at(data, "resourceGroups", optional=True), known),
            source=self.source,
            as_of=self.moment(data.get("asOf")),
        )

    def moment(self, value: Any) -> str | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise self.fail("asOf", f"'{value}' is not an ISO 8601 date and time") from None
        if parsed.tzinfo is None:
            raise self.fail("asOf", f"'{value}' has no time zone (add Z or +00:00)")
        return parsed.isoformat()

    def list_at(self, data: Mapping[str, Any], key: str, *, optional: bool = False) -> list[Any]:
        value = data.get(key, [] if optional else None)
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {_json_type(value)}")
        return value

    def object_at(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be an object, not {_json_type(value)}")
        return value

    def string_at(self, data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str:
        if key not in data:
            if optional:
                return ""
            raise self.fail(where, f"missing '{key}'")
        value = data[key]
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", f"must be a non-empty string, not {_json_type(value)}")
        return value

    def subscriptions(self, items: list[Any]) -> tuple[EstateSubscription, ...]:
        found: list[EstateSubscription] = []
        seen: set[str] = set()
        for position, item in enumerate(items):
            where = f"subscriptions[{position}]"
            entry = self.object_at(item, where)
            subscription_id = self.string_at(entry, "subscriptionId", where)
            if "/" in subscription_id:
                raise self.fail(f"{where}.subscriptionId", "must be a bare id, not a path")
            if subscription_id.lower() in seen:
                raise self.fail(where, f"subscription '{subscription_id}' is listed twice")
            seen.add(subscription_id.lower())
            found.append(
                EstateSubscription(
                    subscription_id=subscription_id,
                    display_name=self.string_at(entry, "displayName", where),
                    state=self.string_at(entry, "state", where),
                    tenant_id=self.string_at(entry, "tenantId", where, optional=True) or DEFAULT_TENANT_ID,
                )
            )
        return tuple(found)

    def resources(self, items: list[Any], subscriptions: set[str]) -> tuple[Mapping[str, Any], ...]:
        seen: dict[str, int] = {}
        for position, item in enumerate(items):
            where = f"resources[{position}]"
            resource = self.object_at(item, where)
            resource_id = self.string_at(resource, "id", where)
            parsed = parse_arm_path(resource_id)
            if not resource_id.startswith("/") or parsed.kind is not PathKind.RESOURCE:
                raise self.fail(f"{where}.id", f"'{resource_id}' is not an ARM resource id (expected {_ID_SHAPES})")
            if parsed.subscription_id is not None and parsed.subscription_id.lower() not in subscriptions:
                raise self.fail(f"{where}.id", f"subscription '{parsed.subscription_id}' is not in 'subscriptions'")
            key = path_key(resource_id)
            if key in seen:
                raise self.fail(f"{where}.id", f"'{resource_id}' duplicates resources[{seen[key]}].id")
            seen[key] = position
        return tuple(items)

    def graph(self, value: Any) -> Mapping[str, Any]:
        graph = self.object_at(value, "graph")
        seen: set[str] = set()
        for path, answer in graph.items():
            where = f"graph[{path!r}]"
            if not path.startswith("/"):
                raise self.fail(where, "a Graph path must start with '/'")
            if path_key(path).startswith(("/v1.0/", "/beta/")):
                raise self.fail(where, "give the path without the /v1.0 or /beta prefix; both are served")
            if not isinstance(answer, list | dict):
                raise self.fail(where, f"must be a list or an object, not {_json_type(answer)}")
            if path_key(path) in seen:
                raise self.fail(where, "the same path (ignoring case) is given twice")
            seen.add(path_key(path))
        return graph

    def faults(self, items: list[Any]) -> tuple[Fault, ...]:
        found: list[Fault] = []
        for position, item in enumerate(items):
            where = f"faults[{position}]"
            try:
                found.append(fault_from_mapping(self.object_at(item, where)))
            except FaultError as exc:
                raise self.fail(where, str(exc)) from None
        return tuple(found)

    def raw(self, items: list[Any]) -> tuple[RawResponse, ...]:
        found: list[RawResponse] = []
        seen: set[str] = set()
        for position, item in enumerate(items):
            where = f"raw[{position}]"
            entry = self.object_at(item, where)
            path = self.string_at(entry, "path", where)
            if not path.startswith("/"):
                raise self.fail(f"{where}.path", "must start with '/'")
            if path_key(path) in seen:
                raise self.fail(f"{where}.path", f"'{path}' is given twice")
            seen.add(path_key(path))
            status = entry.get("status", 200)
            if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
                raise self.fail(f"{where}.status", "must be an HTTP status between 100 and 599")
            body = entry.get("body")
            if not isinstance(body, str):
                raise self.fail(f"{where}.body", f"must be a string, not {_json_type(body)}")
            found.append(RawResponse(path, status, body))
        return tuple(found)

    def resource_groups(self, items: list[Any], subscriptions: set[str]) -> tuple[EstateResourceGroup, ...]:
        found: list[EstateResourceGroup] = []
        seen: set[str] = set()
        for position, item in enumerate(items):
            where = f"resourceGroups[{position}]"
            entry = self.object_at(item, where)
            group_id = self.string_at(entry, "id", where)
            parsed = parse_arm_path(group_id)
            if parsed.kind is not PathKind.GROUP or parsed.subscription_id is None or parsed.resource_group is None:
                raise self.fail(f"{where}.id", f"'{group_id}' is not /subscriptions/{{id}}/resourceGroups/{{name}}")
            if parsed.subscription_id.lower() not in subscriptions:
                raise self.fail(f"{where}.id", f"subscription '{parsed.subscription_id}' is not in 'subscriptions'")
            name = self.string_at(entry, "name", where, optional=True) or parsed.resource_group
            if name.lower() != parsed.resource_group.lower():
                raise self.fail(f"{where}.name", f"'{name}' does not match the id's group '{parsed.resource_group}'")
            if path_key(group_id) in seen:
                raise self.fail(f"{where}.id", f"'{group_id}' is given twice")
            seen.add(path_key(group_id))
            found.append(EstateResourceGroup(group_id, name, self.string_at(entry, "location", where)))
        return tuple(found)


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"

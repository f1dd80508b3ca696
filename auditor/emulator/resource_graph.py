"""Azure Resource Graph answers: ``POST /providers/Microsoft.ResourceGraph/resources`` over the estate.

Rows are the estate's resources as Resource Graph indexes them: one row per resource of a type the
service indexes (see ``TYPE_TABLES``), with ``type`` and ``resourceGroup`` lower-cased, ``subscriptionId``
and ``tenantId`` columns, and without the ``resources`` array ARM embeds (VM extensions are rows of
their own). Each type belongs to one table: ``resources``, ``resourcecontainers`` (subscriptions and
resource groups), ``securityresources``, ``authorizationresources`` or ``recoveryservicesresources``.

The KQL understood is the subset the auditor sends; every stage is optional except the table::

    <table>
    | where type =~ '<type>'              (or: type in~ ('<type>', '<type>', ...))
    | project <column>, <column>, ...
    | order by <column> [asc|desc]

Anything else is a 400 with Resource Graph's ``InvalidQuery`` error body. Paging follows the service:
``options.$top`` (default 100, at most 1,000), ``options.$skip`` and an opaque ``$skipToken``;
``resultFormat`` must be ``objectArray``. ``subscriptions`` holds at most 1,000 ids; without it the
query spans every subscription of the estate. Every answer carries the per-user quota headers
``x-ms-user-quota-remaining`` and ``x-ms-user-quota-resets-after`` (``hh:mm:ss``); past the quota
(by default 15 queries per 5 seconds, as in Azure) the answer is a 429 ``RateLimiting``.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from auditor.emulator.estate import Estate
from auditor.emulator.index import EstateIndex
from auditor.emulator.paths import parse_arm_path
from auditor.emulator.responses import Reply

RESOURCE_GRAPH_PATH = re.compile(r"^/providers/Microsoft\.ResourceGraph/resources/?$", re.IGNORECASE)
API_VERSIONS = ("2022-10-01", "2021-03-01")
DEFAULT_TOP = 100
MAX_TOP = 1000
MAX_SUBSCRIPTIONS = 1000
_CACHED_QUERIES = 64
# Azure's default user quota: 15 queries in every 5-second window.
DEFAULT_QUOTA = 15
DEFAULT_WINDOW_SECONDS = 5.0

# The types the estate may hold that Resource Graph indexes, by table (Microsoft's "Azure Resource Graph
# table and resource type reference"). Types absent here (key vault keys, SQL TDE and retention
# policies, diagnostic settings, security contacts, backup storage config, firewall policy rule
# collection groups) are served only by ARM.
TYPE_TABLES: Mapping[str, str] = {
    **{
        name: "resources"
        for name in (
            "microsoft.compute/virtualmachines",
            "microsoft.compute/virtualmachines/extensions",
            "microsoft.compute/disks",
            "microsoft.compute/snapshots",
            "microsoft.compute/diskencryptionsets",
            "microsoft.network/networksecuritygroups",
            "microsoft.network/virtualnetworks",
            "microsoft.network/networkinterfaces",
            "microsoft.network/publicipaddresses",
            "microsoft.network/routetables",
            "microsoft.network/azurefirewalls",
            "microsoft.network/firewallpolicies",
            "microsoft.network/virtualnetworkgateways",
            "microsoft.network/privateendpoints",
            "microsoft.keyvault/vaults",
            "microsoft.sql/servers",
            "microsoft.sql/servers/databases",
            "microsoft.sqlvirtualmachine/sqlvirtualmachines",
            "microsoft.storage/storageaccounts",
            "microsoft.recoveryservices/vaults",
            "microsoft.insights/actiongroups",
            "microsoft.insights/activitylogalerts",
            "microsoft.insights/metricalerts",
            "microsoft.web/sites",
        )
    },
    "microsoft.resources/subscriptions": "resourcecontainers",
    "microsoft.resources/subscriptions/resourcegroups": "resourcecontainers",
    "microsoft.security/pricings": "securityresources",
    "microsoft.security/assessments": "securityresources",
    "microsoft.authorization/roleassignments": "authorizationresources",
    "microsoft.authorization/roledefinitions": "authorizationresources",
    "microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems": "recoveryservicesresources",
    "microsoft.recoveryservices/vaults/backuppolicies": "recoveryservicesresources",
    "microsoft.recoveryservices/vaults/backupjobs": "recoveryservicesresources",
}
TABLES = frozenset(TYPE_TABLES.values())
# ARM keys a Resource Graph row carries as they are; everything else of the ARM object is left out.
_ROW_KEYS = (
    *("id", "name", "kind", "location", "managedBy", "sku", "plan"),
    *("properties", "tags", "identity", "zones", "extendedLocation"),
)

_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_WHERE_ONE = re.compile(rf"^where\s+type\s*(=~|==)\s*({_STRING})$", re.IGNORECASE)
_WHERE_IN = re.compile(
    rf"^where\s+type\s+(in~|in)\s*\(\s*((?:{_STRING})(?:\s*,\s*(?:{_STRING}))*)\s*\)$", re.IGNORECASE
)
_PROJECT = re.compile(r"^project\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)$", re.IGNORECASE)
_ORDER = re.compile(r"^(?:order|sort)\s+by\s+([A-Za-z_]\w*)(?:\s+(asc|desc))?$", re.IGNORECASE)
_TABLE = re.compile(r"^[A-Za-z_]\w*$")


class QueryError(ValueError):
    """A query outside the understood subset; the message says which part."""


@dataclass(frozen=True)
class Query:
    """A parsed query: which table, which types (None: all), which columns, which order."""

    table: str
    types: frozenset[str] | None = None
    columns: tuple[str, ...] | None = None
    order_by: str | None = None
    descending: bool = False


def parse_query(text: str) -> Query:
    """Parse the KQL subset described in the module docstring; QueryError for anything else."""
    stages = [stage.strip() for stage in _split_pipes(text)]
    if not stages or not stages[0]:
        raise QueryError("the query is empty")
    table = stages[0]
    if not _TABLE.match(table) or table.lower() not in TABLES:
        raise QueryError(f"unknown table '{table}' (expected one of {', '.join(sorted(TABLES))})")
    types: set[str] | None = None
    columns: tuple[str, ...] | None = None
    order_by: str | None = None
    descending = False
    for stage in stages[1:]:
        if match := _WHERE_ONE.match(stage):
            wanted = {_unquote(match.group(2))}
        elif match := _WHERE_IN.match(stage):
            wanted = {_unquote(item) for item in re.findall(_STRING, match.group(2))}
        elif match := _PROJECT.match(stage):
            columns = tuple(name.strip() for name in match.group(1).split(","))
            continue
        elif match := _ORDER.match(stage):
            order_by = match.group(1)
            descending = (match.group(2) or "desc").lower() == "desc"
            continue
        else:
            raise QueryError(f"unsupported stage '{stage}'")
        # "==" compares case-sensitively against lower-case types; "=~" and "in~" ignore case.
        exact = match.group(1) in ("==", "in")
        lowered = {name if exact else name.lower() for name in wanted}
        types = lowered if types is None else types & lowered
    return Query(table.lower(), frozenset(types) if types is not None else None, columns, order_by, descending)


def _split_pipes(text: str) -> list[str]:
    """The stages of a query: split on ``|`` outside quoted strings."""
    stages, current, quote = [], [], ""
    for character in text:
        if quote:
            current.append(character)
            if character == quote:
                quote = ""
        elif character in "'\"":
            quote = character
            current.append(character)
        elif character == "|":
            stages.append("".join(current))
            current = []
        else:
            current.append(character)
    stages.append("".join(current))
    return stages


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def graph_rows(estate: Estate, index: EstateIndex) -> list[dict[str, Any]]:
    """Every row Resource Graph would hold for the estate, in estate order."""
    tenants = {s.subscription_id.lower(): s.tenant_id for s in estate.subscriptions}
    rows: list[dict[str, Any]] = []
    for subscription in index.subscriptions:
        rows.append(
            {
                "id": f"/subscriptions/{subscription.subscription_id}",
                "name": subscription.display_name,
                "type": "microsoft.resources/subscriptions",
                "tenantId": subscription.tenant_id,
                "subscriptionId": subscription.subscription_id,
                "resourceGroup": "",
                "location": "",
                "properties": {"state": subscription.state},
            }
        )
        for group in index.groups(subscription.subscription_id):
            # ARM's group GET says "Microsoft.Resources/resourceGroups"; Resource Graph files groups
            # under the subscription's type.
            rows.append(_row(group.as_arm(), tenants) | {"type": "microsoft.resources/subscriptions/resourcegroups"})
    for resource in index.resources():
        kind = resource.get("type")
        if (
            isinstance(kind, str)
            and kind.lower() in TYPE_TABLES
            and kind.lower() != "microsoft.resources/subscriptions"
        ):
            rows.append(_row(resource, tenants))
    return rows


def _row(resource: Mapping[str, Any], tenants: Mapping[str, str]) -> dict[str, Any]:
    parsed = parse_arm_path(str(resource["id"]))
    subscription = parsed.subscription_id or ""
    row: dict[str, Any] = {key: resource[key] for key in _ROW_KEYS if key in resource}
    row["type"] = str(resource["type"]).lower()
    row["tenantId"] = tenants.get(subscription.lower(), "")
    row["subscriptionId"] = subscription
    row["resourceGroup"] = (parsed.resource_group or "").lower()
    return row


class UserQuota:
    """A fixed-window quota of queries per user, as Resource Graph applies it; safe across threads."""

    def __init__(
        self,
        limit: int = DEFAULT_QUOTA,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("the quota needs a positive limit and window")
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._used = 0

    def take(self) -> tuple[bool, tuple[tuple[str, str], ...]]:
        """Use one query if any is left; the headers to send either way."""
        with self._lock:
            now = self._clock()
            if now - self._started >= self._window:
                self._started, self._used = now, 0
            allowed = self._used < self._limit
            if allowed:
                self._used += 1
            remaining = self._limit - self._used
            resets = max(0.0, self._window - (now - self._started))
        seconds = math.ceil(resets)
        clock_text = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return allowed, (("x-ms-user-quota-remaining", str(remaining)), ("x-ms-user-quota-resets-after", clock_text))


class ResourceGraph:
    """Answers Resource Graph queries over one estate; built once per emulator."""

    def __init__(self, estate: Estate, index: EstateIndex, quota: UserQuota | None = None) -> None:
        self._rows = graph_rows(estate, index)
        self._encoded = {id(row): json.dumps(row, ensure_ascii=False) for row in self._rows}
        self._quota = quota or UserQuota()
        # Each page of a query re-runs it; the matching rows are kept for the pages that follow.
        self._results: dict[tuple[Query, frozenset[str] | None], list[dict[str, Any]]] = {}
        self._results_lock = threading.Lock()

    def answer(self, query: str, body: bytes) -> Reply:
        """The reply to one query POST (``query`` is the URL's query string)."""
        allowed, headers = self._quota.take()
        if not allowed:
            return _graph_error(
                429,
                "RateLimiting",
                "Please provide below info when asking for support: the user quota is used up.",
                [
                    {
                        "code": "RateLimiting",
                        "message": "Client application has been throttled and should not attempt to repeat the request "
                        "until an amount of time has elapsed.",
                    }
                ],
                headers,
            )
        api_version = _api_version(query)
        if api_version not in API_VERSIONS:
            return _graph_error(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{api_version}' is invalid. The supported versions are '{', '.join(API_VERSIONS)}'.",
                [],
                headers,
            )
        try:
            request = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return _invalid(headers, "the request body must be a JSON object with a 'query' string")
        try:
            parsed = parse_query(request["query"])
            subscriptions = _subscriptions(request.get("subscriptions"))
            start, top = _window(request.get("options"))
        except QueryError as exc:
            return _invalid(headers, str(exc))
        rows = self._matching(parsed, subscriptions)
        page = rows[start : start + top]
        payload: dict[str, Any] = {"totalRecords": len(rows), "count": len(page), "resultTruncated": "false"}
        if start + top < len(rows):
            payload["$skipToken"] = _token(start + top)
        if parsed.columns is not None:
            data = json.dumps(
                [{column: row.get(column) for column in parsed.columns} for row in page], ensure_ascii=False
            )
        else:
            # Rows are encoded once, when the endpoint starts: a page is then a join, not an encoding.
            data = "[" + ",".join(self._encoded[id(row)] for row in page) + "]"
        head = json.dumps(payload, ensure_ascii=False)[:-1]
        body = f'{head}, "data": {data}, "facets": []}}'.encode()
        return Reply(200, body, headers)

    def _matching(self, parsed: Query, subscriptions: set[str] | None) -> list[dict[str, Any]]:
        """The rows a query selects, in its order (computed once per query and scope)."""
        key = (parsed, frozenset(subscriptions) if subscriptions is not None else None)
        with self._results_lock:
            cached = self._results.get(key)
        if cached is not None:
            return cached
        rows = [
            row
            for row in self._rows
            if TYPE_TABLES[row["type"]] == parsed.table
            and (parsed.types is None or row["type"] in parsed.types)
            and (subscriptions is None or row["subscriptionId"].lower() in subscriptions)
        ]
        if parsed.order_by is not None:
            order = parsed.order_by
            rows.sort(key=lambda row: str(row.get(order, "")).lower(), reverse=parsed.descending)
        with self._results_lock:
            if len(self._results) >= _CACHED_QUERIES:
                self._results.pop(next(iter(self._results)))
            self._results[key] = rows
        return rows


def is_resource_graph_path(path: str) -> bool:
    """True for the Resource Graph query path."""
    return RESOURCE_GRAPH_PATH.match(path) is not None


def _api_version(query: str) -> str:
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() == "api-version":
            return value
    return ""


def _subscriptions(value: Any) -> set[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise QueryError("'subscriptions' must be a list of subscription ids")
    if len(value) > MAX_SUBSCRIPTIONS:
        raise QueryError(f"at most {MAX_SUBSCRIPTIONS} subscriptions per query, not {len(value)}")
    return {item.lower() for item in value}


def _window(options: Any) -> tuple[int, int]:
    """Where the page starts and how many rows it holds, from ``$skipToken``, ``$skip`` and ``$top``."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise QueryError("'options' must be an object")
    result_format = options.get("resultFormat", "objectArray")
    if not isinstance(result_format, str) or result_format.lower() != "objectarray":
        raise QueryError(f"resultFormat '{result_format}' is not served (use objectArray)")
    top = options.get("$top", DEFAULT_TOP)
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= MAX_TOP:
        raise QueryError(f"$top must be an integer from 1 to {MAX_TOP}, not {top!r}")
    skip = options.get("$skip", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise QueryError(f"$skip must be a non-negative integer, not {skip!r}")
    token = options.get("$skipToken")
    if token is None:
        return skip, top
    return _offset(token), top


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: Any) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        offset = decoded["offset"]
    except (ValueError, TypeError, KeyError):
        raise QueryError(f"the $skipToken '{token}' is not valid") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise QueryError(f"the $skipToken '{token}' is not valid")
    return offset


def _invalid(headers: tuple[tuple[str, str], ...], detail: str) -> Reply:
    return _graph_error(
        400,
        "BadRequest",
        "Please provide below info when asking for support: the query could not be run.",
        [
            {
                "code": "InvalidQuery",
                "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph "
                "service and fix the error before retrying.",
            },
            {"code": "ParserFailure", "message": detail},
        ],
        headers,
    )


def _graph_error(
    status: int, code: str, message: str, details: Sequence[Mapping[str, Any]], headers: tuple[tuple[str, str], ...]
) -> Reply:
    """An error in Resource Graph's shape: ARM's ``error`` object with a ``details`` list."""
    body = json.dumps({"error": {"code": code, "message": message, "details": list(details)}}).encode("utf-8")
    return Reply(status, body, headers)

"""Answers to GET requests: ARM lists and resources, Graph paths and fixed raw bodies, paged as the services page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote

from auditor.emulator.estate import Estate, EstateSubscription, RawResponse
from auditor.emulator.index import EstateIndex
from auditor.emulator.paths import PathKind, parse_arm_path, path_key, split_segments
from auditor.emulator.responses import Reply, error_reply, json_reply

GRAPH_VERSIONS = ("v1.0", "beta")
SKIP_PARAMETER = "$skiptoken"
# Navigation properties Graph returns only when ``$expand`` names them; the estate may give them anyway.
GRAPH_EXPANDABLE = ("principal",)


class Router:
    """Maps a GET path and query to a reply from one estate."""

    def __init__(self, estate: Estate, page_size: int) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self._index = EstateIndex(estate)
        self._graph = {path_key(path): answer for path, answer in estate.graph.items()}
        self._raw = {path_key(item.path): item for item in estate.raw}
        self._page_size = page_size

    @property
    def index(self) -> EstateIndex:
        """The estate's index, shared with the other services of the same endpoint."""
        return self._index

    def raw(self, path: str) -> RawResponse | None:
        """The fixed body configured for this exact path, if any."""
        return self._raw.get(path_key(path))

    def answer_get(self, raw_path: str, path: str, query: str, base_url: str) -> Reply:
        """The reply to ``GET raw_path?query``; ``path`` is ``raw_path`` decoded."""
        fixed = self.raw(path)
        if fixed is not None:
            return Reply(fixed.status, fixed.body.encode("utf-8"))
        if is_graph_path(path):
            return self._graph_answer(raw_path, path, query, base_url)
        return self._arm_answer(raw_path, path, query)

    # --- Microsoft Graph ---------------------------------------------------------------------------

    def _graph_answer(self, raw_path: str, path: str, query: str, base_url: str) -> Reply:
        segments = split_segments(path) or ()
        graph_path = "/" + "/".join(segments[1:])
        answer = self._graph.get(path_key(graph_path))
        if answer is None:
            return error_reply(
                404, "Request_ResourceNotFound", f"Resource '{graph_path}' does not exist in the estate."
            )
        if isinstance(answer, dict):
            return json_reply(answer)
        answer = _unexpanded(answer, query)
        page_size = self._page_size
        top = _query_value(query, "$top")
        if top is not None:
            if not _is_number(top) or int(top) < 1:
                return error_reply(400, "Request_BadRequest", f"Invalid value '{top}' for $top.")
            page_size = int(top)
        # Graph's @odata.nextLink is absolute.
        return self._page(
            answer, raw_path, query, page_size=page_size, link_key="@odata.nextLink", base_url=base_url, graph=True
        )

    # --- Azure Resource Manager --------------------------------------------------------------------

    def _arm_answer(self, raw_path: str, path: str, query: str) -> Reply:
        index = self._index
        parsed = parse_arm_path(path)
        if parsed.kind in (PathKind.ROOT, PathKind.UNKNOWN):
            return _path_not_found(path)
        if parsed.kind is PathKind.SUBSCRIPTIONS:
            return self._list([_subscription_body(item) for item in index.subscriptions], raw_path, query)
        subscription = index.subscription(parsed.subscription_id) if parsed.subscription_id else None
        if parsed.subscription_id is not None and subscription is None:
            return error_reply(
                404, "SubscriptionNotFound", f"The subscription '{parsed.subscription_id}' could not be found."
            )
        if parsed.kind is PathKind.SUBSCRIPTION and subscription is not None:
            return json_reply(_subscription_body(subscription))
        if parsed.kind is PathKind.GROUPS and subscription is not None:
            groups = [group.as_arm() for group in index.groups(subscription.subscription_id)]
            return self._list(groups, raw_path, query)
        group = None
        if parsed.resource_group is not None and subscription is not None:
            group = index.group(subscription.subscription_id, parsed.resource_group)
            if group is None:
                return error_reply(
                    404, "ResourceGroupNotFound", f"Resource group '{parsed.resource_group}' could not be found."
                )
        if parsed.kind is PathKind.GROUP and group is not None:
            return json_reply(group.as_arm())
        if parsed.kind is PathKind.GENERIC_LIST and subscription is not None:
            resources = index.top_level(subscription.subscription_id, parsed.resource_group)
            return self._list(resources, raw_path, query)
        if parsed.kind is PathKind.RESOURCE:
            resource = index.resource(parsed)
            if resource is None:
                return _resource_not_found("/" + "/".join(parsed.segments))
            return json_reply(resource)
        if parsed.kind is PathKind.COLLECTION:
            items = index.collection(parsed)
            # An empty collection is a real answer ("no diagnostic settings") when its owner exists; the
            # scopes (tenant, subscription, group) were checked above.
            scope_owner = parsed.owner_length <= 4
            if not items and not scope_owner and not index.knows_scope(parsed.owner_key):
                return _resource_not_found("/" + "/".join(parsed.segments[: parsed.owner_length]))
            return self._list(items, raw_path, query)
        return _path_not_found(path)

    def _list(self, items: Sequence[Any], raw_path: str, query: str) -> Reply:
        # ARM's nextLink here is relative; the SDK joins it to its base_url.
        return self._page(
            items, raw_path, query, page_size=self._page_size, link_key="nextLink", base_url="", graph=False
        )

    def _page(
        self,
        items: Sequence[Any],
        raw_path: str,
        query: str,
        *,
        page_size: int,
        link_key: str,
        base_url: str,
        graph: bool,
    ) -> Reply:
        token = _query_value(query, SKIP_PARAMETER)
        start = 0
        if token is not None:
            if not _is_number(token):
                code = "Request_BadRequest" if graph else "InvalidSkipToken"
                return error_reply(400, code, f"The skip token '{token}' is not valid.")
            start = int(token)
        end = start + page_size
        body: dict[str, Any] = {"value": list(items[start:end])}
        if end < len(items):
            body[link_key] = f"{base_url}{raw_path}?{_with_skip_token(query, end)}"
        return json_reply(body)


def is_graph_path(path: str) -> bool:
    """True for paths under ``/v1.0`` or ``/beta``, which are Microsoft Graph's."""
    segments = split_segments(path)
    return bool(segments) and segments is not None and segments[0].lower() in GRAPH_VERSIONS


def _subscription_body(subscription: EstateSubscription) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription.subscription_id}",
        "subscriptionId": subscription.subscription_id,
        "displayName": subscription.display_name,
        "state": subscription.state,
        "tenantId": subscription.tenant_id,
    }


def _resource_not_found(resource_id: str) -> Reply:
    return error_reply(404, "ResourceNotFound", f"The resource '{resource_id}' was not found.")


def _path_not_found(path: str) -> Reply:
    return error_reply(404, "PathNotFound", f"The requested path '{path}' is not recognized.")


def _unexpanded(items: list[Any], query: str) -> list[Any]:
    """The items without the navigation properties the query's ``$expand`` does not ask for, as Graph sends them."""
    asked = {name.strip().lower() for name in (_query_value(query, "$expand") or "").split(",")}
    dropped = [name for name in GRAPH_EXPANDABLE if name.lower() not in asked]
    if not dropped:
        return items
    return [{k: v for k, v in i.items() if k not in dropped} if isinstance(i, dict) else i for i in items]


def _query_value(query: str, name: str) -> str | None:
    """A query parameter's value by case-insensitive name (``$skipToken`` and ``$skiptoken`` alike)."""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() == name:
            return value
    return None


def _with_skip_token(query: str, offset: int) -> str:
    """The query with its skip token replaced, every other parameter kept as it was sent."""
    kept = [part for part in query.split("&") if part and unquote(part.partition("=")[0]).lower() != SKIP_PARAMETER]
    return "&".join([*kept, f"{SKIP_PARAMETER}={offset}"])


def _is_number(text: str) -> bool:
    """True for ASCII digits only (``str.isdigit`` also accepts superscripts that ``int`` refuses)."""
    return text.isascii() and text.isdigit()

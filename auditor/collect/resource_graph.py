"""Azure Resource Graph queries: one query per table over up to 1,000 subscriptions, paged and paced.

The query goes through ``azure-mgmt-resourcegraph``'s ``ResourceGraphClient`` built like every other
client of the session (credential, read-only and host-bound policies, capped retries), plus a quota
policy. The request is sent through the client's pipeline with the operation's own path and body
rather than through its ``resources`` operation: the operation would deserialize every row into a
generic model object, a full copy of each page that the records do not need.

Throttling follows Microsoft's guidance for Resource Graph: every answer says how many queries the
user has left in the current window (``x-ms-user-quota-remaining``) and when it resets
(``x-ms-user-quota-resets-after``, ``hh:mm:ss``). When none are left, the next query waits for the
reset instead of drawing a 429; a 429 is retried after the reset time it names.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.rest import HttpRequest

from auditor.collect.base import ArmResponseError, MalformedResponseError, parse_json
from auditor.collect.policies import CappedRetryPolicy
from auditor.collect.session import AzureSession

if TYPE_CHECKING:
    from azure.mgmt.resourcegraph import ResourceGraphClient

QUERY_PATH = "/providers/Microsoft.ResourceGraph/resources"
API_VERSION = "2022-10-01"
PAGE_ROWS = 1000
MAX_SUBSCRIPTIONS_PER_QUERY = 1000
# A query whose pages never end (a skip token repeated, or more pages than any tenant needs) is an error.
MAX_PAGES = 10_000
QUOTA_REMAINING = "x-ms-user-quota-remaining"
QUOTA_RESETS_AFTER = "x-ms-user-quota-resets-after"
_CLOCK = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")


class NotVisibleError(AzureError):
    """A subscription in scope that Resource Graph did not show: the caller may not be able to read it."""


def resets_after(value: str | None) -> float | None:
    """Seconds from an ``hh:mm:ss`` quota reset header, or None when it is absent or unreadable."""
    if value is None:
        return None
    match = _CLOCK.match(value.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


class QuotaPolicy(HTTPPolicy[Any, Any]):
    """Paces queries by the user quota headers and retries a 429 after the reset it names.

    One instance serves every thread of a session, because the quota is per user, not per thread.
    """

    def __init__(
        self,
        *,
        max_waits: int = 6,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._max_waits = max_waits
        self._max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._exhausted_until = 0.0
        self.waited = 0.0

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        """Send, waiting first if the quota is used up, and again after each 429 (up to ``max_waits``)."""
        for attempt in range(self._max_waits + 1):
            self._wait_for_quota()
            response = self.next.send(request)
            reset = self._note(response)
            if response.http_response.status_code != 429 or attempt == self._max_waits:
                return response
            if reset is None:
                # A 429 without a reset time: let the retry policy's backoff decide.
                return response
        return response

    def _wait_for_quota(self) -> None:
        with self._lock:
            delay = self._exhausted_until - self._clock()
        if delay > 0:
            self._sleep(delay)
            with self._lock:
                self.waited += delay

    def _note(self, response: PipelineResponse[Any, Any]) -> float | None:
        """Record what the answer says of the quota; the reset delay when none is left."""
        headers = response.http_response.headers
        remaining_text = headers.get(QUOTA_REMAINING)
        reset = resets_after(headers.get(QUOTA_RESETS_AFTER))
        try:
            remaining = int(remaining_text) if remaining_text is not None else None
        except ValueError:
            remaining = None
        exhausted = response.http_response.status_code == 429 or remaining == 0
        if not exhausted or reset is None:
            return None
        reset = min(reset, self._max_wait)
        with self._lock:
            self._exhausted_until = max(self._exhausted_until, self._clock() + reset)
        return reset


class _GraphClientFactory:
    """Builds the Resource Graph client with the quota policy just inside the retry policy."""

    def __init__(self) -> None:
        self.quota = QuotaPolicy()

    def __call__(self, credential: TokenCredential, *, policies: list[Any], **kwargs: Any) -> ResourceGraphClient:
        # Imported here: a scan through ARM alone never loads the Resource Graph SDK.
        from azure.mgmt.resourcegraph import ResourceGraphClient  # noqa: PLC0415

        position = next((i for i, p in enumerate(policies) if isinstance(p, CappedRetryPolicy)), len(policies) - 1)
        paced = [*policies[: position + 1], self.quota, *policies[position + 1 :]]
        return ResourceGraphClient(credential, policies=paced, **kwargs)


# One factory per session: the session caches clients by factory, and the quota is the user's, shared by
# every thread of the session.
_FACTORIES: weakref.WeakKeyDictionary[AzureSession, _GraphClientFactory] = weakref.WeakKeyDictionary()
_FACTORIES_LOCK = threading.Lock()


def graph_client(session: AzureSession) -> ResourceGraphClient:
    """The session's Resource Graph client."""
    with _FACTORIES_LOCK:
        factory = _FACTORIES.get(session)
        if factory is None:
            factory = _FACTORIES[session] = _GraphClientFactory()
    return session.client(factory)


def quota_of(session: AzureSession) -> QuotaPolicy | None:
    """The quota policy of the session's Resource Graph client, if it has one yet."""
    with _FACTORIES_LOCK:
        factory = _FACTORIES.get(session)
    return factory.quota if factory is not None else None


@dataclass(frozen=True)
class TableQuery:
    """One query: a table, the (lower-case) types wanted from it, and the subscriptions it spans."""

    table: str
    types: tuple[str, ...]
    subscriptions: tuple[str, ...]

    @property
    def kql(self) -> str:
        """The KQL text sent: rows of the wanted types in a stable order, so pages do not overlap."""
        wanted = ", ".join(f"'{name}'" for name in self.types)
        return f"{self.table} | where type in~ ({wanted}) | order by id asc"


def run_query(session: AzureSession, query: TableQuery) -> Iterator[dict[str, Any]]:
    """Every row a query returns, following ``$skipToken`` until it is absent."""
    client = graph_client(session)
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        options: dict[str, Any] = {"$top": PAGE_ROWS, "resultFormat": "objectArray"}
        if token is not None:
            options["$skipToken"] = token
        body = {"subscriptions": list(query.subscriptions), "query": query.kql, "options": options}
        page = _post(client, body, query.table)
        rows = page.get("data")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise MalformedResponseError(f"Resource Graph query of {query.table}: 'data' is not a list of objects")
        yield from rows
        next_token = page.get("$skipToken")
        if next_token is None or next_token == "":
            return
        if not isinstance(next_token, str) or next_token in seen:
            raise MalformedResponseError(
                f"Resource Graph query of {query.table}: the $skipToken repeats or is not text"
            )
        seen.add(next_token)
        token = next_token
    raise MalformedResponseError(f"Resource Graph query of {query.table}: more than {MAX_PAGES} pages")


def _post(client: ResourceGraphClient, body: dict[str, Any], table: str) -> dict[str, Any]:
    pipeline = client._client  # the client's ARM pipeline, as the other collectors reach it
    request = HttpRequest("POST", pipeline.format_url(QUERY_PATH), params={"api-version": API_VERSION}, json=body)
    # stream=True keeps the content decoder out of the way: the body is parsed once, here, with the bounds
    # every ARM body gets.
    response = pipeline.send_request(request, stream=True)
    content = response.read()
    if response.status_code != 200:
        raise _error_of(response.status_code, content, str(response.reason or ""))
    page = parse_json(content, f"POST {QUERY_PATH} ({table})")
    if not isinstance(page, dict):
        raise MalformedResponseError(f"Resource Graph query of {table}: the body is not an object")
    return page


def _error_of(status: int, content: bytes, reason: str) -> ArmResponseError:
    """The error of a failed query: Resource Graph's error code and message, or the status alone."""
    code, message = "", reason or f"HTTP {status}"
    try:
        parsed = parse_json(content, f"POST {QUERY_PATH}") if content.strip() else None
    except MalformedResponseError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or message)
        # The useful part of a bad query is in its details ("InvalidQuery", then what the parser met).
        details = error.get("details")
        if isinstance(details, list):
            message += "".join(f" {d.get('code')}: {d.get('message')}" for d in details if isinstance(d, dict))
    return ArmResponseError(status, code, message)


def chunks(subscriptions: Sequence[str], size: int = MAX_SUBSCRIPTIONS_PER_QUERY) -> list[tuple[str, ...]]:
    """Subscriptions in groups a single query may span."""
    return [tuple(subscriptions[i : i + size]) for i in range(0, len(subscriptions), size)]

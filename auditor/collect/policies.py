"""Pipeline policies that make every client read-only, host-bound, politely retrying and bounded in flight."""

from __future__ import annotations

import contextlib
import random
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy, RequestIdPolicy, RetryPolicy, SansIOHTTPPolicy

# The only POST an auditor may send: Azure Resource Graph's query, which reads, at exactly this path (no
# trailing slash, no other scope). Everything else that is not a GET is a write (or, like listKeys, a
# secret read) and is refused before it leaves the process.
READ_ONLY_POSTS = (re.compile(r"^/providers/Microsoft\.ResourceGraph/resources$", re.IGNORECASE),)
READ_METHODS = frozenset({"GET", "HEAD"})
# Statuses for which a server's Retry-After is a request to come back, not an error to give up on.
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class WriteRefusedError(AzureError):
    """Raised when any code path tries to send a request that could change Azure."""


class ForeignHostError(AzureError):
    """Raised when a request (typically a nextLink) points at a host other than the configured one."""


class ReadOnlyPolicy(SansIOHTTPPolicy[Any, Any]):
    """Refuses every method but GET and HEAD, and POST to anything but known read-only queries."""

    def __init__(self, read_only_posts: Iterable[re.Pattern[str]] = READ_ONLY_POSTS) -> None:
        self._posts = tuple(read_only_posts)

    def on_request(self, request: PipelineRequest[Any]) -> None:
        """Raise before sending when the request could write."""
        method = request.http_request.method.upper()
        if method in READ_METHODS:
            return
        path = urlsplit(request.http_request.url).path
        if method == "POST" and any(p.match(path) for p in self._posts):
            return
        raise WriteRefusedError(f"refused {method} {path}: the auditor is read-only")


class HostBoundPolicy(SansIOHTTPPolicy[Any, Any]):
    """Refuses requests to any host but the configured endpoint, so a bearer token never leaves it."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._scheme = parts.scheme.lower()
        self._netloc = parts.netloc.lower()

    def on_request(self, request: PipelineRequest[Any]) -> None:
        """Raise before sending when the URL's scheme or host differs from the endpoint's."""
        parts = urlsplit(request.http_request.url)
        if parts.scheme.lower() != self._scheme or parts.netloc.lower() != self._netloc:
            raise ForeignHostError(
                f"refused request to {parts.scheme}://{parts.netloc}: only {self._scheme}://{self._netloc} "
                "is trusted with the credential"
            )


class RandomRequestIdPolicy(RequestIdPolicy):
    """Tags each call with a random ``x-ms-client-request-id`` (a GUID, as Azure asks) for support cases.

    The SDK's default is a time-based UUID, which carries this machine's MAC address in every request
    and costs several times more CPU to make.
    """

    HEADER = "x-ms-client-request-id"

    def on_request(self, request: PipelineRequest[Any]) -> None:
        """Give the call a random id unless it, or its caller, already has one."""
        if "request_id" not in request.context.options and self.HEADER not in request.http_request.headers:
            request.context.options["request_id"] = str(uuid.uuid4())
        super().on_request(request)


class CappedRetryPolicy(RetryPolicy[Any, Any]):
    """Retries throttling and server errors with jittered backoff and a capped Retry-After."""

    def __init__(self, *, max_retry_after: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_retry_after = max_retry_after

    def get_retry_after(self, response: PipelineResponse[Any, Any]) -> float | None:
        """The server's Retry-After, honoured only on 429/503 and never longer than the cap."""
        if response.http_response.status_code not in RETRY_AFTER_STATUSES:
            return None
        try:
            value = super().get_retry_after(response)
        except (ValueError, TypeError, OverflowError):
            # Neither seconds nor an HTTP date: still a request to come back, so back off as usual.
            return None
        return None if value is None else min(max(value, 0.0), self._max_retry_after)

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        """Retry only the statuses that mean "try again": never a 401, 403 or 404."""
        if response.http_response.status_code not in RETRYABLE_STATUSES:
            return False
        return bool(super().is_retry(settings, response))

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        """Exponential backoff with full jitter, so parallel workers do not retry in lockstep."""
        ceiling = float(super().get_backoff_time(settings))
        return random.uniform(0, ceiling) if ceiling > 0 else 0.0  # noqa: S311 - jitter, not crypto


class InFlight:
    """How many requests a session may have out at once, over every client and thread (ARM, Resource
    Graph and Microsoft Graph alike)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def set_limit(self, limit: int) -> None:
        """A new bound for the requests sent from now on; those out now finish under the old one."""
        if limit != self.limit:
            self.limit = limit
            self._slots = threading.BoundedSemaphore(limit)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block, waiting for one to be free."""
        slots = self._slots
        with slots:
            yield


class InFlightPolicy(HTTPPolicy[Any, Any]):
    """Holds one of the session's slots from sending a request until its answer's headers are in.

    It sits last, inside the retry and quota policies, so a request waiting out a backoff or the
    Resource Graph quota holds no slot that another could use.
    """

    def __init__(self, in_flight: InFlight) -> None:
        super().__init__()
        self._in_flight = in_flight

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        """Send within a slot."""
        with self._in_flight.slot():
            return self.next.send(request)

"""The session: which endpoint, which credential, which CA, and how every client is built from them.

Clients are built with an explicit policy list, so the SDK's automatic resource-provider registration
(a POST) is never in the pipeline, and the read-only and host-bound policies come first.
"""

from __future__ import annotations

import http.cookiejar
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import requests
from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    ContentDecodePolicy,
    HeadersPolicy,
    HTTPPolicy,
    SansIOHTTPPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
from requests.sessions import merge_hooks
from requests.structures import CaseInsensitiveDict

from auditor import __version__
from auditor.collect.credentials import StaticTokenCredential
from auditor.collect.policies import (
    CappedRetryPolicy,
    HostBoundPolicy,
    InFlight,
    InFlightPolicy,
    RandomRequestIdPolicy,
    ReadOnlyPolicy,
)

AZURE_ARM_URL = "https://management.azure.com"
AZURE_GRAPH_URL = "https://graph.microsoft.com"

ClientT = TypeVar("ClientT")
ClientT_co = TypeVar("ClientT_co", covariant=True)

Policy = HTTPPolicy[Any, Any] | SansIOHTTPPolicy[Any, Any]


class _ClientFactory(Protocol[ClientT_co]):
    def __call__(self, credential: TokenCredential, *args: Any, **kwargs: Any) -> ClientT_co: ...


@dataclass(frozen=True)
class RetrySettings:
    """Retry behaviour shared by every client of a session."""

    total: int = 6
    backoff_factor: float = 0.8
    backoff_max: float = 30.0
    max_retry_after: float = 30.0
    read_timeout: float = 60.0
    connection_timeout: float = 10.0


@dataclass(frozen=True)
class SessionRecipe:
    """The arguments that rebuild a session in a worker process (credentials are not picklable)."""

    kind: str
    args: tuple[str, str, str] | None
    options: dict[str, Any]

    def build(self, **overrides: Any) -> AzureSession:
        """A new session made the same way, with some options replaced."""
        options = self.options | overrides
        if self.kind == "emulator" and self.args:
            return AzureSession.for_emulator(*self.args, **options)
        return AzureSession.for_azure(**options)


class _EnvironmentOnceSession(requests.Session):
    """A requests session that reads proxy and CA settings from the environment once per host, and keeps
    no cookies.

    ``requests`` scans every environment variable for proxies on each request (about a third of a
    millisecond of CPU per request); the answer depends only on the host and the call's own settings.
    """

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._settings_lock = threading.Lock()
        # ARM and Graph are stateless: every call carries its bearer token, so a cookie a response sets is
        # refused rather than sent back on later calls.
        self.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """The request with the session's headers and hooks, without the cookie and auth merging.

        The session holds no cookies and its auth changes nothing (see ``_NoNetrc``), so a request the
        Azure transport sends (method, URL with its query, headers, body) is prepared from its own parts,
        which saves about a tenth of a millisecond of CPU per call; anything else is prepared in full.
        """
        url = request.url
        if not url or request.params or request.auth or request.cookies or request.files or request.json is not None:
            return super().prepare_request(request)
        prepared = requests.PreparedRequest()
        prepared.prepare_method(request.method)
        prepared.prepare_url(url, None)
        headers: CaseInsensitiveDict[Any] = CaseInsensitiveDict(self.headers)
        given: Mapping[str, Any] = request.headers or {}
        for name, value in given.items():
            # As requests merges them: a header set to None removes the session's default.
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        prepared.prepare_headers(headers)
        prepared.prepare_body(request.data, None)
        prepared.prepare_hooks(merge_hooks(request.hooks, self.hooks))
        return prepared

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        """The environment's settings merged with the call's, cached per scheme, host and call settings."""
        split = urlsplit(url)
        key = (split.scheme, split.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
        with self._settings_lock:
            cached = self._settings.get(key)
        if cached is None:
            cached = super().merge_environment_settings(url, proxies, stream, verify, cert)
            with self._settings_lock:
                self._settings[key] = cached
        return {**cached, "proxies": dict(cached["proxies"])}


class _NoNetrc(requests.auth.AuthBase):
    """Leaves a request's headers alone: Azure calls carry their own bearer token.

    A session without auth makes ``requests`` look for a ``.netrc`` on disk on every request, and a netrc
    entry for an Azure host would replace the bearer token with Basic credentials.
    """

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class _CheckedOnceAdapter(requests.adapters.HTTPAdapter):
    """An adapter that checks the CA bundle and client certificate paths once, not on every request.

    ``requests`` stats the CA bundle (and builds the pool key from it) for each request it sends; the
    paths do not change during a scan, so the settings are worked out once per scheme, host and paths.
    """

    _CONNECTION_SETTINGS = ("cert_reqs", "ca_certs", "ca_cert_dir", "cert_file", "key_file")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._verified: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._pool_keys: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """The checked settings for these paths, applied to the connection."""
        key = (url.lower().startswith("https"), verify, cert)
        settings = self._verified.get(key)
        if settings is None:
            super().cert_verify(conn, url, verify, cert)
            self._verified[key] = {name: getattr(conn, name, None) for name in self._CONNECTION_SETTINGS}
            return
        for name, value in settings.items():
            setattr(conn, name, value)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The pool key of the request's scheme, host and port with these paths, worked out once."""
        split = urlsplit(request.url or "")
        key = (split.scheme, split.netloc, verify, cert)
        found = self._pool_keys.get(key)
        if found is None:
            found = super().build_connection_pool_key_attributes(request, verify, cert)
            self._pool_keys[key] = found
        return dict(found[0]), dict(found[1])


class AzureSession:
    """Builds read-only SDK clients for one endpoint, credential and CA bundle."""

    def __init__(
        self,
        credential: TokenCredential,
        *,
        arm_url: str = AZURE_ARM_URL,
        graph_url: str = AZURE_GRAPH_URL,
        ca_bundle: str | None = None,
        retry: RetrySettings | None = None,
        max_connections: int = 16,
    ) -> None:
        self.credential = credential
        self.arm_url = arm_url.rstrip("/")
        self.graph_url = graph_url.rstrip("/")
        self.ca_bundle = ca_bundle
        self.retry = retry or RetrySettings()
        # One HTTP session for every client: connections are reused across services and threads.
        self._http = _EnvironmentOnceSession()
        self._http.auth = _NoNetrc()
        adapter = _CheckedOnceAdapter(pool_connections=4, pool_maxsize=max_connections)
        self._http.mount("https://", adapter)
        self._clients: dict[tuple[object, tuple[Any, ...]], object] = {}
        # Every client's requests share one bound, so a scan's Resource Graph queries and its ARM calls
        # together never have more out than the scan allows (see collect_inventory's max_workers).
        self.in_flight = InFlight(max_connections)
        self._lock = threading.Lock()
        self._sent = 0
        self._http.hooks["response"].append(self._count)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self._sent += 1

    def add_requests(self, count: int) -> None:
        """Count requests that sessions in worker processes sent on this session's behalf."""
        with self._lock:
            self._sent += count

    @property
    def requests_sent(self) -> int:
        """HTTP requests answered so far through this session (retries included)."""
        with self._lock:
            return self._sent

    # How to build an equal session in another process; None when the credential cannot be rebuilt there.
    recipe: SessionRecipe | None = None

    @classmethod
    def for_azure(cls, **kwargs: Any) -> AzureSession:
        """A session against public Azure with DefaultAzureCredential (az login, env, managed identity)."""
        from azure.identity import DefaultAzureCredential  # noqa: PLC0415 - slow import, only for live scans

        session = cls(DefaultAzureCredential(), **kwargs)
        session.recipe = SessionRecipe("azure", None, kwargs)
        return session

    @classmethod
    def for_emulator(cls, url: str, ca_file: str, token: str, **kwargs: Any) -> AzureSession:
        """A session against the local endpoint, trusting only its throw-away CA."""
        session = cls(StaticTokenCredential(token), arm_url=url, graph_url=url, ca_bundle=ca_file, **kwargs)
        session.recipe = SessionRecipe("emulator", (url, ca_file, token), kwargs)
        return session

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()

    def __enter__(self) -> AzureSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def arm_policies(self) -> list[Policy]:
        """The pipeline of a management client: read-only and host-bound first, no auto-registration."""
        return [
            ReadOnlyPolicy(),
            HostBoundPolicy(self.arm_url),
            RandomRequestIdPolicy(),
            HeadersPolicy(),
            UserAgentPolicy(sdk_moniker=f"auditor/{__version__}"),
            ContentDecodePolicy(),
            self._retry_policy(),
            ARMChallengeAuthenticationPolicy(self.credential, f"{AZURE_ARM_URL}/.default"),
            InFlightPolicy(self.in_flight),
        ]

    def graph_policies(self) -> list[Policy]:
        """The pipeline of the Graph client: the same guards with a Graph-scoped bearer token."""
        return [
            ReadOnlyPolicy(read_only_posts=()),
            HostBoundPolicy(self.graph_url),
            RandomRequestIdPolicy(),
            HeadersPolicy(),
            UserAgentPolicy(sdk_moniker=f"auditor/{__version__}"),
            ContentDecodePolicy(),
            self._retry_policy(),
            BearerTokenCredentialPolicy(self.credential, f"{AZURE_GRAPH_URL}/.default"),
            InFlightPolicy(self.in_flight),
        ]

    def transport(self) -> RequestsTransport:
        """A transport over the shared HTTP session, verifying against the session's CA bundle."""
        return RequestsTransport(
            session=self._http,
            session_owner=False,
            connection_verify=self.ca_bundle if self.ca_bundle else True,
            connection_timeout=self.retry.connection_timeout,
            read_timeout=self.retry.read_timeout,
        )

    def client(self, factory: _ClientFactory[ClientT], *args: Any) -> ClientT:
        """A management client (e.g. ``NetworkManagementClient``) bound to this session's endpoint.

        Clients are cached per factory and arguments: building one is costly and they are safe to
        share between threads.
        """
        cache_key = (factory, args)
        with self._lock:
            cached = self._clients.get(cache_key)
            if cached is None:
                cached = factory(
                    self.credential,
                    *args,
                    base_url=self.arm_url,
                    policies=self.arm_policies(),
                    transport=self.transport(),
                )
                self._clients[cache_key] = cached
        return cast(ClientT, cached)

    def graph_client(self) -> PipelineClient[HttpRequest, HttpResponse]:
        """A client for Microsoft Graph at this session's Graph endpoint, with the Graph pipeline."""
        cache_key = (PipelineClient, ("graph",))
        with self._lock:
            cached = self._clients.get(cache_key)
            if cached is None:
                cached = PipelineClient[HttpRequest, HttpResponse](
                    self.graph_url, policies=self.graph_policies(), transport=self.transport()
                )
                self._clients[cache_key] = cached
        return cast(PipelineClient[HttpRequest, HttpResponse], cached)

    def _retry_policy(self) -> CappedRetryPolicy:
        return CappedRetryPolicy(
            retry_total=self.retry.total,
            retry_backoff_factor=self.retry.backoff_factor,
            retry_backoff_max=self.retry.backoff_max,
            max_retry_after=self.retry.max_retry_after,
        )

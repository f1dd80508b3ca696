"""TLS endpoint records: what a live handshake showed about a certificate and the protocol versions."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from auditor.records.web import WebApp

DEFAULT_TLS_PORT = 443
# Where an endpoint to probe came from: the --tls-endpoint option, or an App Service custom host name.
SOURCE_OPTION = "tls-endpoint"
SOURCE_APP_SERVICE = "app-service"
# The collection the probe records in the inventory, and the type of its records.
TLS_PROBE_API = "tls:probe"
ENDPOINT_TYPE = "tls:endpoint"


@dataclass(frozen=True)
class TlsEndpoint:
    """One host and port as a TLS client saw it; ``None`` means the probe could not establish the fact."""

    id: str
    name: str
    host: str
    port: int
    # True when the inspection handshake completed. It runs without verification, so the certificate
    # of an untrusted or misnamed endpoint is still read; chain_valid and hostname_matches come from a
    # separate verifying handshake.
    reachable: bool
    subscription_id: str = ""
    error: str | None = None
    chain_valid: bool | None = None
    chain_error: str | None = None
    hostname_matches: bool | None = None
    not_before: str | None = None
    not_after: str | None = None
    issuer_organization: str | None = None
    issuer: str | None = None
    subject: str | None = None
    serial: str | None = None
    negotiated_version: str | None = None
    accepts_tls10: bool | None = None
    accepts_tls11: bool | None = None
    source: str = SOURCE_OPTION
    # Why a fact is unknown (e.g. this OpenSSL cannot offer TLS 1.0), or how the verifying handshake ended.
    notes: tuple[str, ...] = ()
    type: str = ENDPOINT_TYPE


class TlsTarget(NamedTuple):
    """An endpoint to probe and where it came from."""

    host: str
    port: int
    subscription_id: str = ""
    source: str = SOURCE_OPTION

    @property
    def id(self) -> str:
        """The id its TlsEndpoint record carries."""
        return endpoint_id(self.host, self.port)


# A DNS host name: labels of letters, digits and inner hyphens, at most 253 characters in all.
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


class EndpointSyntaxError(ValueError):
    """A TLS endpoint (--tls-endpoint) is not ``host:port``."""


def endpoint_name(host: str, port: int) -> str:
    """``host:port``, with IPv6 addresses in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def endpoint_id(host: str, port: int) -> str:
    """The record id of an endpoint; host names compare case-insensitively."""
    return f"tls://{endpoint_name(host.lower().rstrip('.'), port)}"


def parse_endpoint(text: str) -> tuple[str, int]:
    """Host and port from ``host:port``, ``[v6]:port`` or a bare host (port 443)."""
    entry = text.strip()
    if not entry:
        raise EndpointSyntaxError("empty endpoint")
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise EndpointSyntaxError(f"{text!r}: expected [IPv6 address]:port")
        port_text = rest[1:] if rest else str(DEFAULT_TLS_PORT)
    elif entry.count(":") > 1:
        # A bare IPv6 address: its colons cannot also carry a port.
        host, port_text = entry, str(DEFAULT_TLS_PORT)
    else:
        host, _, port_text = entry.partition(":")
        port_text = port_text or str(DEFAULT_TLS_PORT)
    if not host or "/" in host or any(c.isspace() for c in host):
        raise EndpointSyntaxError(f"{text!r}: no valid host name")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise EndpointSyntaxError(f"{text!r}: {host!r} is not an IPv6 address") from None
    elif not _HOST_NAME.match(host.rstrip(".")) and not _is_ipv4(host):
        raise EndpointSyntaxError(f"{text!r}: {host!r} is not a host name or IP address")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise EndpointSyntaxError(f"{text!r}: port must be a number from 1 to 65535")
    return host, int(port_text)


@dataclass(frozen=True)
class UnprobeableEndpoint:
    """An endpoint the scan was given or the inventory names but no handshake can reach as written."""

    text: str
    reason: str
    subscription_id: str = ""
    source: str = SOURCE_OPTION


@dataclass(frozen=True)
class EndpointPlan:
    """The endpoints a scan was given and an inventory calls for, and those that cannot be probed."""

    targets: tuple[TlsTarget, ...]
    unprobeable: tuple[UnprobeableEndpoint, ...]


def plan_endpoints(configured: Iterable[str], web_apps: Sequence[WebApp]) -> EndpointPlan:
    """Requested endpoints (--tls-endpoint) first, then every App Service custom host name on port 443, each once."""
    targets: dict[str, TlsTarget] = {}
    unprobeable: list[UnprobeableEndpoint] = []
    for entry in configured:
        try:
            host, port = parse_endpoint(entry)
        except EndpointSyntaxError as exc:
            unprobeable.append(UnprobeableEndpoint(entry, str(exc)))
            continue
        target = TlsTarget(host.rstrip("."), port)
        targets.setdefault(target.id, target)
    for app in web_apps:
        for name in app.custom_host_names:
            if name.startswith("*."):
                if _covered(name, targets.values()):
                    continue
                # A wildcard binding names no host a client can connect to.
                reason = (
                    f"wildcard custom host name of App Service {app.name}: add a concrete host name under "
                    "it with --tls-endpoint"
                )
                unprobeable.append(UnprobeableEndpoint(name, reason, app.subscription_id, SOURCE_APP_SERVICE))
                continue
            target = TlsTarget(name.rstrip("."), DEFAULT_TLS_PORT, app.subscription_id, SOURCE_APP_SERVICE)
            targets.setdefault(target.id, target)
    return EndpointPlan(tuple(targets.values()), tuple(unprobeable))


def _covered(wildcard: str, targets: Iterable[TlsTarget]) -> bool:
    """True when a target on port 443 is a host one label under the wildcard's domain."""
    domain = wildcard[2:].lower().rstrip(".")
    for target in targets:
        label, _, rest = target.host.lower().partition(".")
        if target.port == DEFAULT_TLS_PORT and label and rest == domain:
            return True
    return False

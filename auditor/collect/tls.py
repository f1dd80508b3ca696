"""TLS probe: live handshakes that read an endpoint's certificate and the protocol versions it accepts.

Each endpoint gets up to four connections, each bounded by the timeout:

1. an inspection handshake without verification, so the certificate of an untrusted or misnamed
   endpoint can still be read, offering every version this OpenSSL can, so the negotiated version is
   the highest the server supports;
2. a verifying handshake as a modern client makes it (system trust store, or the CA bundle given),
   which decides whether the chain is trusted and the certificate names the host;
3. and 4. handshakes pinned to TLS 1.0 and to TLS 1.1, which show whether the server still accepts them.

The probe makes no judgement; ``auditor.checks.tls`` does.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from auditor.inventory import Collection, Inventory
from auditor.records.tls import (
    SOURCE_OPTION,
    TLS_PROBE_API,
    TlsEndpoint,
    TlsTarget,
    endpoint_id,
    endpoint_name,
    plan_endpoints,
)

DEFAULT_TIMEOUT = 5.0
DEFAULT_WORKERS = 8

# OpenSSL verification codes (x509_vfy.h) that the verifying handshake is read by.
X509_V_ERR_CERT_NOT_YET_VALID = 9
X509_V_ERR_CERT_HAS_EXPIRED = 10
X509_V_ERR_HOSTNAME_MISMATCH = 62
X509_V_ERR_IP_ADDRESS_MISMATCH = 64
NAME_MISMATCH_CODES = frozenset({X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH})
DATE_CODES = frozenset({X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CERT_HAS_EXPIRED})

# Python marks these versions deprecated; offering them is the whole point of the refusal probes.
LEGACY_VERSIONS = {"TLS 1.0": ssl.TLSVersion.TLSv1, "TLS 1.1": ssl.TLSVersion.TLSv1_1}
# TLS 1.0/1.1 need SHA-1 and ciphers that OpenSSL 3 only offers at security level 0.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


def can_offer(version: ssl.TLSVersion) -> bool:
    """True when this OpenSSL can send a ClientHello pinned to the version (tested in memory)."""
    try:
        context = _pinned_context(version)
    except (ssl.SSLError, ValueError):
        return False
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    connection = context.wrap_bio(incoming, outgoing, server_hostname="probe.invalid")
    try:
        connection.do_handshake()
    except ssl.SSLWantReadError:
        return outgoing.pending > 0
    except ssl.SSLError:
        return False
    return False


def _pinned_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = _unverified_context()
    # Offering TLS 1.0/1.1 on purpose is the point of the probe: the deprecation warning is not for us.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version
    context.set_ciphers(LEGACY_CIPHERS)
    return context


def _unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _inspection_context(legacy_offered: bool) -> ssl.SSLContext:
    context = _unverified_context()
    if legacy_offered:
        # Offer TLS 1.0 up to 1.3, so a legacy-only server still shows its certificate and version.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers(LEGACY_CIPHERS)
    return context


def _connect(host: str, port: int, context: ssl.SSLContext, timeout: float) -> ssl.SSLSocket:
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclasses.dataclass(frozen=True)
class _Certificate:
    not_before: datetime
    not_after: datetime
    issuer_organization: str | None
    issuer: str
    subject: str
    serial: str


def _parse(der: bytes) -> _Certificate:
    certificate = x509.load_der_x509_certificate(der)
    organisations = certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    organisation = organisations[0].value if organisations else None
    return _Certificate(
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        issuer_organization=organisation if isinstance(organisation, str) else None,
        issuer=certificate.issuer.rfc4514_string(),
        subject=certificate.subject.rfc4514_string(),
        serial=format(certificate.serial_number, "X"),
    )


@dataclasses.dataclass(frozen=True)
class _Verification:
    chain_valid: bool | None
    hostname_matches: bool | None
    chain_error: str | None
    note: str | None = None


def _verify(
    host: str, port: int, certificate: _Certificate | None, timeout: float, ca_file: str | None
) -> _Verification:
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with _connect(host, port, context, timeout):
            return _Verification(chain_valid=True, hostname_matches=True, chain_error=None)
    except ssl.SSLCertVerificationError as exc:
        message = exc.verify_message or str(exc)
        code = exc.verify_code
        if code in NAME_MISMATCH_CODES:
            # OpenSSL checks the host name only after it has built a trusted chain.
            return _Verification(chain_valid=True, hostname_matches=False, chain_error=message)
        if code in DATE_CODES:
            # Validity dates are checked last, after trust and host name; the certificate's own dates are
            # judged separately, so only an out-of-date issuer makes the chain itself invalid.
            now = datetime.now(UTC)
            own = certificate is not None and not certificate.not_before <= now <= certificate.not_after
            note = f"verifying handshake stopped at the validity dates: {message}"
            if own:
                return _Verification(chain_valid=True, hostname_matches=True, chain_error=None, note=note)
            return _Verification(chain_valid=False, hostname_matches=True, chain_error=f"an issuer: {message}")
        # Verification stopped before the host name was compared.
        return _Verification(chain_valid=False, hostname_matches=None, chain_error=message)
    except (OSError, ValueError) as exc:
        return _Verification(
            chain_valid=None,
            hostname_matches=None,
            chain_error=f"verifying handshake failed: {_describe(exc)}",
        )


def _accepts(host: str, port: int, label: str, version: ssl.TLSVersion, timeout: float) -> tuple[bool | None, str]:
    """Whether the server completes a handshake pinned to the version, or why that is unknown."""
    if not can_offer(version):
        return None, f"{label} refusal not verifiable: this OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer {label}"
    try:
        with _connect(host, port, _pinned_context(version), timeout):
            return True, ""
    except (ssl.SSLError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        # An alert, or a connection closed in answer to the ClientHello: the server refuses the version.
        return False, ""
    except (OSError, ValueError) as exc:
        return None, f"{label} probe inconclusive: {_describe(exc)}"


def probe_endpoint(
    host: str,
    port: int,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
    subscription_id: str = "",
    source: str = SOURCE_OPTION,
) -> TlsEndpoint:
    """Handshake with one endpoint and record its certificate, trust, version and legacy versions."""
    base = TlsEndpoint(
        id=endpoint_id(host, port),
        name=endpoint_name(host, port),
        host=host,
        port=port,
        reachable=False,
        subscription_id=subscription_id,
        source=source,
    )
    legacy_offered = can_offer(ssl.TLSVersion.TLSv1)
    try:
        with _connect(host, port, _inspection_context(legacy_offered), timeout) as connection:
            der = connection.getpeercert(binary_form=True)
            negotiated = connection.version()
    except (OSError, ValueError) as exc:
        return dataclasses.replace(base, error=f"TLS handshake with {base.name} failed: {_describe(exc)}")
    notes: list[str] = []
    certificate: _Certificate | None = None
    if der is None:
        notes.append("the server sent no certificate")
    else:
        try:
            certificate = _parse(der)
        except ValueError as exc:
            notes.append(f"certificate could not be parsed: {exc}")
    verification = _verify(host, port, certificate, timeout, ca_file)
    notes += [verification.note] if verification.note else []
    accepted: dict[str, bool | None] = {}
    for label, version in LEGACY_VERSIONS.items():
        accepted[label], note = _accepts(host, port, label, version, timeout)
        notes += [note] if note else []
    return dataclasses.replace(
        base,
        reachable=True,
        chain_valid=verification.chain_valid,
        chain_error=verification.chain_error,
        hostname_matches=verification.hostname_matches,
        not_before=certificate.not_before.isoformat() if certificate else None,
        not_after=certificate.not_after.isoformat() if certificate else None,
        issuer_organization=certificate.issuer_organization if certificate else None,
        issuer=certificate.issuer if certificate else None,
        subject=certificate.subject if certificate else None,
        serial=certificate.serial if certificate else None,
        negotiated_version=negotiated,
        accepts_tls10=accepted["TLS 1.0"],
        accepts_tls11=accepted["TLS 1.1"],
        notes=tuple(notes),
    )


def endpoints_to_probe(inventory: Inventory, tls_endpoints: Iterable[str]) -> list[TlsTarget]:
    """The requested endpoints (--tls-endpoint) and the App Service custom host names, each once."""
    return list(plan_endpoints(tls_endpoints, inventory.web_apps).targets)


def _probe_safely(target: TlsTarget, timeout: float, ca_file: str | None) -> TlsEndpoint:
    try:
        return probe_endpoint(
            target.host,
            target.port,
            timeout=timeout,
            ca_file=ca_file,
            subscription_id=target.subscription_id,
            source=target.source,
        )
    except Exception as exc:  # noqa: BLE001 - one endpoint's failure must become its error, not lose the rest
        return TlsEndpoint(
            id=target.id,
            name=endpoint_name(target.host, target.port),
            host=target.host,
            port=target.port,
            reachable=False,
            subscription_id=target.subscription_id,
            error=f"probe failed: {type(exc).__name__}: {exc}",
            source=target.source,
        )


def probe_all(
    targets: Sequence[TlsTarget],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
    max_workers: int = DEFAULT_WORKERS,
) -> tuple[TlsEndpoint, ...]:
    """Probe every target concurrently; results keep the targets' order."""
    if not targets:
        return ()
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(targets)))) as pool:
        return tuple(pool.map(lambda target: _probe_safely(target, timeout, ca_file), targets))


def with_tls_probe(
    inventory: Inventory,
    tls_endpoints: Iterable[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: str | None = None,
    max_workers: int = DEFAULT_WORKERS,
) -> Inventory:
    """The inventory with its TLS endpoints probed, the probe recorded as a collection and the endpoints asked
    for recorded as its scope, so an evaluation of the inventory knows what should have been probed."""
    requested = tuple(tls_endpoints)
    targets = endpoints_to_probe(inventory, requested)
    probed = probe_all(targets, timeout=timeout, ca_file=ca_file, max_workers=max_workers)
    collection = Collection(TLS_PROBE_API, "", "tls:", ok=True, items=len(probed))
    return dataclasses.replace(
        inventory,
        tls_scope=requested,
        tls_endpoints=probed,
        collections=(*(c for c in inventory.collections if c.api != TLS_PROBE_API), collection),
    )

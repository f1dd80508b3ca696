"""TLS checks (ENC-04): the certificates and protocol versions of the endpoints a scan probes, and App Service
sites' HTTPS-only and minimum TLS version settings."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.inventory import Inventory
from auditor.model import Severity, Verdict, erroring, failing, passing
from auditor.parameters import Params
from auditor.records.tls import (
    ENDPOINT_TYPE,
    TLS_PROBE_API,
    TlsEndpoint,
    TlsTarget,
    UnprobeableEndpoint,
    plan_endpoints,
)
from auditor.records.web import WebApp
from auditor.registry import Remediation, check

MIN_TLS_VERSION = (1, 2)
# An expiring certificate still protects traffic today: it is a finding, but below the control's severity.
EXPIRING_SEVERITY = Severity.MEDIUM

_VERSION_PATTERN = re.compile(r"^(?:tls)?\s*v?\s*(\d)[._](\d)$")


def tls_version(text: str | None) -> tuple[int, int] | None:
    """(major, minor) of a TLS version as ARM or OpenSSL writes it ("1.2", "TLS1_2", "TLSv1.3", "TLSv1")."""
    if text is None:
        return None
    cleaned = text.strip().lower()
    if cleaned in {"tlsv1", "tls1", "tls 1"}:
        return (1, 0)
    match = _VERSION_PATTERN.match(cleaned)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CertificateLimits:
    """What the policy asks of a certificate, from the baseline parameters."""

    expiry_warning_days: int
    max_validity_days: int
    allowed_issuers: tuple[str, ...]

    @classmethod
    def from_params(cls, params: Params) -> CertificateLimits:
        """The limits the baseline sets."""
        return cls(
            expiry_warning_days=params.get_int("expiry_warning_days"),
            max_validity_days=params.get_int("max_validity_days"),
            allowed_issuers=params.get_list("allowed_issuers"),
        )


@dataclass(frozen=True)
class EndpointAssessment:
    """How one probed endpoint measures against the limits."""

    # Shortfalls that break the promise now (control severity).
    violations: tuple[str, ...]
    # The certificate is valid but due for renewal within the warning window.
    expiring: str | None
    # Facts the probe could not establish: never read as compliant.
    unverified: tuple[str, ...]
    evidence: dict[str, Any] = field(default_factory=dict)


def _dates(endpoint: TlsEndpoint, at: datetime, limits: CertificateLimits) -> tuple[list[str], str | None, list[str]]:
    violations: list[str] = []
    unverified: list[str] = []
    expiring: str | None = None
    not_before, not_after = _instant(endpoint.not_before), _instant(endpoint.not_after)
    if not_after is None:
        unverified.append(f"certificate notAfter not read ({endpoint.not_after!r})")
    else:
        remaining = not_after - at
        if remaining <= timedelta(0):
            violations.append(f"certificate expired on {not_after.date()} ({-remaining.days} days ago)")
        elif remaining <= timedelta(days=limits.expiry_warning_days):
            expiring = (
                f"certificate expires on {not_after.date()}: {_days(remaining)} days left, not more than "
                f"{limits.expiry_warning_days}"
            )
    if not_before is None:
        unverified.append(f"certificate notBefore not read ({endpoint.not_before!r})")
    elif not_before > at:
        violations.append(f"certificate not valid before {not_before.date()}")
    if not_before is not None and not_after is not None:
        # notAfter is inclusive to the second, so a two-year certificate spans 730 days and some hours:
        # the period is counted in whole days.
        validity = (not_after - not_before).days
        if validity > limits.max_validity_days:
            violations.append(f"validity period {validity} days > {limits.max_validity_days}")
    return violations, expiring, unverified


def _days(span: timedelta) -> int:
    return math.floor(span.total_seconds() / 86400)


def _trust(endpoint: TlsEndpoint) -> tuple[list[str], list[str]]:
    violations: list[str] = []
    unverified: list[str] = []
    if endpoint.chain_valid is False:
        violations.append(f"certificate chain not trusted ({endpoint.chain_error or 'no reason given'})")
    elif endpoint.chain_valid is None:
        unverified.append(f"certificate chain not verified ({endpoint.chain_error or 'no reason given'})")
    if endpoint.hostname_matches is False:
        violations.append(f"certificate not valid for host {endpoint.host} ({endpoint.chain_error or 'mismatch'})")
    elif endpoint.hostname_matches is None:
        unverified.append(f"host name {endpoint.host} not compared with the certificate")
    return violations, unverified


def _issuer(endpoint: TlsEndpoint, limits: CertificateLimits) -> tuple[list[str], list[str]]:
    if endpoint.issuer is None:
        return [], ["certificate issuer not read"]
    if endpoint.issuer_organization is None:
        return [f"issuer {endpoint.issuer} has no organisation (O) name"], []
    # Case-insensitive: the same CA has written its name as both "COMODO CA Limited" and "Comodo CA Limited".
    if endpoint.issuer_organization.casefold() not in {name.casefold() for name in limits.allowed_issuers}:
        names = ", ".join(limits.allowed_issuers)
        return [f"issuer organisation {endpoint.issuer_organization!r} is not one of {names}"], []
    return [], []


def _protocols(endpoint: TlsEndpoint) -> tuple[list[str], list[str]]:
    violations: list[str] = []
    unverified: list[str] = []
    negotiated = tls_version(endpoint.negotiated_version)
    if negotiated is None:
        unverified.append(f"negotiated protocol version not recognised ({endpoint.negotiated_version!r})")
    elif negotiated < MIN_TLS_VERSION:
        violations.append(f"negotiated {endpoint.negotiated_version}, older than TLS 1.2")
    for label, accepted in (("TLS 1.0", endpoint.accepts_tls10), ("TLS 1.1", endpoint.accepts_tls11)):
        if accepted is True:
            violations.append(f"{label} accepted")
        elif accepted is None:
            unverified.append(next((n for n in endpoint.notes if n.startswith(label)), f"{label} refusal not tested"))
    return violations, unverified


def assess_endpoint(endpoint: TlsEndpoint, at: datetime, limits: CertificateLimits) -> EndpointAssessment:
    """Every way a probed endpoint falls short of the certificate and protocol promise."""
    dated, expiring, undated = _dates(endpoint, at, limits)
    untrusted, unchecked = _trust(endpoint)
    versions, untested = _protocols(endpoint)
    foreign, unnamed = _issuer(endpoint, limits)
    not_before, not_after = _instant(endpoint.not_before), _instant(endpoint.not_after)
    evidence: dict[str, Any] = {
        "host": endpoint.host,
        "port": endpoint.port,
        "source": endpoint.source,
        "issuer_organization": endpoint.issuer_organization,
        "issuer": endpoint.issuer,
        "subject": endpoint.subject,
        "serial": endpoint.serial,
        "not_before": endpoint.not_before,
        "not_after": endpoint.not_after,
        "days_left": _days(not_after - at) if not_after else None,
        "validity_days": (not_after - not_before).days if not_after and not_before else None,
        "chain_valid": endpoint.chain_valid,
        "hostname_matches": endpoint.hostname_matches,
        "chain_error": endpoint.chain_error,
        "negotiated_version": endpoint.negotiated_version,
        "accepts_tls10": endpoint.accepts_tls10,
        "accepts_tls11": endpoint.accepts_tls11,
        "allowed_issuers": list(limits.allowed_issuers),
        "expiry_warning_days": limits.expiry_warning_days,
        "max_validity_days": limits.max_validity_days,
        "judged_at": at.isoformat(),
        "probe_notes": list(endpoint.notes),
    }
    return EndpointAssessment(
        violations=(*untrusted, *dated, *foreign, *versions),
        expiring=expiring,
        unverified=(*unchecked, *undated, *unnamed, *untested),
        evidence=evidence,
    )


def endpoint_verdict(endpoint: TlsEndpoint, at: datetime, limits: CertificateLimits) -> Verdict:
    """The verdict on one probed endpoint: violations fail, an expiring certificate fails at medium."""
    if not endpoint.reachable:
        return erroring(
            f"{endpoint.name}: {endpoint.error or 'not reachable'}",
            host=endpoint.host,
            port=endpoint.port,
            source=endpoint.source,
            error=endpoint.error,
        )
    assessment = assess_endpoint(endpoint, at, limits)
    expiring = [assessment.expiring] if assessment.expiring else []
    unverified = [f"not verified: {item}" for item in assessment.unverified]
    if assessment.violations:
        message = "; ".join([*assessment.violations, *expiring, *unverified])
        return failing(f"{endpoint.name}: {message}", **assessment.evidence)
    if assessment.expiring:
        message = "; ".join([*expiring, *unverified])
        verdict = failing(f"{endpoint.name}: {message}", **assessment.evidence)
        return dataclasses.replace(verdict, severity=EXPIRING_SEVERITY)
    if assessment.unverified:
        # Everything that was tested passed, but a pass must not rest on a fact nobody established.
        message = "; ".join(assessment.unverified)
        return erroring(
            f"{endpoint.name}: checks passed except what could not be verified: {message}", **assessment.evidence
        )
    evidence = assessment.evidence
    return passing(
        f"{endpoint.name}: certificate from {endpoint.issuer_organization}, trusted for {endpoint.host}, "
        f"valid until {endpoint.not_after} ({evidence['days_left']} days left, {evidence['validity_days']}-day "
        f"validity); {endpoint.negotiated_version} negotiated, TLS 1.0 and 1.1 refused",
        **evidence,
    )


# --- what tls_certificate judges: the endpoints in the probe's scope -----------------------------


@dataclass(frozen=True)
class UnprobedEndpoint:
    """An endpoint in the scope (requested, or an App Service host name) that this scan did not probe."""

    target: TlsTarget
    type: str = ENDPOINT_TYPE

    @property
    def id(self) -> str:
        """The id its probe record would carry."""
        return self.target.id

    @property
    def subscription_id(self) -> str:
        """The subscription of the App Service that names it, or empty for a requested endpoint."""
        return self.target.subscription_id


@dataclass(frozen=True)
class UnprobeableEntry:
    """An endpoint in the scope that no handshake can reach as written (a wildcard host, a bad entry)."""

    entry: UnprobeableEndpoint
    type: str = ENDPOINT_TYPE

    @property
    def id(self) -> str:
        """``tls://`` and the entry as written."""
        return f"tls://{self.entry.text}"

    @property
    def subscription_id(self) -> str:
        """The subscription of the App Service that names it, or empty for a requested endpoint."""
        return self.entry.subscription_id


@dataclass(frozen=True)
class EmptyScope:
    """No endpoint requested and no App Service host name found: the promised certificate is unverified."""

    requested: tuple[str, ...]
    web_apps: int
    id: str = ""
    type: str = ENDPOINT_TYPE
    subscription_id: str = ""


TlsSubject = TlsEndpoint | UnprobedEndpoint | UnprobeableEntry | EmptyScope


def endpoints_in_scope(inventory: Inventory) -> Iterator[TlsSubject]:
    """Unprobeable entries, endpoints in scope without a probe, then every probed endpoint; or the empty scope."""
    plan = plan_endpoints(inventory.tls_scope, inventory.web_apps)
    probed = {endpoint.id for endpoint in inventory.tls_endpoints}
    if not plan.targets and not plan.unprobeable and not inventory.tls_endpoints:
        # The policy promises a certificate: with nothing to probe the promise is unverified, not absent.
        yield EmptyScope(inventory.tls_scope, len(inventory.web_apps))
        return
    yield from (UnprobeableEntry(entry) for entry in plan.unprobeable)
    yield from (UnprobedEndpoint(target) for target in plan.targets if target.id not in probed)
    yield from inventory.tls_endpoints


@check(
    id="tls_certificate",
    title="Public endpoints present a trusted Comodo/Sectigo certificate of at most two years, not near expiry, "
    "over TLS 1.2+ only",
    severity=Severity.HIGH,
    resource_types=(ENDPOINT_TYPE,),
    requires=(TLS_PROBE_API, "Microsoft.Web/sites"),
    over=endpoints_in_scope,
    subject="TLS endpoints (--tls-endpoint) or App Service custom host names",
    parameters=("expiry_warning_days", "max_validity_days", "allowed_issuers"),
    rationale="The policy promises data in transit encrypted under a ComodoCA (now Sectigo) certificate renewed "
    "every two years; an expired, untrusted, misnamed or long-lived certificate, or a server that still "
    "accepts TLS 1.0/1.1, breaks that promise for every client that connects.",
    remediation=Remediation(
        summary="Install a certificate issued by Sectigo (formerly Comodo CA) for the host name, valid for at "
        "most two years, renew it before the warning window, serve the full chain, and disable TLS 1.0 and "
        "TLS 1.1 on the endpoint.",
        portal="App Services > (app) > Certificates > Bring your own certificates (.pfx) > Add; Custom domains > "
        "Add binding (SNI SSL); Configuration > General settings > Minimum inbound TLS version: 1.2",
        cli="az webapp config ssl upload -g RG -n APP --certificate-file cert.pfx --certificate-password PASS && "
        "az webapp config ssl bind -g RG -n APP --certificate-thumbprint THUMBPRINT --ssl-type SNI && "
        "az webapp config set -g RG -n APP --min-tls-version 1.2",
        terraform='resource "azurerm_app_service_certificate" "site" {\n  pfx_blob = filebase64("cert.pfx")\n'
        '  password = var.pfx_password\n}\nresource "azurerm_app_service_certificate_binding" "site" {\n'
        "  hostname_binding_id = azurerm_app_service_custom_hostname_binding.site.id\n"
        '  certificate_id      = azurerm_app_service_certificate.site.id\n  ssl_state = "SniEnabled"\n}',
        bicep="resource binding 'Microsoft.Web/sites/hostNameBindings@2023-01-01' = {\n"
        "  name: '${site.name}/${hostName}'\n"
        "  properties: { sslState: 'SniEnabled', thumbprint: cert.properties.thumbprint }\n}",
    ),
)
def tls_certificate(subject: TlsSubject, params: Params) -> Verdict:
    """Judge a probed endpoint; an endpoint in scope without a probe, or no scope at all, is an error."""
    if isinstance(subject, EmptyScope):
        return erroring(
            "No TLS endpoint requested and no App Service custom host name found: pass --tls-endpoint HOST:PORT "
            "(repeatable) for the public endpoints the policy's certificate protects",
            tls_endpoints=list(subject.requested),
            web_apps=subject.web_apps,
        )
    if isinstance(subject, UnprobeableEntry):
        entry = subject.entry
        return erroring(
            f"{entry.text}: cannot be probed: {entry.reason}",
            entry=entry.text,
            source=entry.source,
            reason=entry.reason,
        )
    if isinstance(subject, UnprobedEndpoint):
        target = subject.target
        return erroring(
            f"{target.host}:{target.port} was not probed by this scan, so its certificate is unknown",
            host=target.host,
            port=target.port,
            source=target.source,
        )
    return endpoint_verdict(subject, params.moment, CertificateLimits.from_params(params))


def app_service_shortfalls(app: WebApp) -> tuple[list[str], list[str]]:
    """(violations, unreported settings) of a site's HTTPS-only and minimum TLS version settings."""
    violations: list[str] = []
    unreported: list[str] = []
    if app.https_only is None:
        unreported.append("httpsOnly not reported")
    elif not app.https_only:
        violations.append("HTTPS only is off, so the site also answers over plain HTTP")
    version = tls_version(app.min_tls_version)
    if app.min_tls_version is None:
        unreported.append("siteConfig.minTlsVersion not reported")
    elif version is None:
        unreported.append(f"siteConfig.minTlsVersion {app.min_tls_version!r} not recognised")
    elif version < MIN_TLS_VERSION:
        violations.append(f"minimum TLS version {app.min_tls_version} < 1.2")
    return violations, unreported


@check(
    id="app_service_https_tls",
    title="App Service sites accept HTTPS only with a minimum TLS version of 1.2",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Web/sites",),
    requires=("Microsoft.Web/sites", "Microsoft.Web/sites/config"),
    over="web_apps",
    subject="App Service sites",
    rationale="A site that still answers over HTTP or negotiates TLS 1.0/1.1 sends data outside the encrypted "
    "transport the policy promises.",
    remediation=Remediation(
        summary="Turn on HTTPS Only and set the minimum inbound TLS version to 1.2 (or 1.3).",
        portal="App Services > (app) > Configuration > General settings: HTTPS Only On, Minimum inbound TLS "
        "Version 1.2",
        cli="az webapp update -g RG -n APP --https-only true && az webapp config set -g RG -n APP "
        "--min-tls-version 1.2",
        terraform='https_only = true\nsite_config {\n  minimum_tls_version = "1.2"\n}',
        bicep="properties: { httpsOnly: true, siteConfig: { minTlsVersion: '1.2' } }",
    ),
)
def app_service_https_tls(app: WebApp, params: Params) -> Verdict:
    """Pass a site that is HTTPS-only with TLS 1.2+; fail the rest; error where Azure did not say."""
    violations, unreported = app_service_shortfalls(app)
    evidence = {
        "https_only": app.https_only,
        "min_tls_version": app.min_tls_version,
        "kind": app.kind,
        "custom_host_names": list(app.custom_host_names),
    }
    if violations:
        return failing("; ".join([*violations, *unreported]), **evidence)
    if unreported:
        return erroring("Cannot judge transport settings: " + "; ".join(unreported), **evidence)
    return passing(f"HTTPS only, minimum TLS version {app.min_tls_version}", **evidence)

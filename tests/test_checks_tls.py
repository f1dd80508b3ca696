"""ENC-04: live TLS probes of certificates and protocol versions, and App Service transport settings."""

from __future__ import annotations

import dataclasses
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme

from auditor.checks.tls import app_service_https_tls, tls_certificate, tls_version
from auditor.collect.tls import can_offer, endpoints_to_probe, probe_all, probe_endpoint, with_tls_probe
from auditor.emulator.tls_sites import TlsServer, server_context
from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, Status, Verdict
from auditor.parameters import Params
from auditor.records.tls import (
    SOURCE_APP_SERVICE,
    SOURCE_OPTION,
    TLS_PROBE_API,
    EndpointSyntaxError,
    TlsEndpoint,
    TlsTarget,
    parse_endpoint,
    plan_endpoints,
)
from auditor.records.web import WebApp
from auditor.snapshot import decode, encode
from tests.builders import SUB, make_inventory, results, rid

# Pinning TLS 1.0/1.1 is the point of the legacy probes; Python flags those versions as deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")

AS_OF = "2026-11-28T12:00:00+00:00"
MOMENT = datetime.fromisoformat(AS_OF)
ALLOWED = ("Sectigo Limited", "COMODO CA Limited", "Comodo CA Limited")


def params() -> Params:
    """The ENC-04 parameters with the baseline defaults."""
    return Params({"expiry_warning_days": 30, "max_validity_days": 730, "allowed_issuers": ALLOWED})


def make_endpoint(host: str = "www.example.com", port: int = 443, **fields: Any) -> TlsEndpoint:
    """A probed endpoint that meets every part of the promise unless fields say otherwise."""
    values: dict[str, Any] = {
        "reachable": True,
        "chain_valid": True,
        "hostname_matches": True,
        "not_before": (MOMENT - timedelta(days=100)).isoformat(),
        "not_after": (MOMENT + timedelta(days=265)).isoformat(),
        "issuer_organization": "Sectigo Limited",
        "issuer": "CN=Sectigo RSA Domain Validation Secure Server CA,O=Sectigo Limited,C=GB",
        "subject": f"CN={host}",
        "serial": "0A1B2C",
        "negotiated_version": "TLSv1.3",
        "accepts_tls10": False,
        "accepts_tls11": False,
    } | fields
    return TlsEndpoint(id=f"tls://{host}:{port}", name=f"{host}:{port}", host=host, port=port, **values)


def make_app(name: str = "app", **fields: Any) -> WebApp:
    """An App Service site that is HTTPS-only with TLS 1.2 unless fields say otherwise."""
    values: dict[str, Any] = {"kind": "app", "https_only": True, "min_tls_version": "1.2"} | fields
    return WebApp(rid("Microsoft.Web/sites", name), name, SUB, "rg-test", "eastus", **values)


def inventory_of(
    *endpoints: TlsEndpoint, apps: tuple[WebApp, ...] = (), scope: tuple[str, ...] = (), as_of: str = AS_OF
) -> Inventory:
    """An inventory holding the probed endpoints, the requested scope and sites, judged at as_of."""
    inventory = make_inventory(tls_endpoints=endpoints, web_apps=apps, tls_scope=scope)
    return dataclasses.replace(inventory, as_of=as_of)


def certificate_results(inventory: Inventory) -> list[CheckResult]:
    """Every tls_certificate result over the inventory, as evaluation loops its subjects."""
    return results(tls_certificate, inventory, params())


def judge(endpoint: TlsEndpoint, *, at: datetime = MOMENT) -> Verdict:
    """The tls_certificate verdict on one probed endpoint."""
    verdict = tls_certificate(endpoint, params().at(at))
    assert verdict is not None
    return verdict


# --- tls_certificate over records ---------------------------------------------------------------


def test_compliant_endpoint_passes_with_its_evidence() -> None:
    result = judge(make_endpoint())
    assert result.status is Status.PASS
    assert result.severity is None
    assert result.evidence["host"] == "www.example.com"
    assert result.evidence["issuer_organization"] == "Sectigo Limited"
    assert result.evidence["days_left"] == 265
    assert result.evidence["validity_days"] == 365
    assert result.evidence["negotiated_version"] == "TLSv1.3"
    assert (result.evidence["accepts_tls10"], result.evidence["accepts_tls11"]) == (False, False)
    assert "TLS 1.0 and 1.1 refused" in result.message


FAILING = {
    "expired": ({"not_after": (MOMENT - timedelta(days=3)).isoformat()}, "expired on 2026-11-25"),
    "not yet valid": ({"not_before": (MOMENT + timedelta(days=1)).isoformat()}, "not valid before 2026-11-29"),
    "three-year validity": (
        {
            "not_before": (MOMENT - timedelta(days=10)).isoformat(),
            "not_after": (MOMENT + timedelta(days=1085)).isoformat(),
        },
        "validity period 1095 days > 730",
    ),
    "other issuer": ({"issuer_organization": "Let's Encrypt"}, 'issuer organisation "Let\'s Encrypt" is not one of'),
    "issuer without O": ({"issuer_organization": None, "issuer": "CN=Home CA"}, "CN=Home CA has no organisation"),
    "host name mismatch": (
        {"hostname_matches": False, "chain_error": "Hostname mismatch"},
        "not valid for host www.example.com",
    ),
    "untrusted chain": (
        {"chain_valid": False, "hostname_matches": None, "chain_error": "self-signed certificate"},
        "chain not trusted (self-signed certificate)",
    ),
    "TLS 1.0 accepted": ({"accepts_tls10": True}, "TLS 1.0 accepted"),
    "TLS 1.1 accepted": ({"accepts_tls11": True}, "TLS 1.1 accepted"),
    "TLS 1.1 negotiated": ({"negotiated_version": "TLSv1.1"}, "negotiated TLSv1.1, older than TLS 1.2"),
}


@pytest.mark.parametrize("fields, expected", FAILING.values(), ids=FAILING.keys())
def test_shortfall_fails_at_control_severity(fields: dict[str, Any], expected: str) -> None:
    result = judge(make_endpoint(**fields))
    assert result.status is Status.FAIL
    assert result.severity is None
    assert expected in result.message


def test_expiring_soon_fails_at_medium_severity() -> None:
    result = judge(make_endpoint(not_after=(MOMENT + timedelta(days=5, hours=1)).isoformat()))
    assert result.status is Status.FAIL
    assert result.severity is Severity.MEDIUM
    assert "5 days left, not more than 30" in result.message
    assert result.evidence["days_left"] == 5


def test_exactly_the_warning_window_is_expiring_and_one_more_day_passes() -> None:
    assert judge(make_endpoint(not_after=(MOMENT + timedelta(days=30)).isoformat())).severity is Severity.MEDIUM
    assert judge(make_endpoint(not_after=(MOMENT + timedelta(days=31)).isoformat())).status is Status.PASS


def test_two_year_certificate_ending_at_the_last_second_passes() -> None:
    start = MOMENT - timedelta(days=10)
    result = judge(
        make_endpoint(not_before=start.isoformat(), not_after=(start + timedelta(days=730, hours=23)).isoformat())
    )
    assert result.status is Status.PASS
    assert result.evidence["validity_days"] == 730


def test_expired_and_expiring_are_not_both_reported_and_every_shortfall_is_named() -> None:
    result = judge(
        make_endpoint(not_after=(MOMENT - timedelta(days=1)).isoformat(), accepts_tls10=True, issuer_organization="X")
    )
    assert result.status is Status.FAIL
    assert result.severity is None
    for part in ("expired", "TLS 1.0 accepted", "issuer organisation 'X'"):
        assert part in result.message
    assert "days left" not in result.message


ERRORS = {
    "unreachable": ({"reachable": False, "error": "TLS handshake with h failed: timed out"}, "timed out"),
    "legacy refusal untested": (
        {"accepts_tls10": None, "notes": ("TLS 1.0 refusal not verifiable: this OpenSSL cannot offer TLS 1.0",)},
        "TLS 1.0 refusal not verifiable",
    ),
    "chain not verified": ({"chain_valid": None, "chain_error": "verifying handshake failed: reset"}, "reset"),
    "version not recognised": ({"negotiated_version": None}, "negotiated protocol version not recognised"),
    "notAfter missing": ({"not_after": None}, "notAfter not read"),
    "certificate not read": ({"issuer": None, "issuer_organization": None}, "issuer not read"),
}


@pytest.mark.parametrize("fields, expected", ERRORS.values(), ids=ERRORS.keys())
def test_unestablished_fact_is_an_error_never_a_pass(fields: dict[str, Any], expected: str) -> None:
    result = judge(make_endpoint(**fields))
    assert result.status is Status.ERROR
    assert expected in result.message


def test_untested_legacy_version_is_named_in_a_failing_result() -> None:
    result = judge(make_endpoint(accepts_tls11=None, accepts_tls10=True))
    assert result.status is Status.FAIL
    assert "TLS 1.0 accepted" in result.message
    assert "not verified: TLS 1.1 refusal not tested" in result.message


def test_nothing_requested_is_one_error_naming_the_option() -> None:
    found = certificate_results(inventory_of(apps=(make_app(),)))
    assert [r.status for r in found] == [Status.ERROR]
    assert "pass --tls-endpoint HOST:PORT" in found[0].message


def test_requested_endpoint_without_a_probe_is_an_error() -> None:
    found = certificate_results(inventory_of(scope=("api.example.com:8443",)))
    assert [(r.resource_id, r.status) for r in found] == [("tls://api.example.com:8443", Status.ERROR)]
    assert "not probed" in found[0].message


def test_the_scope_is_read_from_the_inventory_not_the_parameters() -> None:
    probed = make_endpoint("api.example.com", 8443)
    found = certificate_results(inventory_of(probed, scope=("api.example.com:8443", "www.example.com:443")))
    assert [(r.resource_id, r.status) for r in found] == [
        ("tls://www.example.com:443", Status.ERROR),
        ("tls://api.example.com:8443", Status.PASS),
    ]


def test_app_service_custom_host_name_is_expected_and_judged() -> None:
    app = make_app(custom_host_names=("shop.example.com",))
    probed = make_endpoint("shop.example.com", subscription_id=SUB, source=SOURCE_APP_SERVICE)
    found = certificate_results(inventory_of(probed, apps=(app,)))
    assert [(r.resource_id, r.subscription_id, r.status) for r in found] == [
        ("tls://shop.example.com:443", SUB, Status.PASS)
    ]
    missing = certificate_results(inventory_of(apps=(app,)))
    assert [(r.resource_id, r.status) for r in missing] == [("tls://shop.example.com:443", Status.ERROR)]


def test_unreadable_entry_and_wildcard_host_are_errors() -> None:
    app = make_app(custom_host_names=("*.example.org",))
    found = certificate_results(inventory_of(apps=(app,), scope=("host:notaport",)))
    assert [(r.resource_id, r.status) for r in found] == [
        ("tls://host:notaport", Status.ERROR),
        ("tls://*.example.org", Status.ERROR),
    ]
    assert "port must be a number" in found[0].message
    assert "wildcard custom host name of App Service app" in found[1].message


def test_wildcard_covered_by_a_configured_host_is_not_reported() -> None:
    app = make_app(custom_host_names=("*.example.org",))
    found = certificate_results(inventory_of(make_endpoint("www.example.org"), apps=(app,), scope=("www.example.org",)))
    assert [(r.resource_id, r.status) for r in found] == [("tls://www.example.org:443", Status.PASS)]


# --- parsing and planning -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("www.example.com:443", ("www.example.com", 443)),
        ("www.example.com", ("www.example.com", 443)),
        (" api.example.com:8443 ", ("api.example.com", 8443)),
        ("[2001:db8::1]:8443", ("2001:db8::1", 8443)),
        ("2001:db8::1", ("2001:db8::1", 443)),
        ("127.0.0.1:4443", ("127.0.0.1", 4443)),
    ],
)
def test_parse_endpoint(text: str, expected: tuple[str, int]) -> None:
    assert parse_endpoint(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "host:0", "host:65536", "host:https", ":443", "[2001:db8::1", "a b:443", "x:y:z", "bad_host!:443", "-a.b:443"],
)
def test_parse_endpoint_rejects(text: str) -> None:
    with pytest.raises(EndpointSyntaxError):
        parse_endpoint(text)


def test_plan_deduplicates_and_keeps_configured_first() -> None:
    apps = (make_app("a", custom_host_names=("WWW.example.com", "shop.example.com")),)
    plan = plan_endpoints(("www.example.com:443", "www.example.com."), apps)
    assert plan.targets == (
        TlsTarget("www.example.com", 443),
        TlsTarget("shop.example.com", 443, SUB, SOURCE_APP_SERVICE),
    )
    assert plan.unprobeable == ()


@pytest.mark.parametrize(
    "text, expected",
    [("1.2", (1, 2)), ("1.0", (1, 0)), ("TLS1_2", (1, 2)), ("TLSv1.3", (1, 3)), ("TLSv1", (1, 0)), ("SSLv3", None)],
)
def test_tls_version(text: str, expected: tuple[int, int] | None) -> None:
    assert tls_version(text) == expected


def test_endpoint_record_survives_a_snapshot() -> None:
    endpoint = make_endpoint(notes=("TLS 1.0 probe inconclusive: timed out",))
    assert decode(TlsEndpoint, encode(endpoint), "test") == endpoint


# --- app_service_https_tls ----------------------------------------------------------------------

APP_CASES = {
    "https only, TLS 1.2": ({}, Status.PASS, "HTTPS only, minimum TLS version 1.2"),
    "https only, TLS 1.3": ({"min_tls_version": "1.3"}, Status.PASS, "minimum TLS version 1.3"),
    "http allowed": ({"https_only": False}, Status.FAIL, "HTTPS only is off"),
    "TLS 1.0": ({"min_tls_version": "1.0"}, Status.FAIL, "minimum TLS version 1.0 < 1.2"),
    "TLS 1.1": ({"min_tls_version": "1.1"}, Status.FAIL, "minimum TLS version 1.1 < 1.2"),
    "http and TLS 1.1 with one unreported": (
        {"https_only": None, "min_tls_version": "1.1"},
        Status.FAIL,
        "minimum TLS version 1.1 < 1.2; httpsOnly not reported",
    ),
    "httpsOnly unreported": ({"https_only": None}, Status.ERROR, "httpsOnly not reported"),
    "minTlsVersion unreported": ({"min_tls_version": None}, Status.ERROR, "siteConfig.minTlsVersion not reported"),
    "minTlsVersion unknown": ({"min_tls_version": "modern"}, Status.ERROR, "'modern' not recognised"),
}


@pytest.mark.parametrize("fields, status, expected", APP_CASES.values(), ids=APP_CASES.keys())
def test_app_service_https_tls(fields: dict[str, Any], status: Status, expected: str) -> None:
    result = app_service_https_tls(make_app(**fields), params())
    assert result.status is status
    assert expected in result.message
    assert result.evidence["https_only"] == fields.get("https_only", True)


# --- live probes against servers on 127.0.0.1 ---------------------------------------------------


@pytest.fixture(scope="module")
def sectigo() -> trustme.CA:
    """A CA whose organisation is the allowed issuer's."""
    return trustme.CA(organization_name="Sectigo Limited")


@pytest.fixture(scope="module")
def ca_file(sectigo: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test CA as a bundle file, standing in for the system trust store."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    sectigo.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start servers with a certificate and minimum version; they are closed after the test."""
    servers: list[TlsServer] = []

    def start(cert: trustme.LeafCert, minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2) -> TlsServer:
        server = TlsServer(server_context(cert, minimum))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def leaf(ca: trustme.CA, *, starts: int = -1, ends: int = 364, host: str = "127.0.0.1") -> trustme.LeafCert:
    """A certificate for host valid from `starts` to `ends` days from now."""
    now = datetime.now(UTC)
    return ca.issue_cert(host, not_before=now + timedelta(days=starts), not_after=now + timedelta(days=ends))


def probe_and_judge(port: int, ca_file: str, timeout: float = 2.0) -> tuple[TlsEndpoint, Verdict]:
    """Probe 127.0.0.1:port and judge it at the moment of the probe."""
    endpoint = probe_endpoint("127.0.0.1", port, timeout=timeout, ca_file=ca_file)
    return endpoint, judge(endpoint, at=datetime.now(UTC))


def test_live_valid_endpoint_passes(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    server = serve(leaf(sectigo))
    endpoint, result = probe_and_judge(server.port, ca_file)
    assert (endpoint.reachable, endpoint.chain_valid, endpoint.hostname_matches) == (True, True, True)
    assert endpoint.issuer_organization == "Sectigo Limited"
    assert endpoint.negotiated_version in {"TLSv1.2", "TLSv1.3"}
    if can_offer(ssl.TLSVersion.TLSv1) and can_offer(ssl.TLSVersion.TLSv1_1):
        assert (endpoint.accepts_tls10, endpoint.accepts_tls11) == (False, False)
        assert result.status is Status.PASS, result.message
        assert result.evidence["validity_days"] == 365
    else:
        assert result.status is Status.ERROR
        assert "refusal not verifiable" in result.message


def test_live_expired_certificate_fails_at_control_severity(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    endpoint, result = probe_and_judge(serve(leaf(sectigo, starts=-100, ends=-2)).port, ca_file)
    assert endpoint.chain_valid is True
    assert any("validity dates" in note for note in endpoint.notes)
    assert (result.status, result.severity) == (Status.FAIL, None)
    assert "certificate expired on" in result.message


def test_live_expiring_certificate_fails_at_medium(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    _, result = probe_and_judge(serve(leaf(sectigo, ends=5)).port, ca_file)
    assert result.status is Status.FAIL
    assert result.severity is Severity.MEDIUM
    assert "4 days left" in result.message or "5 days left" in result.message


def test_live_three_year_certificate_fails(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    _, result = probe_and_judge(serve(leaf(sectigo, starts=-1, ends=3 * 365 - 1)).port, ca_file)
    assert (result.status, result.severity) == (Status.FAIL, None)
    assert "validity period 1095 days > 730" in result.message


def test_live_other_issuer_fails(ca_file: str, serve: Any, tmp_path: Path) -> None:
    other = trustme.CA(organization_name="Example Trust Services")
    bundle = tmp_path / "both.pem"
    bundle.write_bytes(Path(ca_file).read_bytes() + other.cert_pem.bytes())
    endpoint, result = probe_and_judge(serve(leaf(other)).port, str(bundle))
    assert endpoint.chain_valid is True
    assert result.status is Status.FAIL
    assert "issuer organisation 'Example Trust Services' is not one of" in result.message


def test_live_host_name_mismatch_fails(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    endpoint, result = probe_and_judge(serve(leaf(sectigo, host="other.example")).port, ca_file)
    assert (endpoint.chain_valid, endpoint.hostname_matches) == (True, False)
    assert result.status is Status.FAIL
    assert "not valid for host 127.0.0.1" in result.message


def test_live_untrusted_chain_fails(serve: Any, ca_file: str) -> None:
    impostor = trustme.CA(organization_name="Sectigo Limited")
    endpoint, result = probe_and_judge(serve(leaf(impostor)).port, ca_file)
    assert endpoint.chain_valid is False
    assert endpoint.issuer_organization == "Sectigo Limited"
    assert result.status is Status.FAIL
    assert "certificate chain not trusted (unable to get local issuer certificate)" in result.message


def test_live_legacy_versions_accepted_fail(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    if not (can_offer(ssl.TLSVersion.TLSv1) and can_offer(ssl.TLSVersion.TLSv1_1)):
        pytest.skip(f"{ssl.OPENSSL_VERSION} cannot offer TLS 1.0/1.1 on this host")
    endpoint, result = probe_and_judge(serve(leaf(sectigo), ssl.TLSVersion.TLSv1).port, ca_file)
    assert (endpoint.accepts_tls10, endpoint.accepts_tls11) == (True, True)
    assert result.status is Status.FAIL
    assert "TLS 1.0 accepted; TLS 1.1 accepted" in result.message


def test_live_closed_port_is_an_error(ca_file: str) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    endpoint, result = probe_and_judge(port, ca_file)
    assert endpoint.reachable is False
    assert result.status is Status.ERROR
    assert "ConnectionRefusedError" in result.message


def test_live_silent_server_times_out_quickly(ca_file: str) -> None:
    silent = TlsServer(None)  # listens, never answers the handshake
    try:
        started = time.monotonic()
        endpoint, result = probe_and_judge(silent.port, ca_file, timeout=0.5)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert endpoint.reachable is False
    assert result.status is Status.ERROR
    assert "timed out" in result.message
    assert elapsed < 1.5


def test_probe_all_keeps_order_and_turns_failures_into_records(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    good = serve(leaf(sectigo))
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        closed = placeholder.getsockname()[1]
    targets = [TlsTarget("127.0.0.1", closed), TlsTarget("127.0.0.1", good.port, SUB, SOURCE_APP_SERVICE)]
    records = probe_all(targets, timeout=1.0, ca_file=ca_file, max_workers=2)
    assert [(r.port, r.reachable, r.subscription_id, r.source) for r in records] == [
        (closed, False, "", SOURCE_OPTION),
        (good.port, True, SUB, SOURCE_APP_SERVICE),
    ]


def test_endpoints_to_probe_reads_the_requested_endpoints_and_app_services() -> None:
    inventory = make_inventory(web_apps=[make_app(custom_host_names=("shop.example.com",))])
    assert endpoints_to_probe(inventory, ["api.example.com:8443", "bad:port"]) == [
        TlsTarget("api.example.com", 8443),
        TlsTarget("shop.example.com", 443, SUB, SOURCE_APP_SERVICE),
    ]


def test_with_tls_probe_records_the_collection(sectigo: trustme.CA, ca_file: str, serve: Any) -> None:
    server = serve(leaf(sectigo))
    probed = with_tls_probe(make_inventory(), [f"127.0.0.1:{server.port}"], timeout=1.0, ca_file=ca_file)
    assert [e.id for e in probed.tls_endpoints] == [f"tls://127.0.0.1:{server.port}"]
    assert probed.tls_scope == (f"127.0.0.1:{server.port}",)
    (collection,) = [c for c in probed.collections if c.api == TLS_PROBE_API]
    assert (collection.ok, collection.items) == (True, 1)


# --- the demo estate ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_inventory: Inventory) -> Inventory:
    """The demo estate, probed with no requested endpoint."""
    return with_tls_probe(demo_inventory, ())


def test_demo_estate(demo: Inventory) -> None:
    apps = results(app_service_https_tls, demo, params())
    assert {r.resource_id.rsplit("/", 1)[-1] for r in apps if r.status is Status.PASS} == {"app-mul2-prod-portal"}
    assert {r.resource_id.rsplit("/", 1)[-1] for r in apps if r.status is Status.FAIL} == {"app-mul2-stg-portal"}
    assert all(not app.custom_host_names for app in demo.web_apps)
    found = results(tls_certificate, demo, params())
    assert [(r.status, r.resource_id) for r in found] == [(Status.ERROR, "")]
    assert "pass --tls-endpoint" in found[0].message

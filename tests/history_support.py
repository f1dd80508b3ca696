"""Stores for history tests (a SQLite file, or a fresh database on a real PostgreSQL server), result
builders, and local receivers for notifications: an HTTPS webhook endpoint and an SMTP server with STARTTLS."""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.engine import make_url

from auditor.model import Finding, Severity, Status
from auditor.results import ControlSummary, ScanMetadata, ScanResult

POSTGRES_ENV = "AUDITOR_TEST_POSTGRES_URL"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


def postgres_admin_url() -> str | None:
    """The server .ci/run started; without it PostgreSQL tests skip locally and fail under CI."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set: under CI the PostgreSQL tests must run")
        pytest.skip(f"{POSTGRES_ENV} not set (.ci/run starts a PostgreSQL server and sets it)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A history location that does not exist yet: a SQLite file, or an empty database on PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "history.db")
        return
    yield from fresh_postgres_database()


def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database on the test server, yield its URL, drop it afterwards."""
    admin = postgres_admin_url()
    assert admin is not None
    name = f"auditor_test_{uuid.uuid4().hex[:12]}"
    plain = make_url(admin).set(drivername="postgresql")
    conninfo = plain.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield plain.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def finding(
    control: str, resource: str, status: Status, severity: Severity = Severity.HIGH, check: str = "a_check"
) -> Finding:
    """A finding of one control on one resource of the test subscription."""
    resource_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Test/things/{resource}"
    return Finding(
        control_id=control,
        check_id=check,
        title=f"{control} title",
        status=status,
        severity=severity,
        resource_id=resource_id,
        resource_type="Microsoft.Test/things",
        subscription_id=SUBSCRIPTION,
        message=f"{resource} is {status.value}",
    )


def result(as_of: str, findings: list[Finding], subscription: str = SUBSCRIPTION) -> ScanResult:
    """A scan result judged at ``as_of`` holding exactly these findings."""
    controls = sorted({f.control_id for f in findings})
    return ScanResult(
        metadata=ScanMetadata(
            tool_version="0.1.0",
            started_at=as_of,
            finished_at=as_of,
            source="test",
            subscriptions=(subscription,),
            baseline_path="baseline.toml",
            baseline_sha256="0" * 64,
            baseline_name="test baseline",
            as_of=as_of,
        ),
        controls=tuple(
            ControlSummary(
                id=c,
                title=f"{c} title",
                area=c.split("-")[0],
                severity=Severity.HIGH,
                mode="automated",
                quote="",
                description="",
                status=Status.FAIL,
                counts={},
            )
            for c in controls
        ),
        findings=tuple(findings),
    )


# --- receivers -------------------------------------------------------------------------------------------


@dataclass
class Tls:
    """A throw-away CA and a certificate for 127.0.0.1 it issued."""

    ca_file: Path
    server_context: ssl.SSLContext


def local_tls(folder: Path, name: str) -> Tls:
    """A CA written to folder/NAME-ca.pem and a server context presenting a certificate for 127.0.0.1."""
    ca = trustme.CA()
    ca_file = folder / f"{name}-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return Tls(ca_file, context)


@dataclass
class WebhookReceiver:
    """An HTTPS endpoint on 127.0.0.1 that records every POST and answers with ``status``."""

    url: str
    bodies: list[Any] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    """A local HTTPS receiver whose CA requests trusts (REQUESTS_CA_BUNDLE) for the test."""
    tls = local_tls(tmp_path, "webhook")
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            receiver.bodies.append(json.loads(self.rfile.read(length)))
            receiver.paths.append(self.path)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = tls.server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"https://127.0.0.1:{server.server_address[1]}/workflows/hook/secret-signature-123"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class MailReceiver:
    """An SMTP server on 127.0.0.1 that offers STARTTLS, requires it before AUTH, and keeps every message."""

    port: int
    ca_file: Path
    messages: list[Envelope] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)


SMTP_USER = "auditor"
SMTP_PASSWORD = "s3cret-smtp-password"


@pytest.fixture
def mail_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MailReceiver]:
    """A real aiosmtpd server, with the AUDITOR_SMTP_* variables pointing at it for the test."""
    tls = local_tls(tmp_path, "smtp")
    port = _free_port()
    receiver = MailReceiver(port=port, ca_file=tls.ca_file)

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook
            receiver.messages.append(envelope)
            return "250 OK"

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        receiver.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", bool(session.ssl)))
        # handled=False: aiosmtpd then answers 535 itself; the default expects the hook to have answered.
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=tls.server_context,
        require_starttls=True,
        auth_require_tls=True,
        authenticator=authenticate,
        # smtplib falls back from PLAIN to LOGIN after a rejection, and aiosmtpd's LOGIN then waits for input.
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    monkeypatch.setenv("AUDITOR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AUDITOR_SMTP_PORT", str(port))
    monkeypatch.setenv("AUDITOR_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("AUDITOR_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("AUDITOR_SMTP_FROM", "auditor@example.org")
    monkeypatch.setenv("AUDITOR_SMTP_CA_FILE", str(tls.ca_file))
    try:
        yield receiver
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

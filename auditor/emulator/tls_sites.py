"""Local TLS servers with certificates made on the spot: the demo's web endpoints, and the tests'.

The demo probes them as it would probe the real MUL2 site, so ENC-04 shows a compliant certificate
next to deviating ones. Their CA only exists in this process and a temporary file.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import trustme

# The policy names Comodo (now Sectigo) as its certificate authority; the demo CA carries that
# organisation name so a compliant certificate looks as the policy expects. It is a local stand-in.
DEMO_CA_ORGANIZATION = "Sectigo Limited"


class TlsServer:
    """A TLS server on 127.0.0.1 that completes handshakes in a thread until closed.

    Without a context it only listens and never answers, which is how a hung endpoint looks.
    """

    def __init__(self, context: ssl.SSLContext | None) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name=f"tls-{self.port}", daemon=True)
        if context is not None:
            self.thread.start()

    def _serve(self) -> None:
        assert self.context is not None
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            connection.settimeout(2)
            try:
                with self.context.wrap_socket(connection, server_side=True):
                    pass
            except OSError:
                # A client that refuses our versions or only inspects the certificate: nothing to serve.
                connection.close()

    def close(self) -> None:
        """Stop accepting and wait for the thread."""
        # Shutting a listening socket down wakes the thread blocked in accept(); closing alone does not.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        if self.thread.is_alive():
            self.thread.join(timeout=2)


def server_context(cert: trustme.LeafCert, minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2) -> ssl.SSLContext:
    """A server context presenting the certificate, accepting TLS from the given version up."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    context.minimum_version = minimum
    if minimum < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


@dataclass(frozen=True)
class DemoSite:
    """One demo endpoint and what it stands for."""

    endpoint: str
    description: str


class DemoTlsSites:
    """Three local HTTPS endpoints: a compliant certificate, one expiring soon, one valid for three years."""

    def __init__(self, as_of: datetime) -> None:
        self._as_of = as_of
        self._servers: list[TlsServer] = []
        self._folder = Path(tempfile.mkdtemp(prefix="auditor-demo-tls-"))
        self.ca_file = self._folder / "demo-ca.pem"
        self.sites: list[DemoSite] = []

    def __enter__(self) -> DemoTlsSites:
        ca = trustme.CA(organization_name=DEMO_CA_ORGANIZATION)
        ca.cert_pem.write_to_path(str(self.ca_file))
        # Validity is placed around the moment the demo is judged at, not around the wall clock.
        plans = (
            ("portal certificate: one year, renewed in time", -30, 335),
            ("API certificate: expires in 10 days", -355, 10),
            ("legacy certificate: valid for three years", -30, 1065),
        )
        for description, starts, ends in plans:
            cert = ca.issue_cert(
                "127.0.0.1",
                not_before=self._as_of + timedelta(days=starts),
                not_after=self._as_of + timedelta(days=ends),
            )
            server = TlsServer(server_context(cert))
            self._servers.append(server)
            self.sites.append(DemoSite(f"127.0.0.1:{server.port}", description))
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    @property
    def endpoints(self) -> list[str]:
        """The "host:port" of every demo site."""
        return [site.endpoint for site in self.sites]

"""A throw-away certificate authority and server certificate for the emulator's HTTPS listener.

The Azure SDK's bearer-token policies refuse plain HTTP, and turning certificate checks off in clients
would hide real mistakes, so the emulator serves HTTPS under a CA that exists only for its lifetime.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

CA_FILE_NAME = "emulator-ca.pem"
SERVER_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class LocalTls:
    """A server-side TLS context and the CA file clients pass as ``connection_verify``."""

    context: ssl.SSLContext
    ca_file: Path


def issue_local_tls(directory: Path) -> LocalTls:
    """Create a CA, issue a certificate for 127.0.0.1 and localhost, and write the CA PEM into ``directory``."""
    authority = trustme.CA(organization_name="auditor emulator")
    certificate = authority.issue_cert(*SERVER_NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    certificate.configure_cert(context)
    ca_file = directory / CA_FILE_NAME
    authority.cert_pem.write_to_path(str(ca_file))
    return LocalTls(context, ca_file)

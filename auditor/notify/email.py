"""E-mail notifications over SMTP with STARTTLS; host, port, user and password only from AUDITOR_SMTP_*."""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from auditor.notify.notice import Notice

SMTP_HOST_ENV = "AUDITOR_SMTP_HOST"
SMTP_PORT_ENV = "AUDITOR_SMTP_PORT"
SMTP_USER_ENV = "AUDITOR_SMTP_USER"
SMTP_PASSWORD_ENV = "AUDITOR_SMTP_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
SMTP_FROM_ENV = "AUDITOR_SMTP_FROM"
# Extra CA certificates to trust for the server (a private relay); the system store is trusted too.
SMTP_CA_FILE_ENV = "AUDITOR_SMTP_CA_FILE"
DEFAULT_PORT = 587
TIMEOUT_SECONDS = 30


class EmailConfigError(ValueError):
    """The AUDITOR_SMTP_* settings are missing or malformed."""


def message(notice: Notice, sender: str, recipient: str) -> EmailMessage:
    """The e-mail of a notice: plain text, one line per new finding."""
    mail = EmailMessage()
    mail["Subject"] = notice.subject
    mail["From"] = sender
    mail["To"] = recipient
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    lines = [
        f"Baseline: {notice.baseline}",
        f"Scope: {notice.scope}",
        f"Scan time: {notice.scan_time}",
        "",
    ]
    if notice.items:
        lines.append(f"New or regressed findings failing or erroring at or above {notice.threshold}:")
        for item in notice.items:
            due = f", due {item.due}" if item.due else ""
            lines.append(
                f"- [{item.severity}] {item.control_id} {item.title}: {item.status} on {item.resource_name}"
                f" (first seen {item.first_seen or 'now'}{due})"
            )
            if item.resource_id:
                lines.append(f"  {item.resource_id}")
    else:
        lines.append(f"No new findings at or above {notice.threshold}.")
    lines += ["", f"Open gated findings: {notice.open_gated}; overdue: {notice.overdue}."]
    mail.set_content("\n".join(lines) + "\n")
    return mail


def send(notice: Notice, recipient: str, environ: Mapping[str, str] | None = None) -> None:
    """Send the notice; raises on any failure, and never sends credentials before STARTTLS succeeded."""
    env = os.environ if environ is None else environ
    host = env.get(SMTP_HOST_ENV, "").strip()
    if not host:
        raise EmailConfigError(f"{SMTP_HOST_ENV} is not set")
    port_text = env.get(SMTP_PORT_ENV, str(DEFAULT_PORT)).strip()
    if not port_text.isdigit():
        raise EmailConfigError(f"{SMTP_PORT_ENV}: expected a port number, got {port_text!r}")
    user, password = env.get(SMTP_USER_ENV, ""), env.get(SMTP_PASSWORD_ENV, "")
    sender = env.get(SMTP_FROM_ENV, "").strip() or f"auditor@{host}"
    context = ssl.create_default_context()
    ca_file = env.get(SMTP_CA_FILE_ENV, "").strip()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    with smtplib.SMTP(host, int(port_text), timeout=TIMEOUT_SECONDS) as client:
        client.ehlo()
        if not client.has_extn("starttls"):
            raise smtplib.SMTPNotSupportedError(f"{host} does not offer STARTTLS; nothing sent in the clear")
        client.starttls(context=context)
        client.ehlo()
        if user:
            client.login(user, password)
        client.send_message(message(notice, sender, recipient))

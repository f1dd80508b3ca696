"""Deliver a notice to every target; a failure becomes a Delivery that says why, never an exception."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence

import requests

from auditor.history.ageing import Delivery
from auditor.notify import email, webhooks
from auditor.notify.notice import Notice
from auditor.notify.targets import Target


def deliver(targets: Sequence[Target], notice: Notice) -> tuple[Delivery, ...]:
    """Send the notice to each target in turn; one failing target does not stop the others."""
    return tuple(_deliver(target, notice) for target in targets)


def _deliver(target: Target, notice: Notice) -> Delivery:
    count = len(notice.items)
    try:
        if target.kind == "email":
            email.send(notice, target.address)
        else:
            webhooks.post(target.kind, target.address, notice)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        return Delivery(target.shown, False, f"HTTP {status}", count)
    except requests.RequestException as exc:
        # Exception texts from requests quote the URL, and a webhook URL is a secret: name the kind only.
        return Delivery(target.shown, False, f"{type(exc).__name__}: {_scrub(str(exc), target)}", count)
    except (OSError, smtplib.SMTPException, ssl.SSLError, email.EmailConfigError) as exc:
        return Delivery(target.shown, False, f"{type(exc).__name__}: {_scrub(str(exc), target)}", count)
    return Delivery(target.shown, True, "delivered", count)


def _scrub(text: str, target: Target) -> str:
    """The text with the target's address, and anything after a URL's host, removed."""
    if target.kind != "email" and target.address in text:
        text = text.replace(target.address, target.shown)
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(target.address)
    for secret in (parts.path, parts.query):
        if secret and len(secret) > 1:
            text = text.replace(secret, "/…")
    return text.splitlines()[0] if text else text

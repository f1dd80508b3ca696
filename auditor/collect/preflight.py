"""Before a scan collects anything: can the credential get a token, and can it list the subscriptions?

A scan that cannot do either cannot audit anything; it must not produce a report that looks like a
non-compliant estate. The caller turns the reason returned here into one line and exit code 2.
"""

from __future__ import annotations

import logging
import re

from azure.core.exceptions import AzureError, ClientAuthenticationError

from auditor.collect.scan import visible_subscriptions
from auditor.collect.session import AZURE_ARM_URL, AzureSession

# Longest reason shown; credential chains explain every link they tried, which does not fit one line.
_MAX_REASON = 400


def preflight(session: AzureSession) -> str:
    """Why this session cannot audit ("" when it can): no token, or the subscription listing failed."""
    # Credential chains log each failure as a warning; the one line this returns says it once.
    identity_log = logging.getLogger("azure.identity")
    previous = identity_log.disabled
    identity_log.disabled = True
    try:
        session.credential.get_token(f"{AZURE_ARM_URL}/.default")
    except ClientAuthenticationError as exc:
        return f"no access token for Azure Resource Manager: {_one_line(exc.message or str(exc))}"
    except AzureError as exc:
        return f"no access token for Azure Resource Manager: {_one_line(str(exc))}"
    finally:
        identity_log.disabled = previous
    _, listing = visible_subscriptions(session)
    if not listing.ok:
        return f"cannot list the subscriptions: {_one_line(listing.describe())}"
    return ""


def _one_line(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= _MAX_REASON else f"{flat[:_MAX_REASON]}..."

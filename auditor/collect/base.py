"""The shape every collector shares: listings, per-parent enrichments, and fail-closed error capture."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
)

from auditor.collect.policies import WriteRefusedError
from auditor.collect.session import AzureSession
from auditor.inventory import Collection

# Exceptions that mean "this listing's data cannot be trusted": transport and HTTP errors, bodies that
# do not decode, and models whose fields are not what the converter expects.
COLLECTION_ERRORS: tuple[type[BaseException], ...] = (
    AzureError,
    json.JSONDecodeError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
)


@dataclass(frozen=True)
class Listing:
    """One subscription-scoped listing that fills one inventory field."""

    api: str
    field: str
    fetch: Callable[[AzureSession, str], Iterable[Any]]


@dataclass(frozen=True)
class Enrichment:
    """A per-parent call that completes records of one inventory field (e.g. a VM's extensions)."""

    api: str
    field: str
    fetch: Callable[[AzureSession, Any], Any]


def failure(api: str, subscription_id: str, scope: str, exc: BaseException) -> Collection:
    """A Collection that records why a listing failed, naming status and error code where known."""
    if isinstance(exc, WriteRefusedError):
        # A refused write is a defect in the auditor, never a property of the estate.
        raise exc
    status: int | None = None
    code = ""
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or ""
        reason = getattr(error, "message", None) or exc.reason or str(exc)
    elif isinstance(exc, ClientAuthenticationError):
        reason = str(exc)
    elif isinstance(exc, AzureError):
        reason = exc.message if isinstance(exc.message, str) else str(exc)
    else:
        reason = f"malformed response: {type(exc).__name__}: {exc}"
    return Collection(
        api=api,
        subscription_id=subscription_id,
        scope=scope,
        ok=False,
        status_code=status,
        error_code=str(code),
        reason=" ".join(str(reason).split())[:500],
    )


def run_listing(session: AzureSession, listing: Listing, subscription_id: str) -> tuple[tuple[Any, ...], Collection]:
    """Run one listing; on any failure return no records and a Collection that says why."""
    scope = f"/subscriptions/{subscription_id}"
    try:
        records = tuple(listing.fetch(session, subscription_id))
    except COLLECTION_ERRORS as exc:
        return (), failure(listing.api, subscription_id, scope, exc)
    return records, Collection(listing.api, subscription_id, scope, ok=True, items=len(records))


def run_enrichment(session: AzureSession, enrichment: Enrichment, record: Any) -> tuple[Any, Collection | None]:
    """Complete one record; on failure keep it as it was and return the failure (None on success)."""
    try:
        return enrichment.fetch(session, record), None
    except COLLECTION_ERRORS as exc:
        return record, failure(enrichment.api, record.subscription_id, record.id, exc)


def text(value: Any) -> str | None:
    """A plain string from an SDK value: enums become their wire value, None stays None."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def ref_id(value: Any) -> str | None:
    """The ``id`` of an SDK sub-resource reference, or None."""
    return getattr(value, "id", None) if value is not None else None


def merged(single: str | None, plural: Iterable[str] | None) -> tuple[str, ...]:
    """Singular and plural ARM fields (e.g. sourceAddressPrefix/-es) as one tuple."""
    values = [single] if single else []
    values.extend(v for v in (plural or []) if v)
    return tuple(values)

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
    DecodeError,
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
class TenantListing:
    """One tenant-wide listing (Microsoft Graph, tenant role definitions) that fills one field."""

    api: str
    field: str
    fetch: Callable[[AzureSession], Iterable[Any]]


@dataclass(frozen=True)
class PerParent:
    """A call per parent record that yields child records (e.g. a SQL server's databases).

    Steps of a later ``phase`` run after every step of earlier phases, so a phase-2 step may read
    what a phase-1 step produced.
    """

    api: str
    parent_field: str
    field: str
    fetch: Callable[[AzureSession, Any], Iterable[Any]]
    phase: int = 1


@dataclass(frozen=True)
class Enrichment:
    """A call per record that completes it (e.g. a database's TDE state); returns the new record."""

    api: str
    field: str
    fetch: Callable[[AzureSession, Any], Any]
    phase: int = 1
    applies: Callable[[Any], bool] = lambda record: True


Step = Listing | TenantListing | PerParent | Enrichment

# The scope of tenant-wide listings, shaped like an ARM id so findings about it read like the others.
TENANT_SCOPE = "/tenants/tenant"


def failure(api: str, subscription_id: str, scope: str, exc: BaseException) -> Collection:
    """A Collection that records why a listing failed, naming status and error code where known."""
    if isinstance(exc, WriteRefusedError):
        # A refused write is a defect in the auditor, never a property of the estate.
        raise exc
    status: int | None = None
    code = ""
    if isinstance(exc, DecodeError):
        # A body that is not JSON arrives as a DecodeError, a kind of HttpResponseError with status 200.
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        reason = f"malformed response: the body is not valid JSON ({exc.message})"
    elif isinstance(exc, HttpResponseError):
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


def run_tenant_listing(session: AzureSession, listing: TenantListing) -> tuple[tuple[Any, ...], Collection]:
    """Run one tenant-wide listing; on any failure return no records and a Collection that says why."""
    try:
        records = tuple(listing.fetch(session))
    except COLLECTION_ERRORS as exc:
        return (), failure(listing.api, "", TENANT_SCOPE, exc)
    return records, Collection(listing.api, "", TENANT_SCOPE, ok=True, items=len(records))


def run_per_parent(session: AzureSession, step: PerParent, parent: Any) -> tuple[tuple[Any, ...], Collection | None]:
    """Children of one parent; on failure none, and the failure scoped to the parent."""
    try:
        return tuple(step.fetch(session, parent)), None
    except COLLECTION_ERRORS as exc:
        return (), failure(step.api, parent.subscription_id, parent.id, exc)


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

"""The shape every collector shares: raw-JSON reads through the SDK pipeline, the data contract, steps.

How collection reads Azure
--------------------------
Every collector sends its GETs through an azure-mgmt client's own pipeline (``arm_pipeline``: the
client's ``ARMPipelineClient``, built by the session with the read-only and host-bound policies first,
the capped retry policy and the ARM bearer-token policy) and reads the raw JSON body, never the SDK's
typed models. The URL and api-version of each operation are written next to the collector that sends
it (the api-version the installed SDK sends for that operation), so the contract tables below it are
written against one known wire shape. Requests go out with ``stream=True`` so the pipeline's content
decoder never runs: the body is read as bytes and parsed here with a size and nesting bound, and an
error status becomes an ``ArmResponseError`` built from the status and whatever of the ARM error body
can be read, never a traceback.

A listing (``list_objects``) must answer an object with a ``value`` list of objects on every page;
``nextLink`` is followed at most ``MAX_PAGES`` times and never twice to the same URL. Anything else is
a ``MalformedResponseError`` for that one scope (subscription x API, or the one parent of a per-parent call).

How a new collector uses it
---------------------------
1. Write a builder ``raw ARM resource dict -> record`` that reads through a ``Reader``, and a
   ``CONTRACT`` tuple of ``Field`` next to it: each raw field the builder reads, whether ARM always
   returns it, and what its absence means (Azure's documented default with its source, or unknown).
   Builders do no I/O, so the same builder serves ARM GETs and Resource Graph rows.
2. Write a fetch: ``list_objects(arm_pipeline(session, Client, sub), session.arm_url, path(...))`` and
   map the builder over it; build paths with ``path()``, which escapes every id segment.
3. Register a ``Listing``/``PerParent``/``Enrichment`` in the module's ``STEPS``.

How records carry unknowns
--------------------------
A builder never guesses. A required field that is absent or null, or any value of the wrong type or
outside its documented values, is recorded as an ``Unreadable(field, value)`` in the record's
``unreadable`` tuple, and the record field holds ``None`` (or leaves the unreadable item out of a
tuple). Evaluation (``auditor.evaluate.judged_with_unreadable``) turns every ``pass`` and
``not_applicable`` about a record with unreadable fields into ``error`` naming them, adds an error for
such a record that a check skipped, and never calls a check not applicable while a record it reads is
unreadable. Checks that follow references (a NIC judged through its subnet's NSG) look records up with
``auditor.checks.index.ById``, which holds unreadable records back, so the join reports ``error`` too.

How records carry tags
----------------------
Every top-level ARM record has a ``tags`` field read by ``tags_of`` and listed as ``TAGS_FIELD`` in its
contract. Tags are informational, never judged, so they are the one exception to the rule above: an odd
``tags`` body is not an ``Unreadable`` (which would turn verdicts into ``error``); the string-valued
entries are kept and the rest left out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
)
from azure.core.rest import HttpRequest

from auditor.collect.policies import WriteRefusedError
from auditor.collect.session import AzureSession
from auditor.inventory import Collection
from auditor.records.tags import Tags
from auditor.records.unreadable import Unreadable

# --- bounds ---------------------------------------------------------------------------------------

# A page of 1,000 large resources is a few MB; a body far beyond that is not an ARM page.
MAX_BODY_BYTES = 64 * 1024 * 1024
# ARM resources nest about 10 deep (policy rules about 30); a deeper body is not one Azure sends.
MAX_DEPTH = 64
# 5,000 pages of ARM's usual 100-1,000 items is far beyond any subscription.
MAX_PAGES = 5000

# Exceptions that mean "this scope's data cannot be trusted": transport and HTTP errors and bodies that
# break the contract.
COLLECTION_ERRORS: tuple[type[BaseException], ...] = (
    AzureError,
    json.JSONDecodeError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
)


class MalformedResponseError(ValueError):
    """A 200 answer whose body is not what the contract allows (not JSON, too deep, wrong shape)."""

    def __init__(self, message: str, status_code: int | None = 200) -> None:
        super().__init__(message)
        self.status_code = status_code


class ArmResponseError(AzureError):
    """An error status from ARM, with the code and message of its error body when it has one."""

    def __init__(self, status_code: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code


# --- bounded JSON ---------------------------------------------------------------------------------

_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def nesting_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in ``body``, counted up to ``limit + 1``; no recursion.

    Strings are dropped first (they may hold brackets); each pass then removes every innermost ``[]``
    pair, which lowers the height of every subtree by one, so the number of passes is the depth.
    """
    if b"\\" in body:
        # Escapes occur only inside strings, and a run of backslashes pairs up left to right as the
        # JSON parser reads it: drop the escaped backslashes first; each backslash-quote left is then an
        # escaped quote, which must not end a string. (A regex over the body costs ~20x more.)
        if b"\\\\" in body:
            body = body.replace(b"\\\\", b"")
        body = body.replace(b'\\"', b"")
    # Only brackets and quotes are kept. Two adjacent quotes enclose nothing outside a string (an
    # empty string, or the end of one and the start of the next), so dropping them first leaves the
    # same outside and far fewer pieces; every other piece between quotes is then a string's content.
    structure = body.translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    brackets = b"".join(structure.split(b'"')[::2])
    depth = 0
    while brackets and depth <= limit:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break  # unbalanced: the JSON parser reports it
        brackets = shorter
        depth += 1
    return depth


def parse_json(body: bytes, where: str) -> Any:
    """The JSON value of a body, refusing bodies over the size or nesting bound."""
    if len(body) > MAX_BODY_BYTES:
        raise MalformedResponseError(f"the body of {where} is {len(body)} bytes, over the {MAX_BODY_BYTES}-byte bound")
    if nesting_depth(body) > MAX_DEPTH:
        raise MalformedResponseError(f"the body of {where} nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedResponseError(f"the body of {where} is not valid JSON ({exc})") from None


# --- requests -------------------------------------------------------------------------------------

Pipeline = Any  # an azure-mgmt client's ARMPipelineClient (``client._client``)


def arm_pipeline(session: AzureSession, factory: Any, *args: Any) -> Pipeline:
    """The pipeline of the session's azure-mgmt client ``factory(*args)``: every collector GETs through one."""
    return session.client(factory, *args)._client


def _segment(value: str) -> str:
    """One URL path segment: every reserved character escaped, and no dot segment left to climb with."""
    if not value:
        raise ValueError("an empty id segment cannot be put in a URL")
    escaped = quote(value, safe="")
    return escaped.replace(".", "%2E") if escaped in {".", ".."} else escaped


def path(template: str, *values: str, api_version: str, **query: str) -> str:
    """``template`` with each ``{}`` filled by one escaped path segment, plus the query.

    A value taken from an ARM id (``resource_path``) or from the command line can hold ``/``, ``..`` or
    ``?``; escaped here, it stays one segment and cannot leave the scope the template names.
    """
    filled = template.format(*(_segment(v) for v in values))
    params = "&".join(
        f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in {"api-version": api_version, **query}.items()
    )
    return f"{filled}?{params}"


def resource_path(resource_id: str) -> str:
    """A resource's ARM id as a URL path, each segment escaped (a refused id raises ValueError)."""
    parts = [p for p in resource_id.split("/") if p]
    if len(parts) < 2 or parts[0].lower() not in {"subscriptions", "providers"}:
        raise ValueError(f"{resource_id!r} is not an ARM resource id")
    return "/" + "/".join(_segment(p) for p in parts)


def _where(url: str) -> str:
    return "GET " + urlsplit(url).path


def _error_of(status: int, body: bytes, reason: str) -> ArmResponseError:
    """The ARM error in a failed answer; the status alone when the body is empty or not an error object."""
    code, message = "", reason or f"HTTP {status}"
    try:
        parsed = parse_json(body, "error") if body.strip() else None
    except MalformedResponseError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or message)
    return ArmResponseError(status, code, message)


def get_object(pipeline: Pipeline, url: str) -> dict[str, Any]:
    """One GET through the pipeline: the body as a JSON object, or the error raised."""
    response = pipeline.send_request(HttpRequest("GET", url), stream=True)
    body = response.read()
    if response.status_code != 200:
        raise _error_of(response.status_code, body, str(response.reason or ""))
    parsed = parse_json(body, _where(url))
    if not isinstance(parsed, dict):
        raise MalformedResponseError(f"the body of {_where(url)} is a JSON {type(parsed).__name__}, not an object")
    return parsed


def list_objects(pipeline: Pipeline, base_url: str, url_path: str) -> Iterator[dict[str, Any]]:
    """Every item of an ARM list: each page an object with a ``value`` list of objects, ``nextLink`` followed."""
    url = base_url + url_path
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        seen.add(url)
        page = get_object(pipeline, url)
        items = page.get("value")
        if not isinstance(items, list):
            raise MalformedResponseError(f"the body of {_where(url)} has no 'value' list ({_shape(items)})")
        for item in items:
            if not isinstance(item, dict):
                raise MalformedResponseError(f"the body of {_where(url)} lists a {_shape(item)}, not an object")
        yield from items
        link = page.get("nextLink")
        if link is None or link == "":
            return
        if not isinstance(link, str):
            raise MalformedResponseError(f"the body of {_where(url)} has a nextLink that is a {_shape(link)}")
        # Relative links are joined to the endpoint; the host-bound policy refuses any other host.
        url = urljoin(base_url + "/", link)
        if url in seen:
            raise MalformedResponseError(f"the nextLink of {_where(url)} repeats a page already read")
    raise MalformedResponseError(f"{_where(url)} has more than {MAX_PAGES} pages")


def _shape(value: Any) -> str:
    return "absent" if value is None else f"JSON {type(value).__name__}"


# --- the contract ---------------------------------------------------------------------------------

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Field:
    """One raw field a builder reads: whether ARM always returns it, and what its absence means.

    ``absent_means`` is Azure's documented default with its source where one exists and is what the
    platform does, otherwise ``UNKNOWN`` (absence then makes the value unreadable).
    """

    path: str
    always_returned: bool
    absent_means: str = UNKNOWN

    @property
    def documented_default(self) -> bool:
        """True when absence has a documented meaning rather than being unknown."""
        return self.absent_means != UNKNOWN


def render(value: Any) -> str:
    """A short rendering of a raw value for an error message."""
    if value is _ABSENT:
        return "absent"
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


_ABSENT: Any = object()
EnumT = TypeVar("EnumT", bound=str)


@functools.lru_cache(maxsize=4096)
def _split_path(field_path: str) -> tuple[str, ...]:
    """The parts of a dotted field path; builders read the same few hundred paths over and over."""
    return tuple(field_path.split("."))


def _get_folded(mapping: Mapping[Any, Any], name: str) -> Any:
    """The value of the key spelled like ``name`` in another case, or ``_ABSENT``.

    JSON names in ARM are case-insensitive (keyvaultproperties / keyVaultProperties).
    """
    lower = name.lower()
    size = len(lower)
    for key in mapping:
        # An ASCII key folds to its own length, so one of another length cannot match: comparing
        # lengths first spares most ``lower`` calls.
        if isinstance(key, str) and (len(key) == size or not key.isascii()) and key.lower() == lower:
            return mapping[key]
    return _ABSENT


class Reader:
    """Reads fields of one raw resource (or part of one), collecting what it cannot read.

    Paths are dotted (``properties.securityRules``); a missing key and ``null`` both read as absent.
    Each reader of a part shares its parent's problem list and names fields from the resource's root.
    """

    def __init__(self, raw: Any, prefix: str = "", problems: list[Unreadable] | None = None) -> None:
        is_object = type(raw) is dict or isinstance(raw, Mapping)
        self.raw = raw if is_object else {}
        self.prefix = prefix
        self.problems: list[Unreadable] = [] if problems is None else problems
        if not is_object and prefix:
            self.problems.append(Unreadable(prefix, render(raw)))

    def _name(self, field_path: str) -> str:
        return f"{self.prefix}.{field_path}" if self.prefix else field_path

    def value(self, field_path: str) -> Any:
        """The raw value at ``field_path``, or ``_ABSENT``; a non-object on the way is a problem."""
        current: Any = self.raw
        parts = _split_path(field_path)
        for index, part in enumerate(parts):
            if current is None:
                return _ABSENT
            if type(current) is not dict and not isinstance(current, Mapping):  # dict first: ABC checks cost
                self.bad(".".join(parts[:index]), current)
                return _ABSENT
            found = current.get(part, _ABSENT)
            if found is _ABSENT:
                found = _get_folded(current, part)
                if found is _ABSENT:
                    return _ABSENT
            current = found
        return _ABSENT if current is None else current

    def bad(self, field_path: str, value: Any) -> None:
        """Record that ``field_path`` holds a value the contract cannot read."""
        self.problems.append(Unreadable(self._name(field_path), render(value)))

    def missing(self, field_path: str) -> None:
        """Record that a required field is absent or null."""
        self.problems.append(Unreadable(self._name(field_path), "absent"))

    def text(self, field_path: str, *, required: bool = False) -> str | None:
        """A string (numbers are read as their text); ``""`` reads as absent."""
        value = self.value(field_path)
        if type(value) is str and value:
            return value  # the common case, first
        if value is _ABSENT or value == "":
            if required:
                self.missing(field_path)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.bad(field_path, value)
            return None
        return str(value)

    def choice(self, field_path: str, options: Sequence[EnumT], *, required: bool = False) -> EnumT | None:
        """One of ``options`` matched case-insensitively, in its canonical spelling; anything else is a problem."""
        value = self.text(field_path, required=required)
        if value is None:
            return None
        for option in options:
            if option.lower() == value.lower():
                return option
        self.bad(field_path, value)
        return None

    def flag(self, field_path: str, *, required: bool = False) -> bool | None:
        """A boolean; ARM sends some as the strings "true"/"false"."""
        value = self.value(field_path)
        if value is _ABSENT:
            if required:
                self.missing(field_path)
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        self.bad(field_path, value)
        return None

    def integer(self, field_path: str, *, required: bool = False) -> int | None:
        """An integer; a string of digits is read too."""
        value = self.value(field_path)
        if value is _ABSENT:
            if required:
                self.missing(field_path)
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        self.bad(field_path, value)
        return None

    def ref(self, field_path: str) -> str | None:
        """The ``id`` of a sub-resource reference; absent and null read as no reference.

        A reference object without an ``id`` names something that cannot be identified: a problem.
        """
        value = self.value(field_path)
        if value is _ABSENT:
            return None
        if not isinstance(value, Mapping):
            self.bad(field_path, value)
            return None
        return Reader(value, self._name(field_path), self.problems).text("id", required=True)

    def items(self, field_path: str, *, required: bool = False) -> list[Reader]:
        """Readers over the objects of a list; a list that is not one is a problem (and reads as empty)."""
        value = self.value(field_path)
        if value is _ABSENT:
            if required:
                self.missing(field_path)
            return []
        if not isinstance(value, list):
            self.bad(field_path, value)
            return []
        return [Reader(v, f"{self._name(field_path)}[{i}]", self.problems) for i, v in enumerate(value)]

    def strings(self, field_path: str) -> tuple[str, ...]:
        """The non-empty strings of a list of strings (ARM leaves ``""`` in some lists)."""
        value = self.value(field_path)
        if value is _ABSENT:
            return ()
        if not isinstance(value, list):
            self.bad(field_path, value)
            return ()
        found = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                if item:
                    found.append(item)
            elif item is not None:
                self.bad(f"{field_path}[{i}]", item)
        return tuple(found)

    def ref_id(self) -> str | None:
        """This object's own ``id`` as a reference (``""`` reads as none)."""
        return self.text("id")

    def ref_ids(self, field_path: str) -> tuple[str, ...]:
        """The ids of a list of sub-resource references, empty ids left out."""
        return tuple(i for i in (r.text("id") for r in self.items(field_path)) if i)

    def merged(self, single: str, plural: str) -> tuple[str, ...]:
        """Singular and plural ARM fields (e.g. sourceAddressPrefix/-es) as one tuple."""
        first = self.text(single)
        return ((first,) if first else ()) + self.strings(plural)

    def part(self, field_path: str) -> Reader:
        """A reader over a nested object (empty when absent; a problem when not an object)."""
        value = self.value(field_path)
        if value is _ABSENT:
            return Reader({}, self._name(field_path), self.problems)
        return Reader(value, self._name(field_path), self.problems)

    def present(self, field_path: str) -> bool:
        """True when the field is there and not null."""
        return self.value(field_path) is not _ABSENT

    def found(self) -> tuple[Unreadable, ...]:
        """Every problem met so far, in order."""
        return tuple(self.problems)


def resource_id(reader: Reader, scope: str, resource_type: str, index: int = 0) -> str:
    """The resource's ``id``; when absent, a stand-in under the listing's scope (and a problem), so the
    resource is still reported, as ``error``, rather than silently dropped."""
    found = reader.text("id", required=True)
    return found or f"{scope}/providers/{resource_type}/(item {index} without an id)"


# ARM omits ``tags`` when a resource has none (https://learn.microsoft.com/azure/azure-resource-manager/
# management/tag-resources): absence and null both mean no tags.
TAGS_FIELD = Field("tags", False, "no tags: ARM omits tags on a resource that has none")


def tags_of(raw: Mapping[str, Any]) -> Tags:
    """The string-valued entries of a resource's top-level ``tags`` object.

    Tags are informational, never judged, so an odd body costs the resource nothing: a ``tags`` that
    is not an object reads as no tags, and an entry whose value is not a string is left out. Neither
    is recorded as unreadable, which would turn the resource's verdicts into ``error``.
    """
    value = raw.get("tags") if isinstance(raw, Mapping) else None
    if not isinstance(value, Mapping):
        return Tags()
    return Tags({k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)})


RecordT = TypeVar("RecordT")


def build_all(
    items: Iterable[Mapping[str, Any]], builder: Callable[[Mapping[str, Any], str], RecordT], subscription_id: str
) -> Iterator[RecordT]:
    """Records from raw items; builders never raise on content, so one odd item never loses a listing."""
    for item in items:
        yield builder(item, subscription_id)


def child_reader(record: Any, label: str, raw: Any) -> Reader:
    """A reader over a child body (a database's TDE state) whose problems join the record's own."""
    return Reader(raw, label, list(unreadable_of(record)))


def unreadable_of(record: Any) -> tuple[Unreadable, ...]:
    """What could not be read of a record (() for records without the field)."""
    found: tuple[Unreadable, ...] = getattr(record, "unreadable", ())
    return found


# --- steps ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """One subscription-scoped listing that fills one inventory field."""

    api: str
    field: str
    fetch: Callable[[AzureSession, str], Iterable[Any]]
    # What the fetch reads besides ARM (a Resource Graph query still running): it starts once this is done.
    after: Future[Any] | None = None


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
    # As for Listing: the calls start once this is done.
    after: Future[Any] | None = None


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
    if isinstance(exc, ArmResponseError):
        status, code, reason = exc.status_code, exc.error_code, str(exc.message)
    elif isinstance(exc, MalformedResponseError):
        status, reason = exc.status_code, f"malformed response: {exc}"
    elif isinstance(exc, DecodeError):
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

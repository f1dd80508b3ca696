"""Serve an estate through the local endpoint and scan it with the real SDK clients.

Every endpoint started here is remembered, so the suite can assert at the end that the auditor never
sent a write to any of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from auditor.collect import compute, keyvault, network, storage
from auditor.collect.base import Step
from auditor.collect.policies import READ_ONLY_POSTS
from auditor.collect.session import AzureSession, RetrySettings
from auditor.emulator import Emulator, Estate, Fault, RecordedRequest

EXAMPLES = Path(__file__).parent / "data" / "azure-rest-examples" / "specification"
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE", "POST", "MERGE"})


def is_read_only_post(request: RecordedRequest) -> bool:
    """True for the one POST that reads: Azure Resource Graph's query."""
    return request.method.upper() == "POST" and any(p.match(request.path) for p in READ_ONLY_POSTS)


# Requests of every endpoint the auditor talked to in this test run.
AUDITED_REQUESTS: list[RecordedRequest] = []

# Retries without sleeping, so fault tests stay fast.
FAST_RETRY = RetrySettings(total=3, backoff_factor=0.0, backoff_max=0.0, max_retry_after=0.2, read_timeout=5.0)


def example_body(relative: str) -> Any:
    """The response body of one of Microsoft's example files (status 200, else the first one)."""
    document = json.loads((EXAMPLES / relative).read_text(encoding="utf-8"))
    responses = document["responses"]
    return (responses.get("200") or next(iter(responses.values())))["body"]


@contextmanager
def serve(
    estate: dict[str, Any],
    *,
    page_size: int = 100,
    faults: tuple[Fault, ...] = (),
    retry: RetrySettings = FAST_RETRY,
    **endpoint_options: Any,
) -> Iterator[tuple[Emulator, AzureSession]]:
    """A running endpoint for the estate (``endpoint_options`` go to ``Emulator``) and a session bound to it."""
    endpoint = Emulator(
        Estate.from_dict(estate, source="test-estate"), page_size=page_size, faults=faults, **endpoint_options
    )
    with (
        endpoint,
        AzureSession.for_emulator(endpoint.url, str(endpoint.ca_file), endpoint.token, retry=retry) as session,
    ):
        try:
            yield endpoint, session
        finally:
            AUDITED_REQUESTS.extend(endpoint.requests)


def core_steps() -> tuple[Step, ...]:
    """The network, compute, key vault and storage steps: what the small test estates hold."""
    return network.STEPS + compute.STEPS + keyvault.STEPS + storage.STEPS

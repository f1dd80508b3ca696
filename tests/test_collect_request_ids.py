"""Each call carries a random client request id (a GUID Azure support can trace), never a time-based one."""

from __future__ import annotations

import uuid

from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest

from auditor.collect.policies import RandomRequestIdPolicy

HEADER = "x-ms-client-request-id"


def _sent(request: HttpRequest, **options: object) -> HttpRequest:
    context = PipelineContext(None, **options)
    RandomRequestIdPolicy().on_request(PipelineRequest(request, context))
    return request


def test_each_call_gets_its_own_random_guid() -> None:
    ids = [_sent(HttpRequest("GET", "https://management.example/a")).headers[HEADER] for _ in range(50)]
    assert len(set(ids)) == 50
    # Version 4: random, so no clock reading or MAC address of this machine goes out with the call.
    assert {uuid.UUID(value).version for value in ids} == {4}


def test_an_id_the_caller_chose_is_kept() -> None:
    given = HttpRequest("GET", "https://management.example/a", headers={HEADER: "caller-id"})
    assert _sent(given).headers[HEADER] == "caller-id"
    chosen = _sent(HttpRequest("GET", "https://management.example/a"), request_id="per-call-id")
    assert chosen.headers[HEADER] == "per-call-id"

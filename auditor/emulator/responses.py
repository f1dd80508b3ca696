"""Replies the emulator sends: JSON bodies and the ARM and Graph error shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# The codes ARM puts in ``error.code`` for the statuses a fault is likely to inject.
_ARM_ERROR_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body bytes and any headers beyond the ones every reply carries."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = JSON_CONTENT_TYPE


def json_reply(payload: Any, status: int = 200) -> Reply:
    """A JSON reply; non-ASCII text is sent as UTF-8, as Azure does."""
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def error_code_for(status: int) -> str:
    """The ARM error code for a status: the usual one, else the status phrase in CamelCase."""
    if status in _ARM_ERROR_CODES:
        return _ARM_ERROR_CODES[status]
    try:
        return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    except ValueError:
        return f"Http{status}"


def error_reply(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """An error in the ``{"error": {"code", "message"}}`` shape that ARM and Graph share."""
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, headers)

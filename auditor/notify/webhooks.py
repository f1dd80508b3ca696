"""Webhook payloads: a Teams Workflows Adaptive Card, Slack Block Kit, and the plain JSON of the notice."""

from __future__ import annotations

import json
from typing import Any

import requests

from auditor.notify.notice import Notice, NoticeItem

TIMEOUT_SECONDS = 15
ADAPTIVE_CARD_VERSION = "1.5"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# A Slack message holds at most 50 blocks; Teams cards grow unreadable long before their size limit.
MAX_LISTED = 25


def adaptive_card(notice: Notice) -> dict[str, Any]:
    """The notice as an Adaptive Card 1.5."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": notice.subject, "weight": "Bolder", "size": "Medium", "wrap": True},
        {
            "type": "FactSet",
            "facts": [
                {"title": "Baseline", "value": notice.baseline},
                {"title": "Scope", "value": notice.scope},
                {"title": "Scan time", "value": notice.scan_time},
                {"title": "Open gated", "value": str(notice.open_gated)},
                {"title": "Overdue", "value": str(notice.overdue)},
            ],
        },
    ]
    for item in notice.items[:MAX_LISTED]:
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    {
                        "type": "TextBlock",
                        "text": f"{item.severity.upper()} {item.control_id}: {item.resource_name}",
                        "weight": "Bolder",
                        "wrap": True,
                    },
                    {"type": "TextBlock", "text": _line(item), "wrap": True, "isSubtle": True},
                ],
            }
        )
    if len(notice.items) > MAX_LISTED:
        body.append({"type": "TextBlock", "text": f"and {len(notice.items) - MAX_LISTED} more", "wrap": True})
    return {"$schema": ADAPTIVE_CARD_SCHEMA, "type": "AdaptiveCard", "version": ADAPTIVE_CARD_VERSION, "body": body}


def teams_payload(notice: Notice) -> dict[str, Any]:
    """The message a Teams Workflows webhook ("post to a channel when a webhook request is received") takes."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": adaptive_card(notice),
            }
        ],
    }


def slack_payload(notice: Notice) -> dict[str, Any]:
    """The notice as Slack Block Kit, with a plain-text fallback."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.subject[:150]}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _mrkdwn(
                        f"{notice.baseline} | {notice.scope} | {notice.scan_time} | open gated "
                        f"{notice.open_gated}, overdue {notice.overdue}"
                    ),
                }
            ],
        },
    ]
    for item in notice.items[:MAX_LISTED]:
        text = f"*{_mrkdwn(item.severity.upper())} {_mrkdwn(item.control_id)}*: {_mrkdwn(_line(item))}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if len(notice.items) > MAX_LISTED:
        blocks.append(
            {"type": "section", "text": {"type": "plain_text", "text": f"and {len(notice.items) - MAX_LISTED} more"}}
        )
    return {"text": notice.subject, "blocks": blocks}


def payload(kind: str, notice: Notice) -> dict[str, Any]:
    """The body for a webhook of one kind."""
    if kind == "teams":
        return teams_payload(notice)
    if kind == "slack":
        return slack_payload(notice)
    return notice.document()


def post(kind: str, url: str, notice: Notice) -> None:
    """POST the payload; raises requests.HTTPError on a non-2xx answer."""
    body = json.dumps(payload(kind, notice), ensure_ascii=False).encode("utf-8")
    response = requests.post(
        url,
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=TIMEOUT_SECONDS,
        allow_redirects=False,
    )
    response.raise_for_status()


def _line(item: NoticeItem) -> str:
    due = f", due {item.due}" if item.due else ""
    return f"{item.title}: {item.status} on {item.resource_name} (first seen {item.first_seen or 'now'}{due})"


def _mrkdwn(text: str) -> str:
    """Text safe inside Slack mrkdwn: &, < and > are its only escapes, and <...> would make links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

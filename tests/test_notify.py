"""Notifications through real receivers on 127.0.0.1: an SMTP server with STARTTLS and an HTTPS webhook."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from auditor.drift import Changes, compare, scan_findings
from auditor.model import Severity, Status
from auditor.notify.deliver import deliver
from auditor.notify.notice import Notice, build_notice
from auditor.notify.targets import Target, TargetError, parse_target
from auditor.notify.webhooks import adaptive_card, slack_payload
from auditor.results import ScanResult
from tests.history_support import SMTP_PASSWORD, MailReceiver, WebhookReceiver, finding, mail_server, result, webhook

__all__ = ["mail_server", "webhook"]

OLD = finding("NET-01", "vm-old", Status.FAIL, Severity.CRITICAL)
NEW = finding("KV-01", "kv-<prod>&keys", Status.FAIL, Severity.HIGH)
LOW = finding("MON-02", "alerts", Status.FAIL, Severity.LOW)


def drifted() -> tuple[ScanResult, Changes]:
    """A scan where one high finding is new since the previous scan; a low one is new but below the gate."""
    before = result("2026-11-01T00:00:00Z", [OLD])
    after = result("2026-11-02T00:00:00Z", [OLD, NEW, LOW])
    changes = compare(
        scan_findings("previous", "2026-11-01T00:00:00Z", before.findings),
        scan_findings("current", "2026-11-02T00:00:00Z", after.findings),
    )
    return after, changes


def drifted_notice() -> Notice | None:
    """The notice of the drifted scan at the high gate."""
    after, changes = drifted()
    return build_notice(after, Severity.HIGH, digest=False, changes=changes)


def test_the_notice_names_only_new_gated_findings() -> None:
    notice = drifted_notice()
    assert notice is not None
    assert [item.id for item in notice.items] == [NEW.id]
    assert notice.open_gated == 2
    assert notice.subject.startswith("1 new finding(s) at or above high")


def test_nothing_is_sent_when_the_gated_set_did_not_grow() -> None:
    same = result("2026-11-02T00:00:00Z", [OLD])
    changes = compare(scan_findings("p", "", [OLD]), scan_findings("c", "", [OLD]))
    assert build_notice(same, Severity.HIGH, digest=False, changes=changes) is None
    digest = build_notice(same, Severity.HIGH, digest=True, changes=changes)
    assert digest is not None
    assert digest.items == ()
    assert digest.subject.startswith("Digest: no new findings")


def test_email_goes_through_starttls_with_credentials_from_the_environment(mail_server: MailReceiver) -> None:
    notice = drifted_notice()
    assert notice is not None
    (outcome,) = deliver([parse_target("email:secops@example.org")], notice)
    assert outcome.ok, outcome.detail
    assert mail_server.logins == [("auditor", True)]  # logged in, and only over TLS
    (envelope,) = mail_server.messages
    assert envelope.rcpt_tos == ["secops@example.org"]
    assert envelope.mail_from == "auditor@example.org"
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"].startswith("1 new finding(s) at or above high")
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert NEW.resource_id in body
    assert OLD.resource_id not in body
    assert SMTP_PASSWORD not in envelope.content.decode()


def test_a_failed_email_delivery_is_an_outcome_not_an_exception(
    mail_server: MailReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITOR_SMTP_PASSWORD", "wrong")
    notice = drifted_notice()
    assert notice is not None
    (outcome,) = deliver([Target("email", "secops@example.org")], notice)
    assert not outcome.ok
    assert "SMTPAuthenticationError" in outcome.detail
    assert mail_server.messages == []
    monkeypatch.delenv("AUDITOR_SMTP_HOST")
    (unset,) = deliver([Target("email", "secops@example.org")], notice)
    assert (unset.ok, unset.detail) == (False, "EmailConfigError: AUDITOR_SMTP_HOST is not set")


@pytest.mark.parametrize("kind", ["teams", "slack", "webhook"])
def test_webhooks_receive_their_payload_over_https(kind: str, webhook: WebhookReceiver) -> None:
    notice = drifted_notice()
    assert notice is not None
    (outcome,) = deliver([parse_target(f"{kind}:{webhook.url}")], notice)
    assert outcome.ok, outcome.detail
    assert outcome.target == f"{kind}:https://127.0.0.1:{webhook.url.split(':')[2].split('/')[0]}/…"
    (body,) = webhook.bodies
    text = json.dumps(body)
    assert NEW.id in text or "kv-" in text
    assert OLD.resource_name not in text
    if kind == "teams":
        (attachment,) = body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert attachment["content"]["version"] == "1.5"
    elif kind == "slack":
        assert body["blocks"][0]["type"] == "header"
        # mrkdwn's own escapes: a resource name cannot make a link or mention.
        assert "kv-&lt;prod&gt;&amp;keys" in text
    else:
        assert [item["id"] for item in body["new_findings"]] == [NEW.id]


def test_a_failed_webhook_never_reveals_its_url(webhook: WebhookReceiver) -> None:
    webhook.status = 500
    notice = drifted_notice()
    assert notice is not None
    (outcome,) = deliver([parse_target(f"teams:{webhook.url}")], notice)
    assert (outcome.ok, outcome.detail) == (False, "HTTP 500")
    assert "secret-signature" not in outcome.target
    unreachable = Target("slack", "https://127.0.0.1:1/services/secret-signature-123")
    (refused,) = deliver([unreachable], notice)
    assert not refused.ok
    assert "secret-signature" not in refused.detail + refused.target
    assert "ConnectionError" in refused.detail


def test_targets_are_checked_and_urls_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMS_URL", "https://example.org/hook/secret")
    assert parse_target("teams:env:TEAMS_URL") == Target("teams", "https://example.org/hook/secret")
    with pytest.raises(TargetError, match="environment variable MISSING_URL is not set"):
        parse_target("slack:env:MISSING_URL")
    with pytest.raises(TargetError, match="expected an https:// URL"):
        parse_target("webhook:http://example.org/hook")
    with pytest.raises(TargetError, match="is not an e-mail address"):
        parse_target("email:not-an-address")
    with pytest.raises(TargetError, match="expected one of") as raised:
        parse_target("pager:https://example.org/secret")
    assert "secret" not in str(raised.value)


def test_slack_blocks_and_card_list_at_most_25_findings() -> None:
    many = [finding("NET-01", f"vm{n}", Status.FAIL) for n in range(40)]
    notice = build_notice(result("2026-11-02T00:00:00Z", many), Severity.HIGH, digest=False)
    assert notice is not None
    blocks = slack_payload(notice)["blocks"]
    assert len(blocks) == 2 + 25 + 1
    assert blocks[-1]["text"]["text"] == "and 15 more"
    card = adaptive_card(notice)
    assert card["body"][-1]["text"] == "and 15 more"


ADAPTIVE_CARD_SCHEMA = Path(__file__).parent / "data" / "adaptive-cards" / "adaptive-card-1.5-excerpt.json"


def card_errors(card: dict[str, object]) -> list[str]:
    """Violations of the Adaptive Card 1.5 schema (see tests/data/adaptive-cards/ORIGIN.md)."""
    schema = json.loads(ADAPTIVE_CARD_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft6Validator(schema)
    return [error.message for error in validator.iter_errors(card)]


def test_the_teams_card_is_a_valid_adaptive_card_1_5(webhook: WebhookReceiver) -> None:
    many = [finding("NET-01", f"vm{n}", Status.FAIL) for n in range(30)]
    for notice in (
        drifted_notice(),
        build_notice(result("2026-11-02T00:00:00Z", many), Severity.HIGH, digest=True),
    ):
        assert notice is not None
        deliver([parse_target(f"teams:{webhook.url}")], notice)
    assert len(webhook.bodies) == 2
    for body in webhook.bodies:
        card = body["attachments"][0]["content"]
        assert card_errors(card) == []
    # The schema is not vacuous: a card with a weight Adaptive Cards do not know fails it.
    broken = webhook.bodies[0]["attachments"][0]["content"]
    broken["body"][0]["weight"] = "heavy"
    assert card_errors(broken)

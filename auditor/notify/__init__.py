"""Notifications of new or regressed gated findings: e-mail, Teams, Slack and plain JSON webhooks."""

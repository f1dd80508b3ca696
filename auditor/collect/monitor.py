"""Monitor collector: alert rules, action groups and key vault diagnostic settings."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

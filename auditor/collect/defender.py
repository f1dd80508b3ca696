"""Defender for Cloud collector: security contacts and plans."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

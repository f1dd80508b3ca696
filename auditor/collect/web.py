"""App Service collector: sites and their TLS settings."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

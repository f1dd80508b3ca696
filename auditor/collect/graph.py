"""Microsoft Graph collector: security defaults, Conditional Access, directory roles, MFA registration."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

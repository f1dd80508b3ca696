"""Authorization collector: role assignments and definitions."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

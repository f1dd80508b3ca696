"""Backup collector: Recovery Services vaults, backup policies and protected items."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

"""SQL collector: logical servers, databases with TDE and backup retention, SQL virtual machines."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

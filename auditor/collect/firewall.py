"""Network security layers collector: Azure Firewalls, firewall policies, route tables, VPN gateways."""

from __future__ import annotations

from auditor.collect.base import Step

STEPS: tuple[Step, ...] = ()

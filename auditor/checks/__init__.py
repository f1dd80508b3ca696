"""The built-in catalogue of checks, loaded explicitly into a registry."""

from __future__ import annotations

from auditor.registry import Registry

BUILTIN_MODULES = (
    "auditor.checks.nsg",
    "auditor.checks.firewall",
    "auditor.checks.vpn",
    "auditor.checks.firewall_layers",
    "auditor.checks.disks",
    "auditor.checks.storage",
    "auditor.checks.vault_encryption",
    "auditor.checks.key_vault",
    "auditor.checks.recovery",
    "auditor.checks.defender",
    "auditor.checks.monitor",
    "auditor.checks.entra",
    "auditor.checks.roles",
    "auditor.checks.tls",
    "auditor.checks.antimalware",
    "auditor.checks.sql",
    "auditor.checks.images",
)


def builtin_registry() -> Registry:
    """A registry of every built-in check."""
    return Registry.from_modules(BUILTIN_MODULES)

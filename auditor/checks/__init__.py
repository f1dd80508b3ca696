"""The built-in catalogue of checks, loaded explicitly into a registry."""

from __future__ import annotations

from auditor.registry import Registry

BUILTIN_MODULES = (
    "auditor.checks.network",
    "auditor.checks.network_layers",
    "auditor.checks.encryption",
    "auditor.checks.key_vault",
    "auditor.checks.backup",
    "auditor.checks.monitoring",
    "auditor.checks.identity",
    "auditor.checks.transport",
    "auditor.checks.antimalware",
    "auditor.checks.data_protection",
    "auditor.checks.sql",
    "auditor.checks.images",
)


def builtin_registry() -> Registry:
    """A registry of every built-in check."""
    return Registry.from_modules(BUILTIN_MODULES)

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
    "auditor.checks.tls",
    "auditor.checks.endpoint",
    "auditor.checks.data_protection",
)


def builtin_registry() -> Registry:
    """A registry of every built-in check."""
    return Registry.from_modules(BUILTIN_MODULES)

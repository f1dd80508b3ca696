"""The built-in rules: every module of this package, loaded explicitly into a registry.

Modules are found, not listed, so a new rule module needs no registration; modules of primitives and
joins (``primitives``, ``index``, ``placement``) simply define no rules.
"""

from __future__ import annotations

import pkgutil

from auditor.registry import Registry

BUILTIN_MODULES = tuple(sorted(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if not m.ispkg))


def builtin_registry() -> Registry:
    """A registry of every built-in rule."""
    return Registry.from_modules(BUILTIN_MODULES)

"""KV-01 (key vault protection): soft delete, purge protection, private network access and RBAC."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.checks.key_vault import key_vault_protection
from auditor.model import CheckResult, Status
from auditor.parameters import Params
from tests.builders import make_inventory, make_vault, results

KV_PARAMS = Params({"min_soft_delete_days": 90})


def vault_verdict(**settings: Any) -> CheckResult:
    (result,) = results(key_vault_protection, make_inventory(key_vaults=[make_vault(**settings)]), KV_PARAMS)
    return result


def test_fully_protected_vault_passes() -> None:
    assert vault_verdict().status is Status.PASS


def test_public_access_enabled_but_firewall_deny_passes() -> None:
    assert vault_verdict(public_network_access="Enabled", network_default_action="Deny").status is Status.PASS


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"purge_protection_enabled": None}, "purge protection not enabled"),
        ({"purge_protection_enabled": False}, "purge protection disabled"),
        ({"soft_delete_enabled": None}, "soft delete not reported"),
        ({"soft_delete_enabled": False}, "soft delete disabled"),
        ({"soft_delete_retention_days": 7}, "retention 7 days < 90"),
        ({"soft_delete_retention_days": None}, "retention not reported"),
        ({"public_network_access": "Enabled", "network_default_action": "Allow"}, "reachable from public networks"),
        ({"public_network_access": None, "network_default_action": None}, "reachable from public networks"),
        ({"rbac_authorization_enabled": False}, "access policies"),
        ({"rbac_authorization_enabled": None}, "access policies"),
    ],
)
def test_each_shortfall_fails_and_is_named(settings: dict[str, Any], reason: str) -> None:
    result = vault_verdict(**settings)
    assert result.status is Status.FAIL
    assert reason in result.message


def test_retention_threshold_comes_from_the_parameter() -> None:
    vault = make_vault(soft_delete_retention_days=30)
    assert key_vault_protection(vault, KV_PARAMS).status is Status.FAIL
    assert key_vault_protection(vault, Params({"min_soft_delete_days": 30})).status is Status.PASS

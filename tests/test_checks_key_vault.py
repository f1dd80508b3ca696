"""Key vault rules: KV-01 vault protection and KV-02 data-protecting keys, on records the tests build."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from auditor.baseline import Baseline, Control
from auditor.checks import builtin_registry
from auditor.checks.key_vault import key_vault_protection, parse_key_url, protecting_keys_hygiene
from auditor.evaluate import evaluate
from auditor.inventory import Collection, Inventory, Subscription
from auditor.model import CheckResult, Severity, Status
from auditor.parameters import Params
from auditor.records.keyvault import KeyVaultKey
from auditor.records.sql import SqlServer
from tests.builders import (
    SUB,
    CheckFunction,
    make_account,
    make_des,
    make_disk,
    make_inventory,
    make_recovery_vault,
    make_vault,
    results,
    rid,
)

REFERENCE = "2026-11-28T12:00:00+00:00"
EXPIRES = 1814400000  # 2027-07-01, after the reference time
EXPIRED = 1764547200  # 2025-12-01, before it
# The rules read no parameters; evaluation is handed the empty set.
PARAMS = Params({})
SUBSCRIPTION = Subscription(SUB, "Test subscription", "Enabled")


def inventory(**records: Any) -> Inventory:
    """An inventory of the records, judged at the reference time, in the test subscription."""
    return dataclasses.replace(make_inventory(**records), as_of=REFERENCE, subscriptions=(SUBSCRIPTION,))


def run(check: CheckFunction, params: Params = PARAMS, **records: Any) -> list[CheckResult]:
    """Every result of one check over an inventory of the records."""
    return results(check, inventory(**records), params)


def only(check: CheckFunction, params: Params = PARAMS, **records: Any) -> CheckResult:
    """The one result of a check over an inventory of the records."""
    (result,) = run(check, params, **records)
    return result


def with_params(**changes: Any) -> Params:
    """The test parameters with some values changed."""
    return Params(dict(PARAMS.values) | changes)


# --- builders -------------------------------------------------------------------------------------


def make_key(
    name: str = "cmk",
    vault: str = "kv",
    *,
    kty: str | None = "RSA",
    key_size: int | None = 2048,
    curve: str | None = None,
    enabled: bool | None = True,
    expires: int | None = EXPIRES,
    rotation: bool = False,
    actions: tuple[str, ...] = (),
) -> KeyVaultKey:
    """A key as the management plane lists it; valid for KV-02 unless arguments say otherwise."""
    vault_id = rid("Microsoft.KeyVault/vaults", vault)
    return KeyVaultKey(
        f"{vault_id}/keys/{name}",
        name,
        SUB,
        "rg-test",
        vault_id,
        kty,
        key_size,
        curve,
        enabled,
        expires,
        f"https://{vault}.vault.azure.net/keys/{name}",
        rotation_policy=rotation,
        rotation_actions=actions,
    )


def key_url(name: str = "cmk", vault: str = "kv", version: str = "0a1b2c") -> str:
    """A versioned key URL, as resources reference keys."""
    return f"https://{vault}.vault.azure.net/keys/{name}/{version}"


def make_sql_server(name: str = "sql", *, kind: str | None = "AzureKeyVault", uri: str | None = None) -> SqlServer:
    """A logical SQL server with a TDE protector."""
    return SqlServer(
        rid("Microsoft.Sql/servers", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        "12.0",
        "Disabled",
        "1.2",
        protector_kind=kind,
        protector_key_uri=uri,
    )


# --- KV-02 ----------------------------------------------------------------------------------------


def key_verdict(key: KeyVaultKey) -> CheckResult:
    """The verdict on a key used by a disk encryption set."""
    return only(protecting_keys_hygiene, key_vault_keys=[key], disk_encryption_sets=[make_des(key_url=key_url())])


@pytest.mark.parametrize(
    "key",
    [
        make_key(),
        make_key(kty="RSA-HSM", key_size=3072, expires=None, rotation=True, actions=("rotate", "notify")),
        make_key(kty="EC", key_size=None, curve="P-256"),
        make_key(kty="EC-HSM", key_size=None, curve="P-384", expires=None, rotation=True, actions=("Rotate",)),
        make_key(kty="rsa", key_size=4096),
    ],
    ids=["rsa-2048-expiry", "rsa-hsm-rotation-only", "ec-expiry", "ec-hsm-rotation", "lower-case-kty"],
)
def test_strong_enabled_key_that_expires_or_rotates_passes(key: KeyVaultKey) -> None:
    result = key_verdict(key)
    assert result.status is Status.PASS
    assert result.resource_id == key.id
    assert result.evidence["protects"][0]["resource"] == "des"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (make_key(key_size=1024), "RSA 1024 bits < 2048"),
        (make_key(enabled=False), "disabled"),
        (make_key(enabled=None), "enabled state not reported"),
        (make_key(expires=None), "no expiry date and no rotation policy"),
        (make_key(expires=None, rotation=True, actions=("notify",)), "rotation policy only notifies"),
        (make_key(expires=EXPIRED), "expired on 2025-12-01"),
        (make_key(kty="oct-HSM", key_size=256), "key type oct-HSM is neither RSA nor EC"),
        (make_key(key_size=None), "RSA key size not reported"),
        (make_key(kty=None), "key type not reported"),
    ],
    ids=["rsa-1024", "disabled", "enabled-unknown", "no-expiry", "notify-only", "expired", "oct", "size", "kty"],
)
def test_weak_disabled_or_never_expiring_key_fails(key: KeyVaultKey, reason: str) -> None:
    result = key_verdict(key)
    assert result.status is Status.FAIL
    assert reason in result.message
    assert "disk encryption set active key of des" in result.message


def test_each_kind_of_reference_is_followed_version_insensitively() -> None:
    users: dict[str, Any] = {
        "disk_encryption_sets": [make_des(key_url=key_url(version="v1"))],
        "storage_accounts": [
            make_account(key_source="Microsoft.Keyvault", vault_uri="https://KV.vault.azure.net/", key_name="CMK")
        ],
        "recovery_vaults": [make_recovery_vault(cmk=key_url(version="v2"))],
        "sql_servers": [make_sql_server(uri=key_url(version="v3"))],
        "disks": [
            make_disk(
                ade_enabled=True, ade_secret_urls=("https://kv.vault.azure.net/secrets/s/1",), ade_key_urls=(key_url(),)
            )
        ],
    }
    (result,) = run(protecting_keys_hygiene, key_vault_keys=[make_key()], **users)
    assert result.status is Status.PASS
    assert {p["role"] for p in result.evidence["protects"]} == {
        "disk encryption set active key",
        "storage account customer-managed key",
        "Recovery Services vault customer-managed key",
        "SQL TDE protector",
        "Azure Disk Encryption key-encryption key",
    }
    assert result.evidence["expires"] == "2027-07-01T00:00:00+00:00"


def test_keys_that_protect_nothing_are_not_judged() -> None:
    weak = make_key("unused", key_size=1024, expires=None)
    users: dict[str, Any] = {
        "sql_servers": [make_sql_server(kind="ServiceManaged")],
        "storage_accounts": [make_account()],
    }
    assert run(protecting_keys_hygiene, key_vault_keys=[weak], **users) == []


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ({"disk_encryption_sets": [make_des(key_url=key_url("gone"))]}, "references key https://kv.vault.azure.net"),
        ({"recovery_vaults": [make_recovery_vault(cmk=key_url(vault="other"))]}, "not among the collected keys"),
        (
            {"sql_servers": [make_sql_server(uri="https://hsm.managedhsm.azure.net/keys/cmk/1")]},
            "Managed HSM",
        ),
        ({"sql_servers": [make_sql_server(uri=None)]}, "SQL TDE protector is configured but"),
        (
            {
                "storage_accounts": [
                    make_account(key_source="Microsoft.Keyvault", vault_uri="https://kv.vault.azure.net")
                ]
            },
            "key vault URI or key name was not reported",
        ),
        ({"disk_encryption_sets": [make_des(key_url="https://kv.vault.azure.net/secrets/x/1")]}, "not a Key Vault key"),
    ],
    ids=["missing-key", "other-vault", "managed-hsm", "protector-without-uri", "storage-without-key-name", "secret"],
)
def test_reference_that_cannot_be_followed_is_an_error(users: dict[str, Any], message: str) -> None:
    result = only(protecting_keys_hygiene, key_vault_keys=[make_key()], **users)
    assert result.status is Status.ERROR
    assert message in result.message
    assert result.resource_id == next(iter(users.values()))[0].id


def test_key_url_parsing_keeps_vault_and_name() -> None:
    reference = parse_key_url("https://KV-Prod.vault.azure.net/keys/des-key/f41f")
    assert reference is not None
    assert (reference.vault_name, reference.key_name, reference.version) == ("kv-prod", "des-key", "f41f")
    assert parse_key_url("https://kv.vault.azure.net/keys/k") is not None
    assert parse_key_url("http://kv.vault.azure.net/keys/k") is None
    assert parse_key_url("https://kv.vault.azure.net/certificates/k/1") is None


# --- error: a required listing that failed -------------------------------------------------------


def _scan(check_id: str, records: dict[str, Any], failed_api: str) -> list[tuple[Status, str]]:
    """Statuses and resource ids of the findings one check yields when one of its listings failed."""
    denied = Collection(failed_api, SUB, f"/subscriptions/{SUB}", ok=False, status_code=403, reason="denied")
    registry = builtin_registry()
    control = Control("T-01", "test", "test", Severity.MEDIUM, "automated", "quote", "desc", checks=(check_id,))
    baseline = Baseline("test", "", "test", "1", "policy", {}, (control,))
    inv = inventory(collections=[denied], **records)
    return [(f.status, f.resource_id) for f in evaluate(inv, baseline, registry, PARAMS).findings]


ERROR_CASES = {
    "protecting_keys_hygiene": (
        {"key_vault_keys": [make_key()], "disk_encryption_sets": [make_des(key_url=key_url())]},
        "Microsoft.KeyVault/vaults/keys",
    ),
}


@pytest.mark.parametrize(("check_id", "case"), ERROR_CASES.items(), ids=ERROR_CASES.keys())
def test_failed_listing_makes_the_subscription_an_error_and_nothing_else(
    check_id: str, case: tuple[dict[str, Any], str]
) -> None:
    records, api = case
    assert _scan(check_id, records, api) == [(Status.ERROR, f"/subscriptions/{SUB}")]


# --- KV-01 ---------------------------------------------------------------------------------------

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

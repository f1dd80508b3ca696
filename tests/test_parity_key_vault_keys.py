"""KV-02 (protecting_keys_hygiene) through the live door and the IaC door: one case table, the same verdicts.

Live, KV-02 judges the keys data-holding resources reference. A key declared in code is declared for a
purpose, so it is the subject there with no uses of its own (the resources it protects name it); each case's
live door is the judge on the key the collector builds of the same key, with no uses either.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.checks import builtin_registry
from auditor.checks.key_vault import ProtectingKey
from auditor.collect.keys import key_vault_key
from auditor.model import Status
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, iac_doors

KEYS = "Microsoft.KeyVault/vaults/keys"
VAULT = "kv-parity"
VAULT_ID = arm_id("Microsoft.KeyVault/vaults", VAULT)
JAN_2028 = 1830297600  # 2028-01-01T00:00:00Z, after the parity moment
JUN_2025 = 1748736000  # 2025-06-01T00:00:00Z, before it
ROTATE = {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Rotate"}}
NOTIFY = {"trigger": {"timeBeforeExpiry": "P29D"}, "action": {"type": "Notify"}}


def key_json(
    name: str,
    kty: str = "RSA",
    *,
    size: int | None = 2048,
    curve: str | None = None,
    exp: int | None = JAN_2028,
    actions: tuple[dict[str, Any], ...] | None = None,
) -> dict[str, Any]:
    """A key as ARM GET returns it (shape of Microsoft's getKey example), with a rotation policy when given."""
    attributes: dict[str, Any] = {"enabled": True, "created": 1700000000, "updated": 1700000000}
    if exp is not None:
        attributes["exp"] = exp
    properties: dict[str, Any] = {
        "kty": kty,
        "keyOps": ["wrapKey", "unwrapKey"],
        "attributes": attributes,
        "keyUri": f"https://{VAULT}.vault.azure.net/keys/{name}",
        "keyUriWithVersion": f"https://{VAULT}.vault.azure.net/keys/{name}/0a1b2c",
    }
    if size is not None:
        properties["keySize"] = size
    if curve is not None:
        properties["curveName"] = curve
    if actions is not None:
        properties["rotationPolicy"] = {"attributes": {"expiryTime": "P1Y"}, "lifetimeActions": list(actions)}
    return {"id": f"{VAULT_ID}/keys/{name}", "name": name, "type": KEYS, "location": "eastus", "properties": properties}


def key_terraform(
    name: str,
    kty: str = "RSA",
    *,
    size: int | None = 2048,
    curve: str | None = None,
    expiry: str | None = "2028-01-01T00:00:00Z",
    rotation: str = "",
) -> str:
    """The azurerm_key_vault_key declaring the same key."""
    lines = [f'  name = "{name}"', "  key_vault_id = azurerm_key_vault.kv.id", f'  key_type = "{kty}"']
    lines += [f"  key_size = {size}"] if size is not None else []
    lines += [f'  curve = "{curve}"'] if curve is not None else []
    lines += ['  key_opts = ["wrapKey", "unwrapKey"]']
    lines += [f'  expiration_date = "{expiry}"'] if expiry is not None else []
    body = "\n".join(lines)
    return f'resource "azurerm_key_vault_key" "key" {{\n{body}\n{rotation}}}\n'


AUTOMATIC = (
    '  rotation_policy {\n    automatic {\n      time_before_expiry = "P30D"\n    }\n'
    '    expire_after = "P1Y"\n    notify_before_expiry = "P29D"\n  }\n'
)
NOTIFY_ONLY = '  rotation_policy {\n    expire_after = "P1Y"\n    notify_before_expiry = "P29D"\n  }\n'


def key_template(name: str, *args: Any, **changes: Any) -> dict[str, Any]:
    """The ARM template resource of the same key, a child of the vault."""
    properties = key_json(name, *args, **changes)["properties"]
    declared = {k: v for k, v in properties.items() if k not in {"keyUri", "keyUriWithVersion"}}
    declared["attributes"] = {k: v for k, v in properties["attributes"].items() if k in {"enabled", "exp"}}
    return {"type": KEYS, "apiVersion": "2023-07-01", "name": f"{VAULT}/{name}", "properties": declared}


CASES = (
    Case("rsa-expiring", Status.PASS, key_json("cmk"), key_terraform("cmk"), key_template("cmk")),
    Case(
        "rsa-hsm-rotating",
        Status.PASS,
        key_json("cmk-hsm", "RSA-HSM", size=3072, exp=None, actions=(ROTATE, NOTIFY)),
        key_terraform("cmk-hsm", "RSA-HSM", size=3072, expiry=None, rotation=AUTOMATIC),
        key_template("cmk-hsm", "RSA-HSM", size=3072, exp=None, actions=(ROTATE, NOTIFY)),
    ),
    Case(
        "ec-expiring",
        Status.PASS,
        key_json("cmk-ec", "EC", size=None, curve="P-384"),
        key_terraform("cmk-ec", "EC", size=None, curve="P-384"),
        key_template("cmk-ec", "EC", size=None, curve="P-384"),
    ),
    Case(
        "rsa-1024",
        Status.FAIL,
        key_json("cmk-weak", size=1024),
        key_terraform("cmk-weak", size=1024),
        key_template("cmk-weak", size=1024),
    ),
    Case(
        "never-expires",
        Status.FAIL,
        key_json("cmk-forever", exp=None),
        key_terraform("cmk-forever", expiry=None),
        key_template("cmk-forever", exp=None),
    ),
    Case(
        "policy-only-notifies",
        Status.FAIL,
        key_json("cmk-notify", exp=None, actions=(NOTIFY,)),
        key_terraform("cmk-notify", expiry=None, rotation=NOTIFY_ONLY),
        key_template("cmk-notify", exp=None, actions=(NOTIFY,)),
    ),
    Case(
        "expired",
        Status.FAIL,
        key_json("cmk-old", exp=JUN_2025),
        key_terraform("cmk-old", expiry="2025-06-01T00:00:00Z"),
        key_template("cmk-old", exp=JUN_2025),
    ),
)


def build(raw: Mapping[str, Any]) -> ProtectingKey:
    """The key a live scan builds, with no uses, as the code declares it."""
    return ProtectingKey(key_vault_key(raw, VAULT_ID, SUBSCRIPTION), ())


def test_protecting_keys_hygiene_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("protecting_keys_hygiene", build, CASES, tmp_path)


def test_a_size_or_expiry_left_to_deployment_is_an_error(tmp_path: Path) -> None:
    terraform = 'variable "expiry" {\n  type = string\n}\n' + key_terraform("cmk-var", expiry="${var.expiry}")
    template = key_template("cmk-var")
    template["properties"]["keySize"] = "[parameters('size')]"
    cases = (Case("key-expression", Status.ERROR, {}, terraform, template),)
    said = iac_doors(builtin_registry()["protecting_keys_hygiene"], cases, tmp_path)
    assert {k: v.status for k, v in said.items()} == {
        ("key-expression", "terraform"): Status.ERROR,
        ("key-expression", "arm"): Status.ERROR,
    }
    assert "expiration_date" in said[("key-expression", "terraform")].message
    assert "keySize" in said[("key-expression", "arm")].message

"""ENC-05 (sql_database_tde) through the live door and the IaC door: one case table, the same verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import builtin_registry
from auditor.collect.sql import sql_database, sql_server, with_tde_body
from auditor.model import Status
from auditor.records.sql import SqlDatabase
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, iac_doors, live_door

SERVER = "sql-parity"
RULE = "sql_database_tde"


def database_json(name: str, state: str | None) -> dict[str, Any]:
    """A database as ARM GET returns it, with the body of its transparentDataEncryption/current child."""
    database: dict[str, Any] = {
        "id": arm_id("Microsoft.Sql/servers", f"{SERVER}/databases/{name}"),
        "name": name,
        "type": "Microsoft.Sql/servers/databases",
        "location": "eastus",
        "sku": {"name": "S0", "tier": "Standard"},
        "properties": {"status": "Online", "collation": "SQL_Latin1_General_CP1_CI_AS"},
    }
    tde = {
        "id": database["id"] + "/transparentDataEncryption/current",
        "name": "current",
        "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
        "properties": {} if state is None else {"state": state},
    }
    return {"database": database, "tde": tde}


def terraform(name: str, *settings: str) -> str:
    """An azurerm_mssql_database on a server declared alongside, with the case's own lines."""
    body = "".join(f"  {line}\n" for line in settings)
    return (
        f'resource "azurerm_mssql_server" "server" {{\n  name = "{SERVER}"\n  resource_group_name = "rg-parity"\n'
        f'  location = "eastus"\n  version = "12.0"\n  minimum_tls_version = "1.2"\n}}\n\n'
        f'resource "azurerm_mssql_database" "{name}" {{\n  name = "{name}"\n'
        f'  server_id = azurerm_mssql_server.server.id\n  sku_name = "S0"\n{body}}}\n'
    )


def template(name: str, state: str | None = None, **tde: Any) -> dict[str, Any]:
    """The ARM template database, with an inline transparentDataEncryption child when a state is given."""
    resource: dict[str, Any] = {
        "type": "Microsoft.Sql/servers/databases",
        "apiVersion": "2023-05-01-preview",
        "name": f"{SERVER}/{name}",
        "location": "eastus",
        "sku": {"name": "S0", "tier": "Standard"},
        "properties": {"collation": "SQL_Latin1_General_CP1_CI_AS"},
    }
    if state is not None or tde:
        child = {
            "type": "transparentDataEncryption",
            "apiVersion": "2023-05-01-preview",
            "name": "current",
            "dependsOn": [f"[resourceId('Microsoft.Sql/servers/databases', '{SERVER}', '{name}')]"],
            "properties": ({"state": state} if state is not None else {}) | tde,
        }
        resource["resources"] = [child]
    return resource


def inline_full_type(name: str, state: str) -> dict[str, Any]:
    """The database with its inline TDE child named by its full type (checkov also splits it out alone)."""
    resource = template(name, state)
    resource["resources"][0]["type"] = "Microsoft.Sql/servers/databases/transparentDataEncryption"
    return resource


def tde_child(name: str, state: str) -> dict[str, Any]:
    """A top-level transparentDataEncryption resource of a database declared elsewhere in the template."""
    return {
        "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
        "apiVersion": "2023-05-01-preview",
        "name": f"{SERVER}/{name}/current",
        "properties": {"state": state},
    }


CASES = (
    # azurerm's transparent_data_encryption_enabled defaults to true; a template database without a TDE child
    # gets the service default, Enabled.
    Case(
        "db-default",
        Status.PASS,
        database_json("db-default", "Enabled"),
        terraform("db-default"),
        template("db-default"),
    ),
    Case(
        "db-enabled",
        Status.PASS,
        database_json("db-enabled", "Enabled"),
        terraform("db-enabled", "transparent_data_encryption_enabled = true"),
        template("db-enabled", "Enabled"),
    ),
    Case(
        "db-disabled",
        Status.FAIL,
        database_json("db-disabled", "Disabled"),
        terraform("db-disabled", "transparent_data_encryption_enabled = false"),
        template("db-disabled", "Disabled"),
    ),
    Case(
        "db-inline-full-type",
        Status.FAIL,
        database_json("db-inline-full-type", "Disabled"),
        terraform("db-inline-full-type", "transparent_data_encryption_enabled = false"),
        inline_full_type("db-inline-full-type", "Disabled"),
    ),
    Case(
        "db-child-disabled",
        Status.FAIL,
        database_json("db-child-disabled", "Disabled"),
        terraform("db-child-disabled", "transparent_data_encryption_enabled = false"),
        tde_child("db-child-disabled", "Disabled"),
    ),
)


def build(raw: Mapping[str, Any]) -> SqlDatabase:
    """The record a live scan builds of the database and its TDE body."""
    server = sql_server(
        {"id": arm_id("Microsoft.Sql/servers", SERVER), "name": SERVER, "location": "eastus", "properties": {}},
        SUBSCRIPTION,
    )
    return with_tde_body(raw["tde"], sql_database(raw["database"], server))


def test_sql_database_tde_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity(RULE, build, CASES, tmp_path)


# A value the code leaves to deployment, and a TDE body without its state, cannot be shown: both doors give
# an error, each naming what it lacks (so the messages differ, unlike the table above).
UNKNOWN = (
    Case(
        "db-tde-variable",
        Status.ERROR,
        database_json("db-tde-variable", None),
        'variable "tde" {\n  type = bool\n}\n\n'
        + terraform("db-tde-variable", "transparent_data_encryption_enabled = var.tde"),
        template("db-tde-variable", "[parameters('tdeState')]"),
    ),
)


def test_a_tde_state_left_to_deployment_is_an_error_through_every_door(tmp_path: Path) -> None:
    pytest.importorskip("checkov")
    rule = builtin_registry()[RULE]
    (case,) = UNKNOWN
    code = iac_doors(rule, UNKNOWN, tmp_path)
    said = {"live": live_door(rule, build, case), **{lang: door for (_, lang), door in code.items()}}
    assert {door: s.status for door, s in said.items()} == {
        "live": Status.ERROR,
        "terraform": Status.ERROR,
        "arm": Status.ERROR,
    }
    assert (said["live"].status, said["live"].message) == (Status.ERROR, "TDE state not collected")
    assert "transparent_data_encryption_enabled" in said["terraform"].message
    assert "parameters('tdeState')" in said["arm"].message

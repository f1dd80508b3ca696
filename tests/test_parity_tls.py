"""ENC-04 (app_service_https_tls) through the live door and the IaC door: one case table, the same verdicts.

The certificates and handshakes of ENC-04 (tls_certificate) are judged on live probes only: code holds no
certificate a client is served.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.checks import builtin_registry
from auditor.collect.web import web_app
from auditor.model import Status
from auditor.records.web import WebApp
from tests.parity import SUBSCRIPTION, Case, arm_id, assert_parity, live_door

UNKNOWN_TLS = "Cannot judge transport settings: siteConfig.minTlsVersion not reported"
HTTP_ANSWERED = "HTTPS only is off, so the site also answers over plain HTTP"


def site_json(name: str, *, https_only: bool | None = True, min_tls: str | None = "1.2") -> dict[str, Any]:
    """A site as ARM GET returns it (shape of Microsoft's WebApps_Get example), siteConfig included."""
    return {
        "id": arm_id("Microsoft.Web/sites", name),
        "name": name,
        "type": "Microsoft.Web/sites",
        "kind": "app",
        "location": "eastus",
        "properties": {
            "state": "Running",
            "hostNames": [f"{name}.azurewebsites.net"],
            "httpsOnly": https_only,
            "siteConfig": {"minTlsVersion": min_tls, "ftpsState": "Disabled"},
        },
    }


def terraform(name: str, kind: str = "azurerm_linux_web_app", *, https: str = "", tls: str = "") -> str:
    """A web app declared in Terraform; ``https`` and ``tls`` are the values of https_only and the site_config
    minimum TLS attribute as written in HCL, left out when empty."""
    attribute = "min_tls_version" if kind == "azurerm_app_service" else "minimum_tls_version"
    https_line = f"  https_only = {https}\n" if https else ""
    tls_line = f"    {attribute} = {tls}\n" if tls else ""
    return (
        f'resource "{kind}" "{name}" {{\n  name = "{name}"\n  location = "eastus"\n'
        f'  resource_group_name = "rg-parity"\n  service_plan_id = "/plans/plan-parity"\n{https_line}'
        f"  site_config {{\n{tls_line}  }}\n}}\n"
    )


def template(name: str, properties: Mapping[str, Any], *children: Mapping[str, Any]) -> dict[str, Any]:
    """The ARM template resource of the same site, with nested child resources."""
    resource: dict[str, Any] = {
        "type": "Microsoft.Web/sites",
        "apiVersion": "2023-01-01",
        "name": name,
        "location": "eastus",
        "kind": "app",
        "properties": {"serverFarmId": "/plans/plan-parity", **properties},
    }
    if children:
        resource["resources"] = list(children)
    return resource


def web_config(min_tls: str) -> dict[str, Any]:
    """A ``config`` child named ``web`` nested in the site."""
    return {"type": "config", "apiVersion": "2023-01-01", "name": "web", "properties": {"minTlsVersion": min_tls}}


SECURE: dict[str, Any] = {"httpsOnly": True, "siteConfig": {"minTlsVersion": "1.2"}}
CASES = (
    Case(
        "app-secure",
        Status.PASS,
        site_json("app-secure"),
        terraform("app-secure", https="true", tls='"1.2"'),
        template("app-secure", SECURE),
    ),
    Case(
        "app-tls13",
        Status.PASS,
        site_json("app-tls13", min_tls="1.3"),
        terraform("app-tls13", "azurerm_windows_web_app", https="true", tls='"1.3"'),
        template("app-tls13", {"httpsOnly": True, "siteConfig": {"minTlsVersion": "1.3"}}),
    ),
    Case(
        # Code that leaves both out gets the defaults: HTTP answered, TLS 1.2.
        "app-defaults",
        Status.FAIL,
        site_json("app-defaults", https_only=False),
        terraform("app-defaults"),
        template("app-defaults", {}),
    ),
    Case(
        "app-http",
        Status.FAIL,
        site_json("app-http", https_only=False),
        terraform("app-http", https="false"),
        template("app-http", {"httpsOnly": False}),
    ),
    Case(
        "app-tls10",
        Status.FAIL,
        site_json("app-tls10", min_tls="1.0"),
        terraform("app-tls10", "azurerm_app_service", https="true", tls='"1.0"'),
        template("app-tls10", {"httpsOnly": True, "siteConfig": {"minTlsVersion": "1.0"}}),
    ),
    Case(
        # The nested config/web child sets the version over siteConfig, as ARM applies it.
        "app-config-tls11",
        Status.FAIL,
        site_json("app-config-tls11", min_tls="1.1"),
        terraform("app-config-tls11", https="true", tls='"1.1"'),
        template("app-config-tls11", SECURE, web_config("1.1")),
    ),
    Case(
        # A version left to a variable or a template parameter is not known from the code.
        "app-tls-variable",
        Status.ERROR,
        site_json("app-tls-variable", min_tls=None),
        terraform("app-tls-variable", https="true", tls="var.tls_version"),
        template("app-tls-variable", {"httpsOnly": True, "siteConfig": {"minTlsVersion": "[parameters('tls')]"}}),
    ),
    Case(
        # A violation stands whatever else is unknown.
        "app-https-variable",
        Status.FAIL,
        site_json("app-https-variable", https_only=None, min_tls="1.1"),
        terraform("app-https-variable", https="var.https_only", tls='"1.1"'),
        template("app-https-variable", {"httpsOnly": "[parameters('https')]", "siteConfig": {"minTlsVersion": "1.1"}}),
    ),
)


def build(raw: Mapping[str, Any]) -> WebApp:
    """The record a live scan builds of the site."""
    return web_app(raw, SUBSCRIPTION)


def test_app_service_https_tls_is_the_same_rule_live_and_in_code(tmp_path: Path) -> None:
    assert_parity("app_service_https_tls", build, CASES, tmp_path)


def test_the_table_shows_the_messages_it_promises() -> None:

    rule = builtin_registry()["app_service_https_tls"]
    said = {case.name: live_door(rule, build, case).message for case in CASES}
    assert said["app-tls-variable"] == UNKNOWN_TLS
    assert said["app-defaults"] == HTTP_ANSWERED
    assert said["app-https-variable"] == "minimum TLS version 1.1 < 1.2; httpsOnly not reported"

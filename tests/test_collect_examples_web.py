"""Microsoft's App Service examples (Microsoft.Web 2025-05-01, the api-version the collector sends) through the
real clients.

The list example's two sites carry a full ``siteConfig`` (TLS 1.2, FTPS ``AllAllowed``) and ``httpsOnly false``:
ENC-04 fails both for answering over plain HTTP. Real lists mostly return a ``siteConfig`` of nulls; with the
list's TLS settings nulled, the collector reads them from ``config/web``, answered with Microsoft's
GetSiteConfig example, and reaches the same values.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.collect import web
from auditor.collect.scan import collect_inventory
from auditor.inventory import Inventory
from auditor.model import Status
from tests import estates as e
from tests.harness import example_body, serve
from tests.test_collect_examples_compute import rehome
from tests.test_collect_integration import judge

WEB = "web/resource-manager/Microsoft.Web/stable/2025-05-01/examples/"


def estate(*, list_without_tls: bool = False, https_only: bool | None = None) -> dict[str, Any]:
    """The subscription's site list as published, and each site's ``config/web`` as the GetSiteConfig example."""
    sites = rehome(example_body(WEB + "ListWebApps.json"), "")
    del sites["type"]  # Added by rehome; a list body has none.
    for site in sites["value"]:
        if list_without_tls:
            site["properties"]["siteConfig"] |= {"minTlsVersion": None, "ftpsState": None}
        if https_only is not None:
            site["properties"]["httpsOnly"] = https_only
    config = rehome(example_body(WEB + "GetSiteConfig.json"), "")
    found = e.estate()
    found["raw"] = [
        {"path": f"/subscriptions/{e.SUB}/providers/{web.SITES_API}", "status": 200, "body": json.dumps(sites)},
        *({"path": site["id"] + "/config/web", "status": 200, "body": json.dumps(config)} for site in sites["value"]),
    ]
    return found


def scan(served: dict[str, Any]) -> Inventory:
    """Collect App Service sites."""
    with serve(served) as (_, session):
        return collect_inventory(session, steps=web.STEPS)


def verdicts(inventory: Inventory) -> dict[str, tuple[Status, str]]:
    """ENC-04 verdict and message by site name."""
    return {
        f.resource_name: (f.status, f.message)
        for f in judge(inventory).findings
        if f.check_id == "app_service_https_tls"
    }


def test_the_site_list_is_collected_whole() -> None:
    inventory = scan(estate())
    assert not [c for c in inventory.collections if not c.ok]
    sites = {s.name: s for s in inventory.web_apps}
    assert sorted(sites) == ["sitef6141", "sitef7252"]
    for site in sites.values():
        assert site.unreadable == () and site.kind == "app" and site.location == "East US"
        assert (site.https_only, site.min_tls_version, site.ftps_state) == (False, "1.2", "AllAllowed")
        # Only the platform's own host names: no custom domain to bind a certificate to.
        assert site.custom_host_names == ()


def test_sites_that_answer_over_http_fail_enc04() -> None:
    found = verdicts(scan(estate()))
    assert set(found) == {"sitef6141", "sitef7252"}
    for status, message in found.values():
        assert status is Status.FAIL and "HTTPS only is off" in message


def test_tls_settings_missing_from_the_list_are_read_from_config_web() -> None:
    inventory = scan(estate(list_without_tls=True))
    assert not [c for c in inventory.collections if not c.ok]
    for site in inventory.web_apps:
        assert site.unreadable == ()
        assert (site.min_tls_version, site.ftps_state) == ("1.2", "AllAllowed")


def test_https_only_with_tls_1_2_from_config_web_passes_enc04() -> None:
    found = verdicts(scan(estate(list_without_tls=True, https_only=True)))
    assert found == {name: (Status.PASS, "HTTPS only, minimum TLS version 1.2") for name in ("sitef6141", "sitef7252")}

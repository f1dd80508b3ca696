"""App Service collector: sites, their host names and their TLS settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from auditor.arm_ids import resource_group_of
from auditor.collect.base import (
    TAGS_FIELD,
    UNKNOWN,
    Enrichment,
    Field,
    Listing,
    Reader,
    arm_pipeline,
    build_all,
    child_reader,
    get_object,
    list_objects,
    path,
    resource_id,
    resource_path,
    tags_of,
)
from auditor.collect.clients import WEB_CLIENT
from auditor.collect.session import AzureSession
from auditor.records.web import WebApp

# Host names the platform gives every site (public and sovereign clouds, App Service Environments);
# any other host name was bound by the owner and carries the owner's certificate.
PLATFORM_HOST_SUFFIXES = (
    ".azurewebsites.net",
    ".azurewebsites.us",
    ".chinacloudsites.cn",
    ".appserviceenvironment.net",
    ".appserviceenvironment.us",
)


# The api-version azure-mgmt-web 11.0 sends.
API_VERSION = "2025-05-01"
SITES_API = "Microsoft.Web/sites"

# https://learn.microsoft.com/rest/api/appservice/web-apps/list: the list's siteConfig is mostly nulls,
# so the TLS settings are read from config/web where the list lacks them.
SITE_CONTRACT = (
    Field("id", True),
    Field("name", True),
    Field("location", True),
    Field("kind", False, UNKNOWN),
    Field("properties.httpsOnly", False, UNKNOWN),
    Field("properties.siteConfig.minTlsVersion", False, "read from config/web"),
    Field("properties.siteConfig.ftpsState", False, "read from config/web"),
    Field("properties.hostNames", False, "no host names"),
    Field("properties.hostNameSslStates", False, "no SSL bindings"),
    TAGS_FIELD,
)
# https://learn.microsoft.com/rest/api/appservice/web-apps/get-configuration
CONFIG_CONTRACT = (
    Field("properties.minTlsVersion", True),
    Field("properties.ftpsState", False, UNKNOWN),
)


def _pipeline(session: AzureSession, subscription_id: str) -> Any:
    return arm_pipeline(session, WEB_CLIENT, subscription_id)


def custom_host_names(host_names: tuple[str, ...]) -> tuple[str, ...]:
    """The host names that are not the platform's own."""
    return tuple(h for h in host_names if not h.lower().rstrip(".").endswith(PLATFORM_HOST_SUFFIXES))


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return tuple(seen.values())


def web_app(raw: Mapping[str, Any], subscription_id: str) -> WebApp:
    """A site record; TLS settings come from the listed siteConfig when the list carries them."""
    site = Reader(raw)
    site_id = resource_id(site, f"/subscriptions/{subscription_id}", SITES_API)
    props = site.part("properties")
    config = props.part("siteConfig")
    host_names = props.strings("hostNames")
    # SSL bindings may name host names that are not (or no longer) enabled on the site.
    bound = _unique([*host_names, *(n for s in props.items("hostNameSslStates") if (n := s.text("name")))])
    return WebApp(
        id=site_id,
        name=site.text("name") or "",
        subscription_id=subscription_id,
        resource_group=resource_group_of(site_id),
        location=site.text("location") or "",
        kind=site.text("kind"),
        https_only=props.flag("httpsOnly"),
        min_tls_version=config.text("minTlsVersion"),
        host_names=host_names,
        custom_host_names=custom_host_names(bound),
        ftps_state=config.text("ftpsState"),
        tags=tags_of(raw),
        unreadable=site.found(),
    )


def list_web_apps(session: AzureSession, subscription_id: str) -> Iterator[WebApp]:
    """Every App Service site of the subscription (web, API and function apps alike)."""
    url = path("/subscriptions/{}/providers/" + SITES_API, subscription_id, api_version=API_VERSION)
    return build_all(list_objects(_pipeline(session, subscription_id), session.arm_url, url), web_app, subscription_id)


def with_configuration(session: AzureSession, app: WebApp) -> WebApp:
    """The site with minimum TLS version and FTPS state from its ``config/web`` resource."""
    url = session.arm_url + resource_path(app.id) + path("/config/web", api_version=API_VERSION)
    config = child_reader(app, "config/web", get_object(_pipeline(session, app.subscription_id), url))
    ftps = config.text("properties.ftpsState")
    return dataclasses.replace(
        app,
        min_tls_version=config.text("properties.minTlsVersion", required=True),
        ftps_state=ftps if ftps is not None else app.ftps_state,
        unreadable=config.found(),
    )


STEPS = (
    Listing(SITES_API, "web_apps", list_web_apps),
    # The list's siteConfig is mostly nulls in practice; read the configuration only where it lacks TLS.
    Enrichment(
        "Microsoft.Web/sites/config",
        "web_apps",
        with_configuration,
        applies=lambda app: app.min_tls_version is None,
    ),
)

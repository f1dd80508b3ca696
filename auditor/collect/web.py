"""App Service collector: sites, their host names and their TLS settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from azure.mgmt.web import WebSiteManagementClient

from auditor.arm_ids import name_of, resource_group_of
from auditor.collect.base import Enrichment, Listing, text
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


def _client(session: AzureSession, subscription_id: str) -> WebSiteManagementClient:
    return session.client(WebSiteManagementClient, subscription_id)


def custom_host_names(host_names: tuple[str, ...]) -> tuple[str, ...]:
    """The host names that are not the platform's own."""
    return tuple(h for h in host_names if not h.lower().rstrip(".").endswith(PLATFORM_HOST_SUFFIXES))


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return tuple(seen.values())


def web_app(site: Any, subscription_id: str) -> WebApp:
    """A site record; TLS settings come from the listed siteConfig when the list carries them."""
    properties = site.properties
    config = properties.site_config if properties else None
    host_names = tuple((properties.host_names if properties else None) or ())
    # SSL bindings may name host names that are not (or no longer) enabled on the site.
    ssl_states = (properties.host_name_ssl_states if properties else None) or ()
    bound = _unique([*host_names, *(s.name for s in ssl_states if s.name)])
    return WebApp(
        id=site.id,
        name=site.name,
        subscription_id=subscription_id,
        resource_group=resource_group_of(site.id),
        location=site.location or "",
        kind=site.kind,
        https_only=properties.https_only if properties else None,
        min_tls_version=text(config.min_tls_version) if config else None,
        host_names=host_names,
        custom_host_names=custom_host_names(bound),
        ftps_state=text(config.ftps_state) if config else None,
    )


def list_web_apps(session: AzureSession, subscription_id: str) -> Iterator[WebApp]:
    """Every App Service site of the subscription (web, API and function apps alike)."""
    for site in _client(session, subscription_id).web_apps.list():
        yield web_app(site, subscription_id)


def with_configuration(session: AzureSession, app: WebApp) -> WebApp:
    """The site with minimum TLS version and FTPS state from its ``config/web`` resource."""
    config = _client(session, app.subscription_id).web_apps.get_configuration(app.resource_group, name_of(app.id))
    settings = config.properties
    if settings is None:
        return app
    return dataclasses.replace(
        app,
        min_tls_version=text(settings.min_tls_version),
        ftps_state=text(settings.ftps_state) if settings.ftps_state is not None else app.ftps_state,
    )


STEPS = (
    Listing("Microsoft.Web/sites", "web_apps", list_web_apps),
    # The list's siteConfig is mostly nulls in practice; read the configuration only where it lacks TLS.
    Enrichment(
        "Microsoft.Web/sites/config",
        "web_apps",
        with_configuration,
        applies=lambda app: app.min_tls_version is None,
    ),
)

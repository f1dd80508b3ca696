"""App Service records: sites' transport settings and host names."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.records.tags import NO_TAGS, Tags
from auditor.records.unreadable import Unreadable


@dataclass(frozen=True)
class WebApp:
    """An App Service site."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    kind: str | None
    https_only: bool | None
    min_tls_version: str | None
    host_names: tuple[str, ...] = ()
    custom_host_names: tuple[str, ...] = ()
    ftps_state: str | None = None
    type: str = "Microsoft.Web/sites"
    # What Azure returned that could not be read (see auditor.collect.base); never judged as compliant.
    unreadable: tuple[Unreadable, ...] = ()
    # ARM's top-level tags (auditor.collect.base.tags_of): informational, never judged.
    tags: Tags = NO_TAGS

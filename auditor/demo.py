"""Scan an estate through the local endpoint with the real SDK clients: the demo's path, and the tests'."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from auditor.baseline import Baseline
from auditor.collect.scan import Progress, collect_inventory
from auditor.collect.session import AzureSession
from auditor.collect.sources import Source
from auditor.collect.tls import with_tls_probe
from auditor.emulator import Emulator, Estate, RecordedRequest
from auditor.emulator.tls_sites import DemoTlsSites
from auditor.inventory import Inventory
from auditor.parameters import Params


def scan_estate(
    estate: Estate, *, max_workers: int = 8, progress: Progress | None = None, source: Source = "arm"
) -> tuple[Inventory, list[RecordedRequest]]:
    """Serve the estate on a free local port, collect it, and return the inventory and the requests served."""
    with (
        Emulator(estate) as endpoint,
        AzureSession.for_emulator(endpoint.url, str(endpoint.ca_file), endpoint.token) as session,
    ):
        inventory = collect_inventory(session, max_workers=max_workers, progress=progress, source=source)
        served = endpoint.requests
    if estate.as_of:
        # A sample estate is a picture of one moment: its backup times and expiries are judged then.
        inventory = dataclasses.replace(inventory, as_of=estate.as_of)
    return inventory, served


def scan_demo(
    estate: Estate,
    baseline: Baseline,
    overrides: Mapping[str, str],
    *,
    tls_endpoints: Sequence[str] | None = None,
    progress: Progress | None = None,
    source: Source = "arm",
) -> tuple[Inventory, Params, list[RecordedRequest]]:
    """The demo's whole collection: the estate through the endpoint, then its web endpoints over TLS.

    Unless TLS endpoints are given (--tls-endpoint), the demo probes local servers standing for the MUL2
    site, so ENC-04 is judged on real handshakes.
    """
    params = baseline.resolve_params(overrides)
    inventory, served = scan_estate(estate, progress=progress, source=source)
    with DemoTlsSites(inventory.reference_time) as sites:
        endpoints = sites.endpoints if tls_endpoints is None else tuple(tls_endpoints)
        ca_file = str(sites.ca_file) if tls_endpoints is None else None
        inventory = with_tls_probe(inventory, endpoints, ca_file=ca_file, timeout=3.0)
    return inventory, params, served

"""Scan an estate through the local endpoint with the real SDK clients: the demo's path, and the tests'."""

from __future__ import annotations

import dataclasses

from auditor.collect.scan import collect_inventory
from auditor.collect.session import AzureSession
from auditor.emulator import Emulator, Estate, RecordedRequest
from auditor.inventory import Inventory


def scan_estate(estate: Estate, *, max_workers: int = 8) -> tuple[Inventory, list[RecordedRequest]]:
    """Serve the estate on a free local port, collect it, and return the inventory and the requests served."""
    with (
        Emulator(estate) as endpoint,
        AzureSession.for_emulator(endpoint.url, str(endpoint.ca_file), endpoint.token) as session,
    ):
        inventory = collect_inventory(session, max_workers=max_workers)
        served = endpoint.requests
    if estate.as_of:
        # A sample estate is a picture of one moment: its backup times and expiries are judged then.
        inventory = dataclasses.replace(inventory, as_of=estate.as_of)
    return inventory, served

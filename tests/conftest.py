"""Suite-wide guarantees."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.demo import scan_estate
from auditor.emulator import demo_estate_path, load_estate
from auditor.inventory import Inventory
from tests import verdicts_seen
from tests.harness import AUDITED_REQUESTS, WRITE_METHODS, is_read_only_post

# Before any test module imports a check: the catalogue meta-test runs the unit tests with this set.
if os.environ.get(verdicts_seen.RECORD_ENV):
    verdicts_seen.install()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the recorded verdicts, when asked to record them."""
    record = os.environ.get(verdicts_seen.RECORD_ENV)
    if record:
        verdicts_seen.write(Path(record))


@pytest.fixture(scope="session", autouse=True)
def no_write_ever_reaches_an_endpoint() -> Iterator[None]:
    """After the whole suite: the auditor sent no write to any endpoint it scanned."""
    yield
    writes = [r for r in AUDITED_REQUESTS if r.method.upper() in WRITE_METHODS and not is_read_only_post(r)]
    assert not writes, f"the auditor sent writes: {writes[:5]}"


@pytest.fixture(scope="session")
def demo_inventory() -> Inventory:
    """The demo estate collected once through the local endpoint, judged at its pinned moment."""
    inventory, served = scan_estate(load_estate(demo_estate_path()))
    AUDITED_REQUESTS.extend(served)
    return inventory

"""Suite-wide guarantees."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import AUDITED_REQUESTS, WRITE_METHODS


@pytest.fixture(scope="session", autouse=True)
def no_write_ever_reaches_an_endpoint() -> Iterator[None]:
    """After the whole suite: the auditor sent no write to any endpoint it scanned."""
    yield
    writes = [r for r in AUDITED_REQUESTS if r.method.upper() in WRITE_METHODS]
    assert not writes, f"the auditor sent writes: {writes[:5]}"

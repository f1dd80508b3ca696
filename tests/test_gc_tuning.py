"""The scan's garbage-collection thresholds: raised, never lowered."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from auditor.gc_tuning import SCAN_THRESHOLDS, tune_for_scan


@pytest.fixture
def thresholds() -> Iterator[None]:
    """Put this process's thresholds back after the test."""
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_raises_the_defaults_to_the_scan_thresholds() -> None:
    gc.set_threshold(700, 10, 10)
    tune_for_scan()
    assert gc.get_threshold() == SCAN_THRESHOLDS


@pytest.mark.usefixtures("thresholds")
def test_never_collects_more_often_than_before() -> None:
    gc.set_threshold(50_000, 5, 1_000)
    tune_for_scan()
    assert gc.get_threshold() == (50_000, SCAN_THRESHOLDS[1], 1_000)

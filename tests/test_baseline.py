"""Loading and validating baseline.toml, and --param overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.baseline import BaselineError, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.registry import Registry

REGISTRY = builtin_registry()

MINIMAL = """
[baseline]
name = "test"
version = "1"
policy = "test policy"

[parameters.allowed_rdp_sources]
type = "cidr_list"
default = ["203.0.113.0/24"]
description = "whitelist"
quote = "denied excepted the whitelisted"

[[controls]]
id = "NET-01"
title = "RDP closed"
area = "network"
severity = "critical"
mode = "automated"
checks = ["nsg_rdp_exposure"]
parameters = ["allowed_rdp_sources"]
quote = "Remote desktop connection by public internet IP's is denied excepted the whitelisted."
description = "rules"
[controls.frameworks]
nist_800_53 = ["SC-7"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, registry: Registry = REGISTRY) -> str:
    with pytest.raises(BaselineError) as caught:
        load_baseline(write(tmp_path, text), registry)
    return str(caught.value)


def test_minimal_baseline_loads(tmp_path: Path) -> None:
    baseline = load_baseline(write(tmp_path, MINIMAL), REGISTRY)
    control = baseline.control("NET-01")
    assert control.checks == ("nsg_rdp_exposure",)
    assert control.frameworks == {"nist_800_53": ("SC-7",)}
    assert len(baseline.sha256) == 64


def test_shipped_baseline_holds_the_whole_catalogue() -> None:
    baseline = load_baseline(default_baseline_path(), REGISTRY)
    ids = [c.id for c in baseline.controls]
    assert len(ids) == len(set(ids))
    assert all(c.quote.strip() and c.frameworks.get("nist_800_53") for c in baseline.controls)
    for spec in baseline.parameters.values():
        assert spec.quote.strip(), spec.name


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL.replace('version = "1"', "version = "))
    assert str(tmp_path / "baseline.toml") in message
    assert re.search(r"line \d+", message)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('mode = "automated"', 'mode = "automated"\ncolour = "red"'), "control NET-01: unknown key 'colour'"),
        (('severity = "critical"', 'severity = "urgent"'), "control NET-01: key 'severity'"),
        (('checks = ["nsg_rdp_exposure"]', 'checks = "nsg_rdp_exposure"'), "control NET-01: key 'checks'"),
        (('checks = ["nsg_rdp_exposure"]', 'checks = ["no_such_check"]'), "unknown check 'no_such_check'"),
        (('parameters = ["allowed_rdp_sources"]', "parameters = []"), "needs parameter 'allowed_rdp_sources'"),
        (
            ('default = ["203.0.113.0/24"]', 'default = ["not-a-cidr"]'),
            "parameter 'allowed_rdp_sources': key 'default'",
        ),
        (('type = "cidr_list"', 'type = "ip"'), "key 'type'"),
        (('title = "RDP closed"\n', ""), "control NET-01: missing key 'title'"),
    ],
    ids=[
        "unknown key",
        "bad severity",
        "wrong type",
        "unknown check",
        "missing parameter",
        "bad default",
        "bad param type",
        "missing title",
    ],
)
def test_invalid_entries_are_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in MINIMAL
    assert expected in load_error(tmp_path, MINIMAL.replace(old, new, 1))


def test_duplicate_control_ids_are_rejected(tmp_path: Path) -> None:
    control = MINIMAL[MINIMAL.index("[[controls]]") :]
    assert "duplicate control id 'NET-01'" in load_error(tmp_path, MINIMAL + control)


def test_missing_file_is_a_baseline_error(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="cannot read"):
        load_baseline(tmp_path / "absent.toml", REGISTRY)


def test_param_overrides_parse_lists_and_reject_bad_values(tmp_path: Path) -> None:
    baseline = load_baseline(write(tmp_path, MINIMAL), REGISTRY)
    params = baseline.resolve_params({"allowed_rdp_sources": "203.0.113.0/24, 198.51.100.7/32"})
    assert params.get_list("allowed_rdp_sources") == ("203.0.113.0/24", "198.51.100.7/32")
    with pytest.raises(BaselineError, match="--param allowed_rdp_sources: 'x' is not"):
        baseline.resolve_params({"allowed_rdp_sources": "x"})
    with pytest.raises(BaselineError, match="--param nope: unknown parameter"):
        baseline.resolve_params({"nope": "1"})

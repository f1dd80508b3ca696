"""Resource tags through the local endpoint and the real SDK clients, into findings, CSV, JSON and snapshots;
and the CSV's weakened-parameter column."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import main
from auditor.collect.base import tags_of
from auditor.collect.scan import collect_inventory
from auditor.evaluate import evaluate
from auditor.inventory import Inventory
from auditor.model import Status
from auditor.records.tags import Tags
from auditor.reports import csv as csv_report
from auditor.reports import write_reports
from auditor.results import ScanResult
from auditor.snapshot import load_snapshot, save_snapshot
from tests import estates as e
from tests.harness import core_steps, serve

TAGS = {"owner": "net-team", "cost-center": "42", "data-classification": "student-records"}
# Tag bodies ARM should not send; each must cost the resource nothing but the odd entries.
ODD_TAGS: list[tuple[Any, dict[str, str]]] = [
    (None, {}),
    ([], {}),
    (["owner", "x"], {}),
    ("owner=x", {}),
    (7, {}),
    ({"owner": "x", "count": 5, "list": [1], "none": None, "flag": True, "nested": {"a": "b"}}, {"owner": "x"}),
]


def _nsg(name: str, tags: Any = dataclasses.MISSING) -> dict[str, Any]:
    """A closed NSG (SSH only from a private range), tagged with ``tags`` unless left out."""
    body = e.nsg(name, ("ssh", 100, {"sourceAddressPrefix": "10.0.0.0/8", "destinationPortRange": "22"}))
    if tags is not dataclasses.MISSING:
        body["tags"] = tags
    return body


def scan(estate: dict[str, Any]) -> Inventory:
    """Collect the estate through the endpoint."""
    with serve(estate) as (_, session):
        return collect_inventory(session, steps=core_steps())


def judge(inventory: Inventory) -> ScanResult:
    """Evaluate with the shipped baseline."""
    registry = builtin_registry()
    baseline = load_baseline(default_baseline_path(), registry)
    return evaluate(inventory, baseline, registry, baseline.resolve_params())


def csv_records(text: str) -> list[dict[str, str]]:
    """findings.csv rows as header -> cell."""
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_tags_of_keeps_string_entries_and_reads_absence_as_no_tags() -> None:
    assert tags_of({}) == {}
    assert tags_of({"tags": None}) == {}
    assert tags_of({"tags": {"b": "2", "a": "1"}}) == {"a": "1", "b": "2"}
    for body, expected in ODD_TAGS:
        assert tags_of({"tags": body}) == expected


def test_tags_are_immutable_hashable_and_compare_as_mappings() -> None:
    tags = Tags({"b": "2", "a": "1"})
    assert list(tags) == ["a", "b"]
    assert tags == {"a": "1", "b": "2"} and tags == Tags({"a": "1", "b": "2"}) and tags != {"a": "1"}
    assert hash(tags) == hash(Tags({"a": "1", "b": "2"}))
    assert tags["a"] == "1" and tags.get("c") is None
    with pytest.raises(KeyError):
        tags["c"]


def test_a_resources_tags_reach_its_findings_the_csv_and_findings_json(tmp_path: Path) -> None:
    inventory = scan(e.estate(_nsg("nsg-tagged", TAGS), _nsg("nsg-untagged")))
    records = {n.name: n for n in inventory.network_security_groups}
    assert records["nsg-tagged"].tags == TAGS
    assert records["nsg-untagged"].tags == {}
    hash(records["nsg-tagged"])  # records stay hashable with their tags

    result = judge(inventory)
    tagged = [f for f in result.findings if f.resource_name == "nsg-tagged"]
    assert tagged and all(f.tags == TAGS for f in tagged)
    assert all(f.tags == {} for f in result.findings if f.resource_name == "nsg-untagged")

    write_reports(result, tmp_path, ["csv", "json"])
    rows = csv_records((tmp_path / "findings.csv").read_text(encoding="utf-8"))
    cells = {r["tags"] for r in rows if r["resource_name"] == "nsg-tagged"}
    assert cells == {"cost-center=42; data-classification=student-records; owner=net-team"}
    assert {r["tags"] for r in rows if r["resource_name"] == "nsg-untagged"} == {""}
    document = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    written = [f["tags"] for f in document["findings"] if f["resource_id"] == records["nsg-tagged"].id]
    assert written and all(t == TAGS for t in written)


@pytest.mark.parametrize(("body", "expected"), ODD_TAGS, ids=[repr(b)[:30] for b, _ in ODD_TAGS])
def test_odd_tag_bodies_do_not_cost_the_resource_its_verdict(body: Any, expected: dict[str, str]) -> None:
    inventory = scan(e.estate(_nsg("nsg-odd", body), _nsg("nsg-plain")))
    records = {n.name: n for n in inventory.network_security_groups}
    assert records["nsg-odd"].tags == expected
    assert records["nsg-odd"].unreadable == ()

    def verdicts(name: str) -> dict[str, Status]:
        return {f.control_id: f.status for f in judge(inventory).findings if f.resource_name == name}

    odd = verdicts("nsg-odd")
    assert odd and odd == verdicts("nsg-plain")
    assert Status.ERROR not in odd.values()
    assert odd.get("NET-01") is Status.PASS


def test_tags_survive_the_snapshot_round_trip(tmp_path: Path) -> None:
    inventory = scan(e.estate(_nsg("nsg-tagged", TAGS), _nsg("nsg-untagged")))
    path = tmp_path / "inventory.json"
    save_snapshot(inventory, path)
    loaded = load_snapshot(path)
    assert loaded == inventory
    (tagged,) = [n for n in loaded.network_security_groups if n.name == "nsg-tagged"]
    assert isinstance(tagged.tags, Tags) and tagged.tags == TAGS
    assert judge(loaded).findings == judge(inventory).findings


def test_a_snapshot_with_a_non_string_tag_value_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = scan(e.estate(_nsg("nsg-tagged", TAGS)))
    path = tmp_path / "inventory.json"
    save_snapshot(inventory, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["inventory"]["network_security_groups"][0]["tags"] = {"owner": 5}
    path.write_text(json.dumps(document), encoding="utf-8")
    assert main(["evaluate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "network_security_groups[0].tags: expected an object of string tag values" in err
    assert not (tmp_path / "out").exists()


def test_csv_weakened_parameters_column_is_the_same_on_every_row_and_empty_when_none() -> None:
    result = judge(scan(e.estate(_nsg("nsg-a"), _nsg("nsg-b"))))
    assert {r["weakened_parameters"] for r in csv_records(csv_report.render(result))} == {""}
    weakened = {"exposed_ports": "the list is empty", "allowed_rdp_sources": "'0.0.0.0/0' admits every source"}
    metadata = dataclasses.replace(result.metadata, weakened_parameters=weakened)
    rows = csv_records(csv_report.render(dataclasses.replace(result, metadata=metadata)))
    assert len(rows) == len(result.findings) > 1
    expected = "allowed_rdp_sources: '0.0.0.0/0' admits every source; exposed_ports: the list is empty"
    assert {r["weakened_parameters"] for r in rows} == {expected}


def test_demo_with_an_allowed_weakening_names_it_in_the_csv(tmp_path: Path) -> None:
    text = default_baseline_path().read_text(encoding="utf-8")
    # allowed_rdp_sources' weakening line, after its quote (other list parameters share the line itself).
    old = 'is denied excepted the whitelisted."\nweakened_by = "match_all"\n'
    assert text.count(old) == 1
    baseline = tmp_path / "baseline.toml"
    baseline.write_text(text.replace(old, old + "allow_weakening = true\n"), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["demo", "-q", "--baseline", str(baseline), "--param", "allowed_rdp_sources=0.0.0.0/0"]
    assert main([*argv, "--out", str(out), "--format", "csv"]) == 0
    rows = csv_records((out / "findings.csv").read_text(encoding="utf-8"))
    assert {r["weakened_parameters"] for r in rows} == {"allowed_rdp_sources: '0.0.0.0/0' admits every source"}
    # The demo estate's resources carry tags, and so do their rows.
    assert any("data-classification=student-records" in r["tags"] for r in rows)

"""Evaluation: not implemented, manual, fail-closed scopes, crashing checks and roll-ups."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from auditor.baseline import load_baseline
from auditor.checks import builtin_registry
from auditor.evaluate import NOT_IMPLEMENTED, evaluate
from auditor.inventory import Collection, Inventory
from auditor.model import Severity, Status, Verdict, passing
from auditor.parameters import Params
from auditor.records.network import NetworkSecurityGroup
from auditor.registry import Registry, Remediation, check, checks_in
from auditor.results import ScanResult
from tests.builders import SUB, make_inventory, make_nsg, make_rule, make_vault
from tests.test_baseline import MINIMAL

OTHER_SUB = "00000000-0000-0000-0000-000000000002"

EXTRA_CONTROLS = """
[[controls]]
id = "KV-01"
title = "vaults"
area = "keys"
severity = "high"
mode = "automated"
quote = "protected with Azure Vault Keys"
description = "not written yet"

[[controls]]
id = "ORG-01"
title = "training"
area = "organisation"
severity = "low"
mode = "manual"
quote = "All ME authorized personnel sign an information security agreement."
description = "signed agreements"
"""


def result_for(
    tmp_path: Path, inventory: Inventory, registry: Registry | None = None, text: str = MINIMAL
) -> ScanResult:
    registry = registry or builtin_registry()
    path = tmp_path / "baseline.toml"
    path.write_text(text + EXTRA_CONTROLS, encoding="utf-8")
    baseline = load_baseline(path, registry)
    return evaluate(inventory, baseline, registry, baseline.resolve_params())


def test_unimplemented_control_is_an_error_never_a_pass(tmp_path: Path) -> None:
    result = result_for(tmp_path, make_inventory(key_vaults=[make_vault()]))
    (finding,) = [f for f in result.findings if f.control_id == "KV-01"]
    assert finding.status is Status.ERROR
    assert finding.message == NOT_IMPLEMENTED
    assert finding.gates


def test_manual_control_is_manual_and_does_not_gate(tmp_path: Path) -> None:
    result = result_for(tmp_path, make_inventory())
    (finding,) = [f for f in result.findings if f.control_id == "ORG-01"]
    assert finding.status is Status.MANUAL
    assert not finding.gates
    assert {c.id: c.status for c in result.controls}["ORG-01"] is Status.MANUAL


def test_no_resources_is_not_applicable(tmp_path: Path) -> None:
    result = result_for(tmp_path, make_inventory())
    (finding,) = [f for f in result.findings if f.control_id == "NET-01"]
    assert finding.status is Status.NOT_APPLICABLE


def test_failed_listing_turns_its_subscription_into_error_and_spares_others(tmp_path: Path) -> None:
    open_nsg = make_nsg("open", (make_rule(sources=("*",)),))
    elsewhere = make_nsg("elsewhere")
    elsewhere = type(elsewhere)(**{**elsewhere.__dict__, "subscription_id": OTHER_SUB})
    failed = Collection(
        "Microsoft.Network/networkSecurityGroups",
        SUB,
        f"/subscriptions/{SUB}",
        ok=False,
        status_code=403,
        error_code="AuthorizationFailed",
        reason="no read permission",
    )
    inventory = make_inventory(network_security_groups=[open_nsg, elsewhere], collections=[failed])
    findings = [f for f in result_for(tmp_path, inventory).findings if f.control_id == "NET-01"]
    statuses = {f.resource_id: f.status for f in findings}
    assert statuses[f"/subscriptions/{SUB}"] is Status.ERROR
    assert statuses[elsewhere.id] is Status.PASS
    # The open NSG lives in the failed scope: its data cannot be trusted, so it is not judged.
    assert open_nsg.id not in statuses
    error = next(f for f in findings if f.status is Status.ERROR)
    assert "HTTP 403" in error.message and "AuthorizationFailed" in error.message
    assert "Microsoft.Network/networkSecurityGroups" in error.message


@check(
    id="nsg_rdp_exposure",
    title="crashes on one NSG",
    severity=Severity.HIGH,
    resource_types=("x",),
    requires=(),
    remediation=Remediation("none"),
    rationale="test",
    over="network_security_groups",
    subject="network security groups",
    parameters=("allowed_rdp_sources",),
)
def crashing_judge(nsg: NetworkSecurityGroup, params: Params) -> Verdict:
    """A judge with a defect that shows on one record only."""
    if nsg.name == "odd":
        raise RuntimeError("boom")
    return passing(f"{nsg.name} judged, {len(params.get_list('allowed_rdp_sources'))} sources allowed")


def broken_subjects(inventory: Inventory) -> list[NetworkSecurityGroup]:
    """A subjects function with a defect."""
    raise RuntimeError("no subjects")


@check(
    id="nic_rdp_exposure",
    title="cannot list its subjects",
    severity=Severity.HIGH,
    resource_types=("x",),
    requires=(),
    remediation=Remediation("none"),
    rationale="test",
    over=broken_subjects,
    subject="joined records",
)
def judge_without_subjects(record: NetworkSecurityGroup, params: Params) -> Verdict:
    """Never reached: its subjects cannot be listed."""
    return passing("unreachable")


def test_judge_that_crashes_costs_that_record_only(tmp_path: Path) -> None:
    registry = Registry(checks_in(sys.modules[__name__]))
    inventory = make_inventory(network_security_groups=[make_nsg("odd"), make_nsg("plain")])
    result = result_for(tmp_path, inventory, registry=registry)
    by_name = {f.resource_name: f for f in result.findings if f.check_id == "nsg_rdp_exposure"}
    assert by_name["odd"].status is Status.ERROR
    assert "failed on this resource: RuntimeError: boom" in by_name["odd"].message
    assert by_name["plain"].status is Status.PASS
    # The judge read a parameter it declared; evaluation handed it no others.
    assert "sources allowed" in by_name["plain"].message


def test_subjects_that_cannot_be_listed_are_an_error_for_the_rule(tmp_path: Path) -> None:
    registry = Registry(checks_in(sys.modules[__name__]))
    both = MINIMAL.replace('checks = ["nsg_rdp_exposure"]', 'checks = ["nsg_rdp_exposure", "nic_rdp_exposure"]')
    inventory = make_inventory(network_security_groups=[make_nsg("plain")])
    result = result_for(tmp_path, inventory, registry=registry, text=both)
    (finding,) = [f for f in result.findings if f.check_id == "nic_rdp_exposure"]
    assert finding.status is Status.ERROR
    assert "no subjects" in finding.message


def test_judge_reading_an_undeclared_parameter_is_an_error_on_its_record() -> None:
    registered = next(c for c in checks_in(sys.modules[__name__]) if c.spec.id == "nsg_rdp_exposure")
    params = Params({"allowed_rdp_sources": ("203.0.113.0/24",), "exposed_ports": ("22",)})
    assert set(params.only(registered.spec.parameters, "nsg_rdp_exposure").values) == {"allowed_rdp_sources"}
    with pytest.raises(KeyError, match="reads parameter 'exposed_ports' without declaring it"):
        params.only((), "nsg_rdp_exposure").get_list("exposed_ports")


def test_control_rollup_fail_beats_pass_and_counts_add_up(tmp_path: Path) -> None:
    nsgs = [make_nsg("open", (make_rule(sources=("*",)),)), make_nsg("closed")]
    result = result_for(tmp_path, make_inventory(network_security_groups=nsgs))
    summary = {c.id: c for c in result.controls}["NET-01"]
    assert summary.status is Status.FAIL
    assert summary.counts["fail"] == 1 and summary.counts["pass"] == 1
    assert result.gating(Severity.CRITICAL)
    assert {f.id for f in result.findings} == {
        f.id for f in result_for(tmp_path, make_inventory(network_security_groups=nsgs)).findings
    }


def test_check_whose_data_was_never_collected_is_an_error(tmp_path: Path) -> None:
    inventory = make_inventory(network_security_groups=[make_nsg("closed")])
    inventory = type(inventory)(
        **{
            **inventory.__dict__,
            "collections": tuple(c for c in inventory.collections if "networkSecurityGroups" not in c.api),
        }
    )
    (finding,) = [f for f in result_for(tmp_path, inventory).findings if f.control_id == "NET-01"]
    assert finding.status is Status.ERROR
    assert "not collected by this scan: Microsoft.Network/networkSecurityGroups" in finding.message

"""The IaC adapters, verdicts, checkov report parsing and the baseline's [controls.iac] tables, without checkov."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.iac import arm_records, terraform_records
from auditor.iac.conf_values import UndecidableError
from auditor.iac.doors import DOORS, VERDICT_KEY, frameworks_of, judge_resource, rule_of
from auditor.iac.mapping import resource_type_of
from auditor.iac.parameters_file import PARAMS_ENV, current_params, read_params, write_params
from auditor.iac.runner import CheckovError, frameworks_for, parse_report
from auditor.iac.selection import decidable, mapped_check_ids
from auditor.model import Status, Verdict
from auditor.parameters import Params
from tests.test_baseline import MINIMAL, load_error

REGISTRY = builtin_registry()
PARAMS = load_baseline(default_baseline_path(), REGISTRY).resolve_params()


def hcl_rule(**fields: Any) -> dict[str, Any]:
    """An inline security_rule block as checkov's HCL parser gives it: every value wrapped in a list."""
    rule = {
        "name": "r",
        "priority": 200,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "destination_port_range": "3389",
        "source_address_prefix": "*",
    } | fields
    return {key: [value] for key, value in rule.items()}


def nsg(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"name": ["nsg"], "security_rule": list(rules), "__address__": "azurerm_network_security_group.nsg"}


def through_door(rule: str, language: str, resource_type: str, conf: dict[str, Any]) -> Verdict:
    """The rule's verdict on one resource in code, through its IaC door, as checkov's run reaches it."""
    [door] = [d for d in DOORS if d.rule == rule and d.language == language]
    verdict = judge_resource(door, resource_type, conf, PARAMS)
    assert verdict is not None
    return verdict


def rdp(conf: dict[str, Any], resource_type: str = "azurerm_network_security_group") -> Verdict:
    """NET-01's verdict on a Terraform NSG or standalone rule."""
    return through_door("nsg_rdp_exposure", "terraform", resource_type, conf)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (hcl_rule(source_address_prefix="*"), Status.FAIL),
        (hcl_rule(source_address_prefix="internet"), Status.FAIL),
        (hcl_rule(source_address_prefix="ANY"), Status.FAIL),
        (hcl_rule(source_address_prefix="0.0.0.0/0"), Status.FAIL),
        (hcl_rule(source_address_prefix="::/0"), Status.FAIL),
        (hcl_rule(source_address_prefix="198.51.100.0/24"), Status.FAIL),
        (hcl_rule(source_address_prefix="203.0.113.0/25"), Status.PASS),
        (hcl_rule(source_address_prefix="192.168.0.0/16"), Status.PASS),
        (hcl_rule(protocol="Udp", source_address_prefix="Internet"), Status.FAIL),
        (hcl_rule(protocol="Icmp", source_address_prefix="Internet"), Status.PASS),
        (hcl_rule(destination_port_range="3000-4000"), Status.FAIL),
        (hcl_rule(destination_port_range="*"), Status.FAIL),
        (hcl_rule(destination_port_range="22"), Status.PASS),
        (hcl_rule(access="Deny"), Status.PASS),
        # Plural fields: checkov wraps the list in one more list; integers come through as numbers.
        (
            hcl_rule(
                source_address_prefix="",
                source_address_prefixes=["10.0.0.0/8", "198.51.100.9"],
                destination_port_range="",
                destination_port_ranges=[443, "3380-3390"],
            ),
            Status.FAIL,
        ),
    ],
)
def test_terraform_rules_are_judged_by_the_live_rdp_rule(rule: dict[str, Any], expected: Status) -> None:
    assert rdp(nsg(rule)).status is expected


def test_a_higher_priority_deny_shadows_a_later_allow() -> None:
    deny = hcl_rule(name="deny", priority=100, access="Deny", protocol="*", source_address_prefix="Internet")
    allow = hcl_rule(name="allow", priority=300, source_address_prefix="Internet")
    assert rdp(nsg(allow, deny)).status is Status.PASS
    # A Deny that covers only TCP leaves UDP open through the same Allow.
    tcp_deny = hcl_rule(name="deny", priority=100, access="Deny", protocol="Tcp", source_address_prefix="*")
    udp_allow = hcl_rule(name="allow", priority=300, protocol="*", source_address_prefix="Internet")
    verdict = rdp(nsg(udp_allow, tcp_deny))
    assert verdict.status is Status.FAIL and "allow (Udp)" in verdict.message


@pytest.mark.parametrize(
    "source", ["${var.admin_source}", "var.admin_source", "local.sources", "azurerm_public_ip.jump.ip_address"]
)
def test_unrendered_terraform_expressions_are_errors(source: str) -> None:
    conf = nsg(hcl_rule(source_address_prefix=source))
    verdict = rdp(conf)
    assert verdict.status is Status.ERROR and source in verdict.message


def test_dynamic_rule_blocks_are_errors() -> None:
    conf = {"name": ["nsg"], "dynamic": [{"security_rule": {"for_each": ["${var.rules}"]}}]}
    with pytest.raises(UndecidableError, match="dynamically"):
        terraform_records.security_rules("azurerm_network_security_group", conf)


def test_plan_json_empty_strings_and_lists_mean_unset() -> None:
    rule = hcl_rule(source_address_prefix="", source_address_prefixes=[], destination_port_range="")
    record = terraform_records.security_rule(rule, "plan")
    assert record.source_prefixes == () and record.destination_ports == ()


def test_management_ports_ignore_the_rdp_whitelist() -> None:
    rule = hcl_rule(source_address_prefix="203.0.113.10", destination_port_range="5985-5986")
    assert rdp(rule, "azurerm_network_security_rule").status is Status.PASS
    verdict = through_door("nsg_management_port_exposure", "terraform", "azurerm_network_security_rule", rule)
    assert verdict.status is Status.FAIL and "5985 through r" in verdict.message


def arm_rule(**properties: Any) -> dict[str, Any]:
    body = {
        "priority": 100,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "destinationPortRange": "3389",
        "sourceAddressPrefix": "Internet",
    } | properties
    return {"name": "rule", "properties": body}


def test_arm_rules_and_expressions() -> None:
    conf = {"name": "nsg", "properties": {"securityRules": [arm_rule(sourceAddressPrefixes=["0.0.0.0/0"])]}}
    rules = arm_records.security_rules(arm_records.NSG, conf)
    assert rules[0].source_prefixes == ("Internet", "0.0.0.0/0")
    assert through_door("nsg_rdp_exposure", "arm", arm_records.NSG, conf).status is Status.FAIL
    unresolved = {"name": "nsg", "properties": {"securityRules": [arm_rule(sourceAddressPrefix="[parameters('src')]")]}}
    with pytest.raises(UndecidableError, match=r"parameters\('src'\)"):
        arm_records.security_rules(arm_records.NSG, unresolved)
    child = {"name": "nsg/rule", **arm_rule(protocol="*", sourceAddressPrefix="Any")}
    assert through_door("nsg_rdp_exposure", "arm", arm_records.NSG_RULE, child).status is Status.FAIL


def test_storage_geo_redundancy_uses_the_region_pair_and_the_backup_account_list() -> None:
    [door] = [d for d in DOORS if d.rule == "backup_geo_redundancy" and d.language == "terraform"]
    conf = {
        "name": ["stbackup"],
        "account_tier": ["Standard"],
        "account_replication_type": ["GZRS"],
        "location": ["East US"],
        "__address__": "azurerm_storage_account.backup",
    }
    verdict = judge_resource(door, "azurerm_storage_account", conf, PARAMS)
    assert verdict is not None and verdict.status is Status.PASS
    assert verdict.message == "Standard_GZRS replicates from East US to westus"
    only_other = Params({**PARAMS.values, "backup_storage_accounts": ("stother",)})
    assert judge_resource(door, "azurerm_storage_account", conf, only_other) is None
    unknown_location = {**conf, "location": ["${azurerm_resource_group.rg.location}"]}
    verdict = judge_resource(door, "azurerm_storage_account", unknown_location, PARAMS)
    assert verdict is not None and verdict.status is Status.ERROR


# --- checkov's report ------------------------------------------------------------------------------------


def report(
    framework: str, *, passed: list[dict[str, Any]] | None = None, errors: list[str] | None = None
) -> dict[str, Any]:
    return {
        "check_type": framework,
        "results": {
            "passed_checks": passed or [],
            "failed_checks": [],
            "skipped_checks": [],
            "parsing_errors": errors or [],
        },
        "summary": {"checkov_version": "3.3.30"},
    }


RECORD = {
    "check_id": "AUDITOR_NSG_RDP_EXPOSURE",
    "check_name": "n",
    "check_result": {"result": "PASSED", "evaluated_keys": [], VERDICT_KEY: {"status": "pass", "message": "ok"}},
    "file_abs_path": "/repo/infra/main.tf",
    "file_line_range": [3, 9],
    "resource": "module.net.azurerm_network_security_group.web",
}


def test_parse_report_accepts_an_object_a_list_and_several_documents() -> None:
    single = json.dumps(report("terraform", passed=[RECORD]))
    listed = json.dumps([report("terraform", passed=[RECORD]), report("arm", errors=["/repo/bad.json"])])
    for text in (single, listed, single + "\n" + listed):
        run = parse_report(text)
        assert run.version == "3.3.30"
        assert run.records[0].verdict_message == "ok"
        assert (run.records[0].start_line, run.records[0].end_line) == (3, 9)
    assert [e.file_abs_path for e in parse_report(listed).parsing_errors] == ["/repo/bad.json"]
    summary_only = json.dumps({"passed": 0, "failed": 0, "checkov_version": "3.3.30"})
    assert parse_report(summary_only).records == ()
    with pytest.raises(CheckovError, match="no JSON report"):
        parse_report("Traceback ...", stderr="boom")


def test_resource_types_from_addresses() -> None:
    assert resource_type_of("module.a.module.b.azurerm_key_vault.kv") == "azurerm_key_vault"
    assert resource_type_of("azurerm_key_vault.kv") == "azurerm_key_vault"
    assert (
        resource_type_of("Microsoft.Network/networkSecurityGroups/securityRules.nsg/rdp")
        == "Microsoft.Network/networkSecurityGroups/securityRules"
    )


def test_frameworks_follow_the_files(tmp_path: Path) -> None:
    assert frameworks_for([tmp_path]) == ()
    (tmp_path / "main.bicep").write_text("", encoding="utf-8")
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform" / "vendored.tf").write_text("", encoding="utf-8")
    assert frameworks_for([tmp_path]) == ("bicep",)
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    assert frameworks_for([tmp_path, tmp_path / "main.bicep"]) == ("terraform_plan", "arm", "bicep")


# --- parameters handed to checkov -------------------------------------------------------------------------


def test_parameters_round_trip_and_default_without_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    write_params(PARAMS, path)
    assert read_params(path) == PARAMS
    assert current_params({PARAMS_ENV: str(path)}) == PARAMS
    assert current_params({}).get_list("allowed_rdp_sources") == ("203.0.113.0/24",)


# --- the baseline's [controls.iac] tables ----------------------------------------------------------------


IAC_TABLE = '\n[controls.iac]\nterraform = ["CKV_AZURE_9"]\n'


def test_shipped_baseline_maps_or_explains_every_automated_control() -> None:
    baseline = load_baseline(default_baseline_path(), REGISTRY)
    for control in baseline.controls:
        if not control.is_manual:
            assert decidable(control) != bool(control.iac.not_decidable), control.id
    own = {c for c in mapped_check_ids(baseline) if c.startswith("AUDITOR_")}
    assert own == {REGISTRY[r].spec.iac_id for r in REGISTRY.ids() if frameworks_of(r)}
    assert {rule_of(c) for c in own} == {r for r in REGISTRY.ids() if frameworks_of(r)}


def test_iac_table_loads(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text(MINIMAL + IAC_TABLE, encoding="utf-8")
    control = load_baseline(path, REGISTRY).control("NET-01")
    assert control.iac.checks_for("terraform") == ("CKV_AZURE_9",)
    assert control.iac.checks_for("arm") == ()


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            '\n[controls.iac]\ncloudformation = ["CKV_AZURE_9"]\n',
            "control NET-01: [controls.iac]: unknown key 'cloudformation'",
        ),
        ('\n[controls.iac]\narm = ["CKV_AWS_20"]\n', "'CKV_AWS_20' is not a checkov Azure check id"),
        (
            '\n[controls.iac]\narm = ["AUDITOR_BAK_01"]\n',
            "the auditor's own IaC checks follow from the control's checks",
        ),
        ('\n[controls.iac]\nbicep = ["CKV_AZURE_9", "CKV_AZURE_9"]\n', "listed twice"),
        (
            '\n[controls.iac]\nterraform = ["CKV_AZURE_9"]\nnot_decidable = "x"\n',
            "a control with IaC checks is decidable",
        ),
        ('\n[controls.iac]\nterraform = "CKV_AZURE_9"\n', "expected a list of strings"),
    ],
)
def test_iac_table_errors_name_the_control(tmp_path: Path, table: str, expected: str) -> None:
    assert expected in load_error(tmp_path, MINIMAL + table)


def test_every_custom_check_is_registered_with_checkov_for_its_frameworks() -> None:
    pytest.importorskip("checkov")
    from checkov.arm.registry import arm_resource_registry  # noqa: PLC0415
    from checkov.terraform.checks.resource.registry import resource_registry  # noqa: PLC0415

    import auditor.checks.iac.arm_checks  # noqa: PLC0415 - registers the checks
    import auditor.checks.iac.terraform_checks  # noqa: F401, PLC0415

    for rule in REGISTRY.ids():
        spec = REGISTRY[rule].spec
        frameworks = frameworks_of(rule)
        assert (resource_registry.get_check_by_id(spec.iac_id) is not None) == ("terraform" in frameworks)
        assert (arm_resource_registry.get_check_by_id(spec.iac_id) is not None) == ("arm" in frameworks)
    for door in DOORS:
        registered = resource_registry if door.language == "terraform" else arm_resource_registry
        check = registered.get_check_by_id(REGISTRY[door.rule].spec.iac_id)
        assert check is not None and check.name == REGISTRY[door.rule].spec.title

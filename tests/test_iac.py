"""`auditor iac` end to end: checkov runs once per fixture tree, and the findings are compared exactly."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import EXIT_GATED, EXIT_INPUT, EXIT_OK, build_parser, options_from
from auditor.iac import cli
from auditor.iac import runner as iac_runner
from auditor.iac.mapping import NOT_DECIDABLE
from auditor.iac.selection import decidable
from auditor.options import IacOptions

DATA = Path(__file__).parent / "data" / "iac"
CASES = DATA / "cases"
SAMPLE = DATA / "sample"
EXAMPLES = Path(__file__).parent.parent / "examples"
# 192.0.2.0/24 is whitelisted only through --param: a case that passes proves the parameters reach checkov.
WHITELIST = "allowed_rdp_sources=203.0.113.0/24,192.0.2.0/24"

pytestmark = pytest.mark.skipif(
    __import__("importlib").util.find_spec("checkov") is None, reason="checkov (the iac extra) is not installed"
)


def tf(file: str, address: str) -> str:
    return f"iac:terraform/{file}:{address}"


NSG = "azurerm_network_security_group"
RULE_COLLECTION_GROUP = "azurerm_firewall_policy_rule_collection_group"
ARM_NSG = "iac:arm/network.json:Microsoft.Network/networkSecurityGroups"
BICEP_NSG = "iac:bicep/main.bicep:Microsoft.Network/networkSecurityGroups"
EXPECTED: dict[tuple[str, str, str], str] = {
    # NET-01 over Terraform: every source form, protocol, plural field, range, shadowing and module.
    **{
        ("NET-01", "nsg_rdp_exposure", tf("network.tf", f"{NSG}.{name}")): status
        for name, status in {
            "rdp_star": "fail",
            "rdp_internet": "fail",
            "rdp_any": "fail",
            "rdp_zero": "fail",
            "rdp_ipv6_any": "fail",
            "rdp_public_cidr": "fail",
            "rdp_whitelisted": "pass",
            "rdp_param_whitelisted": "pass",
            "rdp_private": "pass",
            "rdp_udp": "fail",
            "rdp_plural": "fail",
            "rdp_range": "fail",
            "range_misses_rdp": "pass",
            "rdp_service_tag": "pass",
            "ssh_internet": "pass",
            "all_ports_internet": "fail",
            "rdp_shadowed": "pass",
            "rdp_outbound": "pass",
            "rdp_unresolved": "error",
        }.items()
    },
    ("NET-01", "nsg_rdp_exposure", tf("network.tf", "azurerm_network_security_rule.standalone_rdp")): "fail",
    ("NET-01", "nsg_rdp_exposure", tf("network.tf", "azurerm_network_security_rule.standalone_waived")): "waived",
    ("NET-01", "nsg_rdp_exposure", tf("modules/nsg/main.tf", f"module.open_jump.{NSG}.this")): "fail",
    ("NET-01", "nsg_rdp_exposure", tf("modules/nsg/main.tf", f"module.private_jump.{NSG}.this")): "pass",
    # NET-04: the same resources, judged for the management ports.
    **{
        ("NET-04", "nsg_management_port_exposure", tf("network.tf", f"{NSG}.{name}")): "pass"
        for name in [
            "rdp_star",
            "rdp_internet",
            "rdp_any",
            "rdp_zero",
            "rdp_ipv6_any",
            "rdp_public_cidr",
            "rdp_whitelisted",
            "rdp_param_whitelisted",
            "rdp_private",
            "rdp_udp",
            "rdp_plural",
            "rdp_range",
            "range_misses_rdp",
            "rdp_service_tag",
            "rdp_shadowed",
            "rdp_outbound",
        ]
    },
    ("NET-04", "nsg_management_port_exposure", tf("network.tf", f"{NSG}.ssh_internet")): "fail",
    ("NET-04", "nsg_management_port_exposure", tf("network.tf", f"{NSG}.all_ports_internet")): "fail",
    ("NET-04", "nsg_management_port_exposure", tf("network.tf", f"{NSG}.rdp_unresolved")): "error",
    (
        "NET-04",
        "nsg_management_port_exposure",
        tf("network.tf", "azurerm_network_security_rule.standalone_rdp"),
    ): "fail",
    (
        "NET-04",
        "nsg_management_port_exposure",
        tf("network.tf", "azurerm_network_security_rule.standalone_waived"),
    ): "pass",
    ("NET-04", "nsg_management_port_exposure", tf("modules/nsg/main.tf", f"module.open_jump.{NSG}.this")): "pass",
    ("NET-04", "nsg_management_port_exposure", tf("modules/nsg/main.tf", f"module.private_jump.{NSG}.this")): "pass",
    # KV-01: the auditor's check and checkov's purge-protection, recoverability and soft-delete checks.
    ("KV-01", "key_vault_protection", tf("resources.tf", "azurerm_key_vault.kv_protected")): "pass",
    ("KV-01", "CKV_AZURE_110", tf("resources.tf", "azurerm_key_vault.kv_protected")): "pass",
    ("KV-01", "CKV_AZURE_42", tf("resources.tf", "azurerm_key_vault.kv_protected")): "pass",
    ("KV-01", "CKV_AZURE_111", tf("resources.tf", "azurerm_key_vault.kv_protected")): "pass",
    ("KV-01", "key_vault_protection", tf("resources.tf", "azurerm_key_vault.kv_short_retention")): "fail",
    ("KV-01", "CKV_AZURE_110", tf("resources.tf", "azurerm_key_vault.kv_short_retention")): "fail",
    ("KV-01", "CKV_AZURE_42", tf("resources.tf", "azurerm_key_vault.kv_short_retention")): "fail",
    ("KV-01", "CKV_AZURE_111", tf("resources.tf", "azurerm_key_vault.kv_short_retention")): "pass",
    ("KV-01", "key_vault_protection", tf("resources.tf", "azurerm_key_vault.kv_waived")): "waived",
    ("KV-01", "CKV_AZURE_110", tf("resources.tf", "azurerm_key_vault.kv_waived")): "fail",
    ("KV-01", "CKV_AZURE_42", tf("resources.tf", "azurerm_key_vault.kv_waived")): "fail",
    ("KV-01", "CKV_AZURE_111", tf("resources.tf", "azurerm_key_vault.kv_waived")): "pass",
    # ENC-01: customer key through a disk encryption set, ADE, platform key only.
    ("ENC-01", "disk_key_vault_encryption", tf("resources.tf", "azurerm_managed_disk.disk_cmk")): "pass",
    ("ENC-01", "disk_key_vault_encryption", tf("resources.tf", "azurerm_managed_disk.disk_ade")): "pass",
    ("ENC-01", "disk_key_vault_encryption", tf("resources.tf", "azurerm_managed_disk.disk_platform_key")): "fail",
    # ENC-02: vaults declared without an encryption block and with public access left on.
    **{
        ("ENC-02", "recovery_vault_cmk_private", tf("resources.tf", f"azurerm_recovery_services_vault.{name}")): "fail"
        for name in ("vault_default", "vault_local")
    },
    # ENC-03: the accounts leave blob public access, the public endpoint and Microsoft-managed keys at defaults.
    **{
        ("ENC-03", "storage_account_private_https", tf("resources.tf", f"azurerm_storage_account.{name}")): "fail"
        for name in ("backup_ragrs", "backup_lrs", "backup_wrong_region")
    },
    **{
        (
            "ENC-03",
            "storage_account_private_https",
            f"iac:arm/data.json:Microsoft.Storage/storageAccounts.{name}",
        ): "fail"
        for name in ("starmbackup", "starmlocal")
    },
    # ENC-03: checkov's HTTPS-only and blob public access checks.
    **{
        ("ENC-03", check, tf("resources.tf", f"azurerm_storage_account.{name}")): status
        for name in ("backup_ragrs", "backup_lrs", "backup_wrong_region")
        for check, status in (("CKV_AZURE_3", "pass"), ("CKV_AZURE_190", "fail"))
    },
    # BAK-04: geo-redundant SKU in the primary region, vault redundancy.
    ("BAK-04", "backup_geo_redundancy", tf("resources.tf", "azurerm_storage_account.backup_ragrs")): "pass",
    ("BAK-04", "backup_geo_redundancy", tf("resources.tf", "azurerm_storage_account.backup_lrs")): "fail",
    ("BAK-04", "backup_geo_redundancy", tf("resources.tf", "azurerm_storage_account.backup_wrong_region")): "fail",
    ("BAK-04", "backup_geo_redundancy", tf("resources.tf", "azurerm_recovery_services_vault.vault_default")): "pass",
    ("BAK-04", "backup_geo_redundancy", tf("resources.tf", "azurerm_recovery_services_vault.vault_local")): "fail",
    # BAK-01 and BAK-02: schedules and retention.
    ("BAK-01", "vm_daily_backup", tf("resources.tf", "azurerm_backup_policy_vm.daily_30")): "pass",
    ("BAK-01", "vm_daily_backup", tf("resources.tf", "azurerm_backup_policy_vm.daily_7")): "fail",
    ("BAK-01", "vm_daily_backup", tf("resources.tf", "azurerm_backup_policy_vm.weekly")): "fail",
    ("BAK-02", "sql_backup_policy", tf("resources.tf", "azurerm_backup_policy_vm_workload.sql")): "fail",
    ("BAK-02", "sql_database_retention", tf("resources.tf", "azurerm_mssql_database.ltr_nine_weeks")): "pass",
    ("BAK-02", "sql_database_retention", tf("resources.tf", "azurerm_mssql_database.no_ltr")): "fail",
    # Terraform plan JSON: root and child-module resources, plural fields with empty singular ones.
    ("NET-01", "nsg_rdp_exposure", f"iac:plan/tfplan.json:{NSG}.plan_open"): "fail",
    ("NET-01", "nsg_rdp_exposure", f"iac:plan/tfplan.json:{NSG}.plan_private"): "pass",
    ("NET-04", "nsg_management_port_exposure", f"iac:plan/tfplan.json:{NSG}.plan_open"): "pass",
    ("NET-04", "nsg_management_port_exposure", f"iac:plan/tfplan.json:{NSG}.plan_private"): "pass",
    **{
        ("KV-01", check, "iac:plan/tfplan.json:module.vault.azurerm_key_vault.this"): status
        for check, status in (
            ("key_vault_protection", "fail"),
            ("CKV_AZURE_110", "pass"),
            ("CKV_AZURE_42", "pass"),
            ("CKV_AZURE_111", "pass"),
        )
    },
    # ARM: Internet, Any, a parameter's default, shadowing Deny, whitelist, child rules with UDP and ranges.
    **{
        ("NET-01", "nsg_rdp_exposure", f"iac:arm/network.json:Microsoft.Network/networkSecurityGroups.{name}"): status
        for name, status in {
            "nsg-arm-internet": "fail",
            "nsg-arm-any": "fail",
            "nsg-arm-parameter": "fail",
            "nsg-arm-shadowed": "pass",
            "nsg-arm-whitelisted": "pass",
        }.items()
    },
    **{
        (
            "NET-04",
            "nsg_management_port_exposure",
            f"iac:arm/network.json:Microsoft.Network/networkSecurityGroups.{name}",
        ): "pass"
        for name in ("nsg-arm-internet", "nsg-arm-any", "nsg-arm-parameter", "nsg-arm-shadowed", "nsg-arm-whitelisted")
    },
    **{
        (control, check, f"iac:arm/network.json:Microsoft.Network/networkSecurityGroups/securityRules.{name}"): status
        for control, check, name, status in (
            ("NET-01", "nsg_rdp_exposure", "nsg-arm-whitelisted/allow-rdp-udp-partner", "fail"),
            ("NET-01", "nsg_rdp_exposure", "nsg-arm-whitelisted/allow-sql-internet", "pass"),
            ("NET-04", "nsg_management_port_exposure", "nsg-arm-whitelisted/allow-rdp-udp-partner", "fail"),
            ("NET-04", "nsg_management_port_exposure", "nsg-arm-whitelisted/allow-sql-internet", "fail"),
        )
    },
    **{
        ("KV-01", check, f"iac:arm/data.json:Microsoft.KeyVault/vaults.{name}"): status
        for name, check, status in (
            ("kv-arm-protected", "key_vault_protection", "pass"),
            ("kv-arm-protected", "CKV_AZURE_110", "pass"),
            ("kv-arm-protected", "CKV_AZURE_111", "pass"),
            ("kv-arm-open", "key_vault_protection", "fail"),
            ("kv-arm-open", "CKV_AZURE_110", "fail"),
            ("kv-arm-open", "CKV_AZURE_111", "pass"),
        )
    },
    ("ENC-01", "disk_key_vault_encryption", "iac:arm/data.json:Microsoft.Compute/disks.disk-arm-cmk"): "pass",
    ("ENC-01", "disk_key_vault_encryption", "iac:arm/data.json:Microsoft.Compute/disks.disk-arm-platform"): "fail",
    **{
        (control, check, f"iac:arm/data.json:Microsoft.Storage/storageAccounts.{name}"): status
        for control, check, name, status in (
            ("BAK-04", "backup_geo_redundancy", "starmbackup", "pass"),
            ("BAK-04", "backup_geo_redundancy", "starmlocal", "fail"),
            ("ENC-03", "CKV_AZURE_3", "starmbackup", "pass"),
            ("ENC-03", "CKV_AZURE_44", "starmbackup", "pass"),
            ("ENC-03", "CKV_AZURE_3", "starmlocal", "fail"),
            ("ENC-03", "CKV_AZURE_44", "starmlocal", "fail"),
        )
    },
    # Bicep: checkov runs the ARM checks; a //checkov:skip comment waives.
    **{
        (control, check, f"iac:bicep/main.bicep:Microsoft.Network/networkSecurityGroups.{name}"): status
        for control, check, name, status in (
            ("NET-01", "nsg_rdp_exposure", "nsgOpen", "fail"),
            ("NET-01", "nsg_rdp_exposure", "nsgVpn", "pass"),
            ("NET-01", "nsg_rdp_exposure", "nsgLab", "waived"),
            ("NET-04", "nsg_management_port_exposure", "nsgOpen", "pass"),
            ("NET-04", "nsg_management_port_exposure", "nsgVpn", "pass"),
            ("NET-04", "nsg_management_port_exposure", "nsgLab", "pass"),
        )
    },
    (
        "NET-01",
        "nsg_rdp_exposure",
        "iac:bicep/main.bicep:Microsoft.Network/networkSecurityGroups/securityRules.udpRange",
    ): ("fail"),
    (
        "NET-04",
        "nsg_management_port_exposure",
        "iac:bicep/main.bicep:Microsoft.Network/networkSecurityGroups/securityRules.udpRange",
    ): ("pass"),
    **{
        ("KV-01", check, "iac:bicep/main.bicep:Microsoft.KeyVault/vaults.vault"): "pass"
        for check in ("key_vault_protection", "CKV_AZURE_110", "CKV_AZURE_111")
    },
    # NET-01's firewall rule on the DNAT rules of firewall policy rule collection groups.
    **{
        ("NET-01", "firewall_rdp_dnat", tf("firewall.tf", f"{RULE_COLLECTION_GROUP}.{name}")): status
        for name, status in (("dnat_open", "fail"), ("dnat_office", "pass"), ("dnat_partner", "error"))
    },
    **{
        (
            "NET-01",
            "firewall_rdp_dnat",
            f"iac:bicep/firewall.bicep:Microsoft.Network/firewallPolicies/ruleCollectionGroups.{name}",
        ): status
        for name, status in (("dnatOpen", "fail"), ("dnatOffice", "pass"))
    },
    # NET-03's threat-intelligence mode on the same firewall policies (Deny in both).
    ("NET-03", "azure_firewall_protects_servers", tf("firewall.tf", "azurerm_firewall_policy.hub")): "pass",
    (
        "NET-03",
        "azure_firewall_protects_servers",
        "iac:bicep/firewall.bicep:Microsoft.Network/firewallPolicies.policy",
    ): "pass",
    # NET-02 over the same NSGs: an NSG's code does not hold the VPN client pool, so sources that may be it are
    # errors, and every address, the Internet or a tag fails.
    **{
        ("NET-02", "remote_admin_sources_via_vpn", resource): status
        for resource, status in {
            f"{ARM_NSG}.nsg-arm-any": "fail",
            f"{ARM_NSG}.nsg-arm-internet": "fail",
            f"{ARM_NSG}.nsg-arm-parameter": "fail",
            f"{ARM_NSG}.nsg-arm-shadowed": "pass",
            f"{ARM_NSG}.nsg-arm-whitelisted": "error",
            f"{ARM_NSG}/securityRules.nsg-arm-whitelisted/allow-rdp-udp-partner": "error",
            f"{ARM_NSG}/securityRules.nsg-arm-whitelisted/allow-sql-internet": "pass",
            f"{BICEP_NSG}.nsgLab": "fail",
            f"{BICEP_NSG}.nsgOpen": "fail",
            f"{BICEP_NSG}.nsgVpn": "error",
            f"{BICEP_NSG}/securityRules.udpRange": "fail",
            f"iac:plan/tfplan.json:{NSG}.plan_open": "fail",
            f"iac:plan/tfplan.json:{NSG}.plan_private": "error",
            tf("modules/nsg/main.tf", f"module.open_jump.{NSG}.this"): "fail",
            tf("modules/nsg/main.tf", f"module.private_jump.{NSG}.this"): "error",
            tf("network.tf", f"{NSG}.all_ports_internet"): "fail",
            tf("network.tf", f"{NSG}.range_misses_rdp"): "pass",
            tf("network.tf", f"{NSG}.rdp_any"): "fail",
            tf("network.tf", f"{NSG}.rdp_internet"): "fail",
            tf("network.tf", f"{NSG}.rdp_ipv6_any"): "fail",
            tf("network.tf", f"{NSG}.rdp_outbound"): "pass",
            tf("network.tf", f"{NSG}.rdp_param_whitelisted"): "pass",
            tf("network.tf", f"{NSG}.rdp_plural"): "error",
            tf("network.tf", f"{NSG}.rdp_private"): "error",
            tf("network.tf", f"{NSG}.rdp_public_cidr"): "error",
            tf("network.tf", f"{NSG}.rdp_range"): "fail",
            tf("network.tf", f"{NSG}.rdp_service_tag"): "fail",
            tf("network.tf", f"{NSG}.rdp_shadowed"): "pass",
            tf("network.tf", f"{NSG}.rdp_star"): "fail",
            tf("network.tf", f"{NSG}.rdp_udp"): "fail",
            tf("network.tf", f"{NSG}.rdp_unresolved"): "error",
            tf("network.tf", f"{NSG}.rdp_whitelisted"): "pass",
            tf("network.tf", f"{NSG}.rdp_zero"): "fail",
            tf("network.tf", f"{NSG}.ssh_internet"): "fail",
            tf("network.tf", "azurerm_network_security_rule.standalone_rdp"): "error",
            tf("network.tf", "azurerm_network_security_rule.standalone_waived"): "fail",
        }.items()
    },
    # ENC-05: azurerm_mssql_database's TDE defaults to on; a Bicep TDE child turning it off fails.
    ("ENC-05", "sql_database_tde", tf("resources.tf", "azurerm_mssql_database.ltr_nine_weeks")): "pass",
    ("ENC-05", "sql_database_tde", tf("resources.tf", "azurerm_mssql_database.no_ltr")): "pass",
    ("ENC-05", "sql_database_tde", "iac:bicep/main.bicep:Microsoft.Sql/servers/databases.reportsDb"): "pass",
    (
        "ENC-05",
        "sql_database_tde",
        "iac:bicep/main.bicep:Microsoft.Sql/servers/databases/transparentDataEncryption.reportsTde",
    ): "fail",
    # ENC-06 and EP-01 in Bicep: SQL Server 2014 on Windows Server 2012 R2, with its anti-malware extension.
    ("ENC-06", "supported_engine_and_os", "iac:bicep/main.bicep:Microsoft.Compute/virtualMachines.legacySqlVm"): "fail",
    (
        "EP-01",
        "vm_antimalware",
        "iac:bicep/main.bicep:Microsoft.Compute/virtualMachines/extensions.legacySqlVmAntimalware",
    ): "pass",
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """One checkov run over every fixture: Terraform with modules, plan JSON, ARM and Bicep."""
    out = tmp_path_factory.mktemp("iac-cases")
    status = cli.main(
        [str(CASES), "--root", str(CASES), "--out", str(out), "--format", "json,sarif", "--param", WHITELIST, "-q"]
    )
    yield status, out


def findings(out: Path) -> list[dict[str, Any]]:
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = document["findings"]
    return found


def test_every_resource_gets_exactly_the_expected_verdicts(cases: tuple[int, Path]) -> None:
    status, out = cases
    judged = {
        (f["control_id"], f["check_id"], f["resource_id"]): f["status"]
        for f in findings(out)
        if f["status"] != "not_applicable"
    }
    missing = {k: v for k, v in EXPECTED.items() if k not in judged}
    unexpected = {k: v for k, v in judged.items() if k not in EXPECTED}
    wrong = {k: (EXPECTED[k], v) for k, v in judged.items() if k in EXPECTED and EXPECTED[k] != v}
    assert (missing, unexpected, wrong) == ({}, {}, {})
    assert status == EXIT_GATED


def test_every_control_appears_and_undecidable_ones_never_pass(cases: tuple[int, Path]) -> None:
    _, out = cases
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    baseline = load_baseline(default_baseline_path(), builtin_registry())
    assert [c["id"] for c in document["controls"]] == [c.id for c in baseline.controls]
    by_control: dict[str, list[dict[str, Any]]] = {}
    for finding in document["findings"]:
        by_control.setdefault(finding["control_id"], []).append(finding)
    for control in baseline.controls:
        if not decidable(control):
            [only] = by_control[control.id]
            assert only["status"] == "not_applicable"
            assert only["message"].startswith(f"{NOT_DECIDABLE}: ")
    mfa = by_control["IAM-01"][0]["message"]
    assert "Conditional Access" in mfa
    assert (
        by_control["DATA-01"][0]["message"]
        == f"{NOT_DECIDABLE}: a manual control: only an attestation can show it kept"
    )
    # The fixtures declare no security contact, so neither checkov's checks nor the door judge MON-01.
    assert [f["status"] for f in by_control["MON-01"]] == ["not_applicable"]


def test_findings_point_at_file_lines_and_resource_address(cases: tuple[int, Path]) -> None:
    _, out = cases
    [finding] = [
        f
        for f in findings(out)
        if f["resource_id"] == tf("network.tf", f"{NSG}.rdp_zero") and f["control_id"] == "NET-01"
    ]
    assert finding["location"]["file"] == "terraform/network.tf"
    assert finding["location"]["address"] == f"{NSG}.rdp_zero"
    lines = (CASES / "terraform" / "network.tf").read_text(encoding="utf-8").splitlines()
    start, end = finding["location"]["start_line"], finding["location"]["end_line"]
    assert lines[start - 1].startswith(f'resource "{NSG}" "rdp_zero"')
    assert lines[end - 1] == "}"
    assert finding["severity"] == "critical"
    assert finding["resource_type"] == NSG
    assert finding["message"].endswith(
        "admit RDP (3389) from public sources outside the whitelist (for example 1.0.0.0/8, 2.0.0.0/7, 4.0.0.0/6)"
    )
    assert "Remove or narrow" in finding["remediation"]


def test_waivers_carry_the_skip_comment_reason_into_sarif(cases: tuple[int, Path]) -> None:
    _, out = cases
    sarif = json.loads((out / "findings.sarif").read_text(encoding="utf-8"))
    waived = [r for r in sarif["runs"][0]["results"] if r["properties"]["status"] == "waived"]
    reasons = {r["suppressions"][0]["justification"] for r in waived}
    assert reasons == {
        "break-glass rule, removed by the change ticket CHG-1234",
        "vault is being retired this quarter",
        "lab network, torn down nightly",
    }
    located = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert {"terraform/network.tf", "plan/tfplan.json", "arm/network.json", "bicep/main.bicep"} <= located


def test_unresolved_values_are_errors_naming_the_expression(cases: tuple[int, Path]) -> None:
    _, out = cases
    [error] = [
        f
        for f in findings(out)
        if f["control_id"] == "NET-01" and f["resource_id"] == tf("network.tf", f"{NSG}.rdp_unresolved")
    ]
    assert error["status"] == "error"
    assert "var.jump_source" in error["message"]


# --- the CI examples, run as written ----------------------------------------------------------------------


def example_steps(path: Path) -> list[dict[str, Any]]:
    """The steps of an example pipeline: GitHub's one job, or Azure Pipelines' top-level steps."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps: list[dict[str, Any]] = document["jobs"]["iac-audit"]["steps"] if "jobs" in document else document["steps"]
    return steps


def example_script(path: Path, contains: str) -> str:
    """The one script (GitHub ``run``, Azure ``script``) of an example with a line starting with the text."""
    scripts = [step.get("run") or step.get("script") or "" for step in example_steps(path)]
    [script] = [s for s in scripts if any(line.strip().startswith(contains) for line in s.splitlines())]
    return script


def auditor_on_path(tmp_path: Path) -> dict[str, str]:
    """The environment with an ``auditor`` command: the installed one, or this checkout's under that name."""
    env = dict(os.environ)
    if shutil.which("auditor") is None:
        shim = tmp_path / "bin" / "auditor"
        shim.parent.mkdir()
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m auditor "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
        env["PATH"] = f"{shim.parent}{os.pathsep}{env['PATH']}"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXAMPLES.parent), env.get("PYTHONPATH")]))
    return env


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A step's script as the runner runs it: bash, in the checkout."""
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def ci_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """An environment for a step: the auditor on PATH, no CI variables but those given."""
    env = {k: v for k, v in auditor_on_path(tmp_path).items() if k not in {"GITHUB_ACTIONS", "TF_BUILD"}}
    return env | variables


def only_the_sample_rdp_fails(out: Path) -> None:
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    failing = {(f["control_id"], f["resource_id"]) for f in document["findings"] if f["status"] == "fail"}
    web = "iac:infra/network/main.tf:azurerm_network_security_group.web"
    assert failing == {("NET-01", web), ("NET-02", web)}


def test_github_example_steps_run_as_written(tmp_path: Path) -> None:
    example = EXAMPLES / "github-actions.yml"
    shutil.copytree(SAMPLE, tmp_path / "infra")
    output, summary = tmp_path / "github-output", tmp_path / "step-summary"
    env = ci_environment(tmp_path, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
    audit = bash(example_script(example, "auditor iac "), tmp_path, env)
    assert audit.returncode == 0, audit.stderr  # the step records the status; the gate step fails the job
    assert output.read_text(encoding="utf-8") == "status=1\n"  # the sample opens RDP to 0.0.0.0/0: critical
    [annotation] = [line for line in audit.stdout.splitlines() if line.startswith("::error title=NET-01 ")]
    assert ",file=infra/network/main.tf,line=" in annotation
    out = tmp_path / "iac-report"
    for name in ("findings.sarif", "summary.md", "findings.json"):
        assert (out / name).is_file(), name
    only_the_sample_rdp_fails(out)
    added = bash(example_script(example, "cat iac-report/summary.md"), tmp_path, env)
    assert added.returncode == 0, added.stderr
    assert summary.read_text(encoding="utf-8") == (out / "summary.md").read_text(encoding="utf-8")


def test_azure_pipelines_example_steps_run_as_written(tmp_path: Path) -> None:
    example = EXAMPLES / "azure-pipelines.yml"
    shutil.copytree(SAMPLE, tmp_path / "infra")
    env = ci_environment(tmp_path, TF_BUILD="True")
    audit = bash(example_script(example, "auditor iac "), tmp_path, env)
    assert audit.returncode == 0, audit.stderr
    lines = audit.stdout.splitlines()
    assert lines[-1] == "##vso[task.setvariable variable=auditStatus]1"
    [issue] = [line for line in lines if line.startswith("##vso[task.logissue type=error;") and "code=NET-01]" in line]
    assert ";sourcepath=infra/network/main.tf;linenumber=" in issue and ";code=NET-01]" in issue
    out = tmp_path / "iac-report"
    for name in ("junit.xml", "findings.sarif", "summary.md", "findings.json"):
        assert (out / name).is_file(), name
    only_the_sample_rdp_fails(out)
    uploaded = bash(example_script(example, "if [ -f iac-report/summary.md ]"), tmp_path, env)
    assert uploaded.stdout == f"##vso[task.uploadsummary]{tmp_path}/iac-report/summary.md\n"


def test_pre_commit_hook_runs_auditor_iac_on_infrastructure_files() -> None:
    [hook] = yaml.safe_load((EXAMPLES.parent / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "auditor-iac"
    assert hook["entry"] == "auditor iac"
    assert hook["language"] == "python"
    files = ["main.tf", "azuredeploy.json", "main.bicep"]
    options = options_from(build_parser().parse_args(["iac", *hook["args"], *files]))
    assert isinstance(options, IacOptions)
    assert [p.name for p in options.paths] == files
    pattern = __import__("re").compile(hook["files"])
    assert [n for n in ("a.tf", "b.json", "c.bicep", "d.py", "e.tfvars") if pattern.search(n)] == [
        "a.tf",
        "b.json",
        "c.bicep",
    ]


def tree(folder: Path) -> set[str]:
    """Every file and folder below the folder, .git included."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_pre_commit_hook_prints_the_failures_and_writes_nothing_into_the_repository(tmp_path: Path) -> None:
    [hook] = yaml.safe_load((EXAMPLES.parent / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo / "infra")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.split()
    files = [name for name in staged if __import__("re").search(hook["files"], name)]
    assert files == ["infra/network/main.tf", "infra/network/vpn.bicep"]
    env = auditor_on_path(tmp_path)
    before = tree(repo)
    # pre-commit runs the entry, then the args, then the file names, from the repository's root.
    command = shlex.join([*shlex.split(hook["entry"]), *hook["args"], *files])
    ran = subprocess.run(command, shell=True, cwd=repo, env=env, capture_output=True, text=True, check=False)  # noqa: S602
    assert ran.returncode == EXIT_GATED, ran.stderr
    assert tree(repo) == before
    listed = [line.split() for line in ran.stdout.splitlines() if " NET-01 " in line]
    assert [words[:3] for words in listed] == [["critical", "fail", "NET-01"]]
    assert listed[0][3].startswith("infra/network/main.tf:")
    assert "reports not kept (give --out DIR to keep them)" in ran.stdout


def test_under_github_actions_iac_failures_are_annotated_at_their_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(SAMPLE, tmp_path / "infra")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(["infra/", "--fail-on", "high"]) == EXIT_GATED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["infra"]  # no --out: nothing written here
    [annotation] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::error title=NET-01 ")]
    title = "title=NET-01 (critical)%3A Remote desktop is not reachable from public internet addresses except"
    assert annotation.startswith(f"::error {title}")
    properties = dict(item.split("=", 1) for item in annotation.split("::")[1].split(" ", 1)[1].split(","))
    assert properties["file"] == "infra/network/main.tf"
    start, end = int(properties["line"]), int(properties["endLine"])
    source = (SAMPLE / "network" / "main.tf").read_text(encoding="utf-8").splitlines()
    assert 'resource "azurerm_network_security_group" "web"' in source[start - 1]
    assert start < end <= len(source)


# --- input errors and checkov failures ---------------------------------------------------------------------


def test_a_missing_path_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert status == EXIT_INPUT
    assert "no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def fake_checkov(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Replace the checkov command by a Python script, keeping everything around it real."""

    def command(*_: object) -> list[str]:
        return [sys.executable, "-c", script]

    monkeypatch.setattr(iac_runner, "checkov_command", command)


def test_a_checkov_crash_is_an_input_error_with_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_checkov(
        monkeypatch,
        'import sys; sys.stderr.write(\'Traceback (most recent call last):\\n  File "main.py", line 1\\n'
        "KeyError: resources\\n'); sys.exit(1)",
    )
    status = cli.main([str(SAMPLE), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == EXIT_INPUT
    assert "checkov exited with status 1" in err
    assert "Traceback (most recent call last)" in err and "KeyError: resources" in err


def test_output_that_is_not_json_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_checkov(monkeypatch, "print('Checkov: unexpected banner'); import sys; sys.stderr.write('oops\\n')")
    status = cli.main([str(SAMPLE), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == EXIT_INPUT
    assert "printed no JSON report" in err and "oops" in err


def test_checkov_runs_offline_with_the_parameters_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_checkov(
        monkeypatch,
        "import json, os; print(json.dumps({k: os.environ.get(k) for k in "
        "('BC_SKIP_MAPPING', 'CKV_SKIP_PACKAGE_UPDATE_CHECK', 'CHECKOV_RUN_SCA_PACKAGE_SCAN_V2', 'BC_API_KEY')}"
        " | {'params': json.load(open(os.environ['AUDITOR_IAC_PARAMS']))['allowed_rdp_sources']}))",
    )
    monkeypatch.setenv("BC_API_KEY", "should-not-reach-checkov")
    seen: list[str] = []
    original = iac_runner.parse_report

    def spy(stdout: str, *args: Any) -> iac_runner.CheckovRun:
        seen.append(stdout)
        return original(stdout, *args)

    monkeypatch.setattr(iac_runner, "parse_report", spy)
    status = cli.main(
        [str(SAMPLE), "--out", str(tmp_path / "out"), "--param", "allowed_rdp_sources=192.0.2.0/24", "-q"]
    )
    assert status == EXIT_OK  # nothing reported, so nothing gates; decidable controls are not applicable
    assert json.loads(seen[0]) == {
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "BC_API_KEY": None,
        "params": ["192.0.2.0/24"],
    }


def test_iac_sarif_keeps_githubs_upload_rules_with_in_source_skips(cases: tuple[int, Path]) -> None:
    from tests.test_reports_sarif_github import github_rule_violations  # noqa: PLC0415 - the rules, written once

    _, out = cases
    sarif = json.loads((out / "findings.sarif").read_text(encoding="utf-8"))
    assert github_rule_violations(sarif) == []
    waived = [r for r in sarif["runs"][0]["results"] if r["properties"]["status"] == "waived"]
    assert waived
    assert {r["suppressions"][0]["kind"] for r in waived} == {"inSource"}
    assert str(CASES) not in json.dumps(sarif)

"""EP-01 (anti-malware), ENC-05 (TDE), ENC-06 (end of support)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.checks.data_protection import (
    SQL_SERVER_LIFECYCLE,
    WINDOWS_SERVER_LIFECYCLE,
    identify_products,
    sql_database_tde,
    sql_vm_tde_attestation,
    supported_engine_and_os,
)
from auditor.checks.endpoint import allowed_extension_pairs, vm_antimalware
from auditor.inventory import Inventory
from auditor.model import CheckResult, Status
from auditor.parameters import Params
from auditor.records.compute import ImageReference, VirtualMachine, VmDisk, VmExtension
from auditor.records.monitor import DefenderPlan
from auditor.records.sql import SqlDatabase, SqlVirtualMachine
from tests.builders import RG, SUB, CheckFunction, make_inventory, results, rid

# --- builders -----------------------------------------------------------------------------------------

IAAS = ("Microsoft.Azure.Security", "IaaSAntimalware")
MDE_WINDOWS = ("Microsoft.Azure.AzureDefenderForServers", "MDE.Windows")
ALLOWED = (
    "Microsoft.Azure.Security/IaaSAntimalware",
    "Microsoft.Azure.AzureDefenderForServers/MDE.Windows",
    "Microsoft.Azure.AzureDefenderForServers/MDE.Linux",
    "Webroot/WebrootSecureAnywhere",
)
WS2022 = ImageReference("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", "latest")


def make_ext(publisher: str, kind: str, state: str | None = "Succeeded") -> VmExtension:
    """A VM extension in the given provisioning state."""
    return VmExtension(kind, publisher, kind, state, "1.0")


def make_server(
    name: str = "vm",
    *,
    image: ImageReference = WS2022,
    os_type: str | None = "Windows",
    extensions: tuple[VmExtension, ...] = (),
    extensions_known: bool = True,
) -> VirtualMachine:
    """A VM built from an image, with its extensions."""
    return VirtualMachine(
        rid("Microsoft.Compute/virtualMachines", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        os_type,
        image,
        VmDisk("osdisk", managed_disk_id=rid("Microsoft.Compute/disks", f"{name}-os")),
        extensions=extensions,
        extensions_known=extensions_known,
    )


def make_plan(
    tier: str | None = "Standard", name: str = "VirtualMachines", sub_plan: str | None = "P2"
) -> DefenderPlan:
    """A Defender for Cloud pricing of the test subscription."""
    return DefenderPlan(f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/{name}", name, SUB, tier, sub_plan)


def make_database(name: str = "db", tde_state: str | None = "Enabled") -> SqlDatabase:
    """An Azure SQL database of the test server."""
    server = rid("Microsoft.Sql/servers", "sql")
    return SqlDatabase(f"{server}/databases/{name}", name, SUB, "rg-test", "eastus", server, "S0", tde_state)


def make_sql_vm(
    name: str = "vm", offer: str | None = "SQL2014SP3-WS2012R2", *, vm_id: str | None = None
) -> SqlVirtualMachine:
    """A SQL virtual machine registration, pointing at the VM of the same name unless told otherwise."""
    return SqlVirtualMachine(
        rid("Microsoft.SqlVirtualMachine/sqlVirtualMachines", name),
        name,
        SUB,
        "rg-test",
        "eastus",
        vm_id if vm_id is not None else rid("Microsoft.Compute/virtualMachines", name),
        offer,
        "Enterprise",
    )


def only(check: CheckFunction, params: Params, **records: Any) -> CheckResult:
    """The one result a check gives over an inventory of the given records."""
    (result,) = results(check, make_inventory(**records), params)
    return result


# --- EP-01 ----------------------------------------------------------------------------------------------

EP_PARAMS = Params({"allowed_antimalware": ALLOWED, "accept_defender_for_servers": True})
EP_STRICT = Params({"allowed_antimalware": ALLOWED, "accept_defender_for_servers": False})


@pytest.mark.parametrize(
    ("extensions", "plan", "params", "expected", "says"),
    [
        ((make_ext(*IAAS),), make_plan("Free"), EP_PARAMS, Status.PASS, "IaaSAntimalware is provisioned"),
        ((make_ext(*MDE_WINDOWS),), None, EP_STRICT, Status.PASS, "MDE.Windows is provisioned"),
        (
            (make_ext("microsoft.azure.security", "iaasantimalware"),),
            None,
            EP_STRICT,
            Status.PASS,
            "provisioned",
        ),
        ((make_ext("Webroot", "WebrootSecureAnywhere"),), None, EP_STRICT, Status.PASS, "Webroot"),
        (
            (make_ext(*IAAS, state="Failed"), make_ext(*MDE_WINDOWS)),
            None,
            EP_STRICT,
            Status.PASS,
            "MDE.Windows is provisioned",
        ),
        ((), make_plan("Standard"), EP_PARAMS, Status.PASS, "Defender for Servers P2 is on"),
        (
            (make_ext("Microsoft.Compute", "CustomScriptExtension"),),
            make_plan("Standard"),
            EP_PARAMS,
            Status.PASS,
            "on",
        ),
        (
            (make_ext(*IAAS, state="Failed"),),
            make_plan("Standard"),
            EP_PARAMS,
            Status.FAIL,
            "provisioning state Failed",
        ),
        ((make_ext(*IAAS, state="Creating"),), None, EP_STRICT, Status.FAIL, "provisioning state Creating"),
        ((make_ext(*IAAS, state=None),), None, EP_STRICT, Status.FAIL, "provisioning state not reported"),
        ((make_ext("Microsoft.Compute", "CustomScriptExtension"),), make_plan("Free"), EP_PARAMS, Status.FAIL, "Free"),
        ((), make_plan("Standard"), EP_STRICT, Status.FAIL, "does not accept Defender for Servers"),
        ((), None, EP_PARAMS, Status.FAIL, "plan was not reported"),
        ((), make_plan(None), EP_PARAMS, Status.FAIL, "pricing tier was not reported"),
        ((), make_plan("Standard", name="SqlServers"), EP_PARAMS, Status.FAIL, "plan was not reported"),
        ((make_ext("Other", "IaaSAntimalware"),), None, EP_STRICT, Status.FAIL, "No allowed anti-malware extension"),
    ],
    ids=[
        "IaaSAntimalware",
        "MDE.Windows",
        "case-insensitive match",
        "Webroot",
        "one of two provisioned",
        "no extension, Defender for Servers on",
        "unrelated extension, Defender on",
        "failed extension is not rescued by Defender",
        "still creating",
        "state not reported",
        "unrelated extension, Defender Free",
        "Defender on but not accepted",
        "Defender plan missing",
        "Defender tier missing",
        "another plan does not count",
        "right type, wrong publisher",
    ],
)
def test_vm_antimalware(
    extensions: tuple[VmExtension, ...], plan: DefenderPlan | None, params: Params, expected: Status, says: str
) -> None:
    result = only(
        vm_antimalware,
        params,
        virtual_machines=[make_server(extensions=extensions)],
        defender_plans=[plan] if plan else [],
    )
    assert result.status is expected
    assert says in result.message
    assert [(e["publisher"], e["type"], e["provisioning_state"]) for e in result.evidence["extensions"]] == [
        (e.publisher, e.extension_type, e.provisioning_state) for e in extensions
    ]
    assert result.evidence["defender_for_servers_tier"] == (
        plan.pricing_tier if plan and plan.name == "VirtualMachines" else None
    )


def test_vm_with_unknown_extensions_is_an_error_even_with_defender_on() -> None:
    result = only(
        vm_antimalware,
        EP_PARAMS,
        virtual_machines=[make_server(extensions_known=False)],
        defender_plans=[make_plan("Standard")],
    )
    assert result.status is Status.ERROR
    assert "extensions were not collected" in result.message


def test_defender_plan_of_another_subscription_does_not_cover_the_vm() -> None:
    other = dataclasses.replace(make_plan("Standard"), subscription_id="00000000-0000-0000-0000-000000000099")
    result = only(vm_antimalware, EP_PARAMS, virtual_machines=[make_server()], defender_plans=[other])
    assert result.status is Status.FAIL


def test_malformed_allowed_antimalware_entry_is_rejected() -> None:
    with pytest.raises(ValueError, match="Publisher/Type"):
        allowed_extension_pairs(["IaaSAntimalware"])


# --- ENC-05 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected", "says"),
    [
        ("Enabled", Status.PASS, "Transparent Data Encryption is Enabled"),
        ("enabled", Status.PASS, "Transparent Data Encryption is enabled"),
        ("Disabled", Status.FAIL, "Transparent Data Encryption is Disabled"),
        (None, Status.ERROR, "TDE state not collected"),
    ],
    ids=["enabled", "enabled lower case", "disabled", "not collected"],
)
def test_sql_database_tde(state: str | None, expected: Status, says: str) -> None:
    result = only(sql_database_tde, Params({}), sql_databases=[make_database(tde_state=state)])
    assert result.status is expected
    assert result.message == says
    assert result.evidence == {"server": "sql", "tde_state": state, "sku": "S0"}


def test_master_database_is_skipped() -> None:
    assert list(sql_database_tde(make_inventory(sql_databases=[make_database("master", None)]), Params({}))) == []


TDE_PARAMS = Params({"min_tde_key_bits": 128})


def test_sql_vm_tde_is_manual_with_what_to_attest() -> None:
    result = only(
        sql_vm_tde_attestation,
        TDE_PARAMS,
        sql_virtual_machines=[make_sql_vm()],
        virtual_machines=[
            make_server(image=ImageReference("MicrosoftSQLServer", "SQL2014SP3-WS2012R2", "Enterprise", "latest"))
        ],
    )
    assert result.status is Status.MANUAL
    assert result.resource_type == "Microsoft.SqlVirtualMachine/sqlVirtualMachines"
    assert "sys.dm_database_encryption_keys encryption_state 3 and AES key >= 128 bits" in result.message
    assert result.evidence["image_offer"] == "SQL2014SP3-WS2012R2"
    assert result.evidence["image_sku"] == "Enterprise"
    assert result.evidence["min_tde_key_bits"] == 128


def test_unregistered_sql_image_vm_is_manual_too() -> None:
    image = ImageReference("MicrosoftSQLServer", "sql2022-ws2022", "enterprise-gen2", "latest")
    result = only(
        sql_vm_tde_attestation, Params({"min_tde_key_bits": 256}), virtual_machines=[make_server(image=image)]
    )
    assert result.status is Status.MANUAL
    assert result.resource_type == "Microsoft.Compute/virtualMachines"
    assert "AES key >= 256 bits" in result.message
    assert result.evidence["image_offer"] == "sql2022-ws2022"


def test_plain_windows_vm_has_no_tde_result() -> None:
    assert list(sql_vm_tde_attestation(make_inventory(virtual_machines=[make_server()]), TDE_PARAMS)) == []


# --- ENC-06 ---------------------------------------------------------------------------------------------

AS_OF = "2026-11-28T12:00:00+00:00"


def support_of(
    vm: VirtualMachine | None = None, sql_vm: SqlVirtualMachine | None = None, as_of: str = AS_OF
) -> CheckResult:
    inventory = dataclasses.replace(
        make_inventory(virtual_machines=[vm] if vm else [], sql_virtual_machines=[sql_vm] if sql_vm else []),
        as_of=as_of,
    )
    (result,) = supported_engine_and_os(inventory, Params({}))
    return result


def image(publisher: str | None, offer: str | None = None, sku: str | None = None) -> ImageReference:
    """A marketplace image reference."""
    return ImageReference(publisher, offer, sku, "latest" if publisher else None)


@pytest.mark.parametrize(
    ("reference", "os_type", "expected", "says"),
    [
        (
            image("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition"),
            "Windows",
            Status.PASS,
            "Windows Server 2022 until 2031-10-14",
        ),
        (
            image("MicrosoftWindowsServer", "WindowsServer", "2019-datacenter-gensecond"),
            "Windows",
            Status.PASS,
            "Windows Server 2019 until 2029-01-09",
        ),
        (
            image("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter"),
            "Windows",
            Status.PASS,
            "Windows Server 2016 until 2027-01-12",
        ),
        (
            image("MicrosoftWindowsServer", "WindowsServer", "2025-datacenter-azure-edition"),
            "Windows",
            Status.PASS,
            "Windows Server 2025",
        ),
        (
            image("MicrosoftSQLServer", "sql2019-ws2022", "standard-gen2"),
            "Windows",
            Status.PASS,
            "SQL Server 2019 until 2030-01-08; Windows Server 2022 until 2031-10-14",
        ),
        (
            image("MicrosoftSQLServer", "sql2022-ubuntu2004", "enterprise"),
            "Linux",
            Status.PASS,
            "SQL Server 2022 until 2033-01-11",
        ),
        (
            image("fortinet", "fortinet_fortigate-vm_v5", "fortinet_fg-vm"),
            "Linux",
            Status.PASS,
            "Not a Microsoft Windows or SQL Server image",
        ),
        (image("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"), "Linux", Status.PASS, "Not a Microsoft"),
        (
            image("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter"),
            "Windows",
            Status.FAIL,
            "Windows Server 2012 R2 extended support ended 2023-10-10",
        ),
        (
            image("MicrosoftWindowsServer", "WindowsServer", "2012-Datacenter"),
            "Windows",
            Status.FAIL,
            "Windows Server 2012 extended support ended 2023-10-10",
        ),
        (
            image("MicrosoftWindowsServer", "WindowsServer", "2008-R2-SP1"),
            "Windows",
            Status.FAIL,
            "Windows Server 2008 R2 extended support ended 2020-01-14",
        ),
        (
            image("MicrosoftSQLServer", "SQL2014SP3-WS2012R2", "Enterprise"),
            "Windows",
            Status.FAIL,
            "SQL Server 2014 extended support ended 2024-07-09; "
            "Windows Server 2012 R2 extended support ended 2023-10-10",
        ),
        (
            image("MicrosoftSQLServer", "SQL2012SP4-WS2012R2", "Enterprise"),
            "Windows",
            Status.FAIL,
            "SQL Server 2012 extended support ended 2022-07-12",
        ),
        (
            image("MicrosoftSQLServer", "SQL2016SP3-WS2019", "Enterprise"),
            "Windows",
            Status.FAIL,
            "SQL Server 2016 extended support ended 2026-07-14",
        ),
        (
            image("MicrosoftSQLServer", "SQL2008R2SP3-WS2008R2SP1", "Enterprise"),
            "Windows",
            Status.FAIL,
            "SQL Server 2008 R2 extended support ended 2019-07-09; Windows Server 2008 R2",
        ),
        (image(None), "Windows", Status.MANUAL, "cannot tell the OS version from the image reference"),
        (image(None), "Linux", Status.MANUAL, "cannot tell the OS version from the image reference"),
        (
            image("MicrosoftWindowsServer", "WindowsServerSemiAnnual", "datacenter-core-1809"),
            "Windows",
            Status.MANUAL,
            "cannot tell the Windows Server version from image offer WindowsServerSemiAnnual",
        ),
        (image("SomeVendor", "appliance", "v1"), "Windows", Status.MANUAL, "cannot tell the Windows version"),
        (image("SomeVendor", "appliance", "v1"), None, Status.MANUAL, "OS type not reported"),
        (
            image("MicrosoftSQLServer", "custom-offer", "x"),
            "Windows",
            Status.MANUAL,
            "SQL Server version not recognised",
        ),
    ],
    ids=[
        "WS2022",
        "WS2019",
        "WS2016 before its end",
        "WS2025",
        "SQL 2019 on WS2022",
        "SQL 2022 on Ubuntu",
        "Fortinet",
        "Ubuntu",
        "WS2012 R2",
        "WS2012",
        "WS2008 R2",
        "SQL 2014 on WS2012 R2",
        "SQL 2012",
        "SQL 2016 past as of 2026-11",
        "SQL 2008 R2",
        "custom Windows image",
        "custom Linux image",
        "semi-annual channel",
        "third-party Windows image",
        "third-party image, OS type unknown",
        "SQL image with an unknown offer",
    ],
)
def test_supported_engine_and_os(reference: ImageReference, os_type: str | None, expected: Status, says: str) -> None:
    result = support_of(make_server(image=reference, os_type=os_type))
    assert result.status is expected
    assert says in result.message
    assert result.evidence["image"]["sku"] == reference.sku
    assert result.evidence["reference_date"] == "2026-11-28"


def test_end_of_support_is_judged_against_the_reference_time() -> None:
    sql2016 = make_server(image=image("MicrosoftSQLServer", "SQL2016SP3-WS2019", "Enterprise"))
    assert support_of(sql2016, as_of="2026-07-14T23:00:00+00:00").status is Status.PASS
    assert support_of(sql2016, as_of="2026-07-15T00:00:00+00:00").status is Status.FAIL
    ws2016 = make_server(image=image("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter"))
    assert support_of(ws2016, as_of="2027-01-13T00:00:00+00:00").status is Status.FAIL


def test_failure_evidence_names_products_dates_and_lifecycle_pages() -> None:
    result = support_of(make_server(image=image("MicrosoftSQLServer", "SQL2014SP3-WS2012R2", "Enterprise")))
    assert result.evidence["products"] == [
        {
            "product": "SQL Server 2014",
            "extended_support_ends": "2024-07-09",
            "ended": True,
            "lifecycle_page": "https://learn.microsoft.com/lifecycle/products/sql-server-2014",
        },
        {
            "product": "Windows Server 2012 R2",
            "extended_support_ends": "2023-10-10",
            "ended": True,
            "lifecycle_page": "https://learn.microsoft.com/lifecycle/products/windows-server-2012-r2",
        },
    ]


def test_sql_registration_speaks_for_a_custom_image_vm() -> None:
    vm = make_server(image=image(None))
    result = support_of(vm, make_sql_vm(offer="SQL2014SP3-WS2012R2"))
    assert result.status is Status.FAIL
    assert result.resource_type == "Microsoft.Compute/virtualMachines"
    assert "SQL Server 2014" in result.message
    assert result.evidence["sql_virtual_machine"]["image_offer"] == "SQL2014SP3-WS2012R2"


def test_sql_registration_without_an_offer_on_a_windows_image_is_manual() -> None:
    result = support_of(make_server(), make_sql_vm(offer=None))
    assert result.status is Status.MANUAL
    assert "no image offer reported" in result.message


def test_past_product_fails_even_when_another_part_is_unknown() -> None:
    vm = make_server(image=image("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter"))
    result = support_of(vm, make_sql_vm(offer=None))
    assert result.status is Status.FAIL
    assert result.evidence["unknown"] == [
        "SQL Server registered but no image offer reported, so its version is unknown"
    ]


@pytest.mark.parametrize(
    ("offer", "expected"),
    [
        ("SQL2014SP3-WS2012R2", Status.FAIL),
        ("sql2022-ws2022", Status.PASS),
        ("sql2019-rhel8", Status.PASS),
        ("SQL2019-custom", Status.MANUAL),
        (None, Status.MANUAL),
    ],
    ids=["SQL 2014", "SQL 2022", "SQL 2019 on RHEL", "offer names no OS", "no offer"],
)
def test_sql_registration_whose_vm_was_not_collected_is_judged_alone(offer: str | None, expected: Status) -> None:
    sql_vm = make_sql_vm("orphan", offer, vm_id=f"{RG}/providers/Microsoft.Compute/virtualMachines/elsewhere")
    result = support_of(sql_vm=sql_vm)
    assert result.status is expected
    assert result.resource_type == "Microsoft.SqlVirtualMachine/sqlVirtualMachines"


def test_registered_vm_gives_one_result() -> None:
    inventory = dataclasses.replace(
        make_inventory(virtual_machines=[make_server()], sql_virtual_machines=[make_sql_vm(offer="sql2019-ws2022")]),
        as_of=AS_OF,
    )
    assert [r.resource_type for r in supported_engine_and_os(inventory, Params({}))] == [
        "Microsoft.Compute/virtualMachines"
    ]


def test_lifecycle_table_holds_the_dates_the_control_names() -> None:
    assert SQL_SERVER_LIFECYCLE["2014"].extended_support_ends == date(2024, 7, 9)
    assert WINDOWS_SERVER_LIFECYCLE["2012 R2"].extended_support_ends == date(2023, 10, 10)
    assert identify_products(image("MicrosoftSQLServer", "SQL2014SP3-WS2012R2"), "Windows", None).unknown == ()


# --- the demo estate ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_inventory: Inventory) -> Inventory:
    """The demo estate collected through the local endpoint, judged at its pinned moment."""
    return demo_inventory


def verdicts(check: CheckFunction, inventory: Inventory, params: Params) -> dict[Status, set[str]]:
    """Resource names by status."""
    found: dict[Status, set[str]] = {}
    for result in results(check, inventory, params):
        found.setdefault(result.status, set()).add(result.resource_id.rsplit("/", 1)[-1])
    return found


def baseline_params(**overrides: str) -> Params:
    """The shipped baseline's parameter defaults with overrides."""
    return load_baseline(default_baseline_path(), builtin_registry()).resolve_params(overrides)


DEMO_EXPECTED: dict[str, tuple[CheckFunction, dict[str, str], dict[Status, set[str]]]] = {
    "EP-01 accepting Defender": (
        vm_antimalware,
        {"accept_defender_for_servers": "true"},
        {
            Status.PASS: {
                "vm-mul2-web01",
                "sqlvm-mul2-01",
                "vm-mul2-stg-web01",
                "vm-mul2-stg-jump01",
                "vm-mul2-web02",
                "sqlvm-mul2-stg-01",
                "vm-mul2-stg-build01",
                "vm-mul2-fgt01",
            },
            Status.FAIL: {"vm-mul2-stg-web02"},
        },
    ),
    "EP-01 not accepting Defender": (
        vm_antimalware,
        {"accept_defender_for_servers": "false"},
        {
            Status.PASS: {
                "vm-mul2-web01",
                "sqlvm-mul2-01",
                "vm-mul2-stg-web01",
                "vm-mul2-stg-jump01",
                "vm-mul2-web02",
                "sqlvm-mul2-stg-01",
                "vm-mul2-stg-build01",
            },
            Status.FAIL: {"vm-mul2-stg-web02", "vm-mul2-fgt01"},
        },
    ),
    "ENC-05 Azure SQL": (
        sql_database_tde,
        {},
        {Status.PASS: {"sqldb-mul2-reporting"}, Status.FAIL: {"sqldb-mul2-stg-reporting"}},
    ),
    "ENC-05 SQL VMs": (sql_vm_tde_attestation, {}, {Status.MANUAL: {"sqlvm-mul2-01", "sqlvm-mul2-stg-01"}}),
    "ENC-06": (
        supported_engine_and_os,
        {},
        {
            Status.PASS: {
                "vm-mul2-web01",
                "vm-mul2-web02",
                "vm-mul2-stg-web01",
                "vm-mul2-stg-web02",
                "vm-mul2-stg-jump01",
                "sqlvm-mul2-stg-01",
                "vm-mul2-fgt01",
                "vm-mul2-stg-build01",
            },
            Status.FAIL: {"sqlvm-mul2-01"},
        },
    ),
}


@pytest.mark.parametrize("case", list(DEMO_EXPECTED))
def test_demo_estate(demo: Inventory, case: str) -> None:
    check, overrides, expected = DEMO_EXPECTED[case]
    assert verdicts(check, demo, baseline_params(**overrides)) == expected


def test_demo_estate_collects_every_api_these_checks_require(demo: Inventory) -> None:
    registry = builtin_registry()
    ids = (
        "vm_antimalware",
        "sql_database_tde",
        "sql_vm_tde_attestation",
        "supported_engine_and_os",
    )
    needed = {api for check_id in ids for api in registry[check_id].spec.requires}
    collected = {c.api for c in demo.collections if c.ok}
    assert needed <= collected

"""ENC-06 (supported_engine_and_os), and the Windows and SQL Server versions told from publisher, offer, SKU
and version together."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from auditor.checks.images import (
    SQL_SERVER_LIFECYCLE,
    WINDOWS_SERVER_LIFECYCLE,
    SupportSubject,
    identify_products,
    supported_engine_and_os,
    supported_machines,
)
from auditor.model import Status, Verdict
from auditor.parameters import Params
from auditor.records.compute import ImageReference, VirtualMachine
from auditor.records.sql import SqlVirtualMachine
from tests.builders import RG, make_image_vm, make_inventory, make_sql_registration

AS_OF = "2026-11-28T12:00:00+00:00"


def support_of(
    vm: VirtualMachine | None = None, sql_vm: SqlVirtualMachine | None = None, as_of: str = AS_OF
) -> Verdict:
    """The verdict on the one machine of an inventory holding the VM and the registration, as of a moment."""
    inventory = make_inventory(virtual_machines=[vm] if vm else [], sql_virtual_machines=[sql_vm] if sql_vm else [])
    (subject,) = supported_machines(inventory)
    return supported_engine_and_os(subject, Params({}).at(datetime.fromisoformat(as_of)))


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
    result = support_of(make_image_vm(image=reference, os_type=os_type))
    assert result.status is expected
    assert says in result.message
    assert result.evidence["image"]["sku"] == reference.sku
    assert result.evidence["reference_date"] == "2026-11-28"


def test_end_of_support_is_judged_against_the_reference_time() -> None:
    sql2016 = make_image_vm(image=image("MicrosoftSQLServer", "SQL2016SP3-WS2019", "Enterprise"))
    assert support_of(sql2016, as_of="2026-07-14T23:00:00+00:00").status is Status.PASS
    assert support_of(sql2016, as_of="2026-07-15T00:00:00+00:00").status is Status.FAIL
    ws2016 = make_image_vm(image=image("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter"))
    assert support_of(ws2016, as_of="2027-01-13T00:00:00+00:00").status is Status.FAIL


def test_failure_evidence_names_products_dates_and_lifecycle_pages() -> None:
    result = support_of(make_image_vm(image=image("MicrosoftSQLServer", "SQL2014SP3-WS2012R2", "Enterprise")))
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
    vm = make_image_vm(image=image(None))
    result = support_of(vm, make_sql_registration(offer="SQL2014SP3-WS2012R2"))
    assert result.status is Status.FAIL
    assert "SQL Server 2014" in result.message
    assert result.evidence["sql_virtual_machine"]["image_offer"] == "SQL2014SP3-WS2012R2"


def test_sql_registration_without_an_offer_on_a_windows_image_is_manual() -> None:
    result = support_of(make_image_vm(), make_sql_registration(offer=None))
    assert result.status is Status.MANUAL
    assert "no image offer reported" in result.message


def test_past_product_fails_even_when_another_part_is_unknown() -> None:
    vm = make_image_vm(image=image("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter"))
    result = support_of(vm, make_sql_registration(offer=None))
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
    sql_vm = make_sql_registration("orphan", offer, vm_id=f"{RG}/providers/Microsoft.Compute/virtualMachines/elsewhere")
    result = support_of(sql_vm=sql_vm)
    assert result.status is expected
    assert "image" not in result.evidence


def test_a_registered_vm_is_one_subject_and_an_orphan_registration_another() -> None:
    orphan = make_sql_registration("orphan", vm_id=f"{RG}/providers/Microsoft.Compute/virtualMachines/elsewhere")
    registration = make_sql_registration(offer="sql2019-ws2022")
    inventory = make_inventory(virtual_machines=[make_image_vm()], sql_virtual_machines=[registration, orphan])
    subjects = list(supported_machines(inventory))
    assert subjects == [SupportSubject(inventory.virtual_machines[0], registration), SupportSubject(None, orphan)]
    assert [s.type for s in subjects] == [
        "Microsoft.Compute/virtualMachines",
        "Microsoft.SqlVirtualMachine/sqlVirtualMachines",
    ]


def test_lifecycle_table_holds_the_dates_the_control_names() -> None:
    assert SQL_SERVER_LIFECYCLE["2014"].extended_support_ends == date(2024, 7, 9)
    assert WINDOWS_SERVER_LIFECYCLE["2012 R2"].extended_support_ends == date(2023, 10, 10)
    assert identify_products(image("MicrosoftSQLServer", "SQL2014SP3-WS2012R2"), "Windows", None).unknown == ()


@pytest.mark.parametrize(
    ("publisher", "offer", "sku", "version", "expected"),
    [
        # The SKU names the year first, as most Windows Server SKUs do.
        ("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter", "latest", {"Windows Server 2019"}),
        ("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter", "latest", {"Windows Server 2012 R2"}),
        # The year further down the SKU.
        (
            "MicrosoftWindowsServer",
            "WindowsServer",
            "datacenter-core-2022-with-containers",
            "latest",
            {"Windows Server 2022"},
        ),
        # The year in the offer only.
        (
            "MicrosoftWindowsServer",
            "windows-server-2025",
            "datacenter-azure-edition",
            "latest",
            {"Windows Server 2025"},
        ),
        # Neither names it: the image version's OS build does (20348 is Windows Server 2022).
        ("MicrosoftWindowsServer", "WindowsServer", "datacenter-core", "20348.2227.240104", {"Windows Server 2022"}),
        ("MicrosoftWindowsServer", "WindowsServer", "datacenter", "14393.6709.240206", {"Windows Server 2016"}),
        # SQL Server: engine and OS in the offer.
        ("MicrosoftSQLServer", "sql2019-ws2022", "enterprise", "latest", {"SQL Server 2019", "Windows Server 2022"}),
        # An offer without the engine year: the image version's engine major (12 is SQL Server 2014).
        (
            "MicrosoftSQLServer",
            "sqlserver-ws2012r2",
            "standard",
            "12.0.240206",
            {"SQL Server 2014", "Windows Server 2012 R2"},
        ),
    ],
)
def test_versions_are_read_wherever_the_image_names_them(
    publisher: str, offer: str, sku: str, version: str, expected: set[str]
) -> None:
    facts = identify_products(ImageReference(publisher, offer, sku, version), "Windows", None)
    assert {p.product for p in facts.products} == expected
    assert facts.unknown == ()


def test_an_image_that_names_no_version_anywhere_stays_unknown() -> None:
    facts = identify_products(
        ImageReference("MicrosoftWindowsServer", "WindowsServer", "datacenter", "latest"), "Windows", None
    )
    assert facts.products == ()
    assert facts.unknown and "Windows Server version" in facts.unknown[0]

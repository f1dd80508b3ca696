"""Windows and SQL Server versions from publisher, offer, SKU and version together."""

from __future__ import annotations

import pytest

from auditor.checks.data_protection import identify_products
from auditor.records.compute import ImageReference


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

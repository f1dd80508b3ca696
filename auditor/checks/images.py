"""Images and what they run: Windows Server and SQL Server versions told from image references, and the
rule that none is past Microsoft's end of extended support (ENC-06)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from auditor.arm_ids import key
from auditor.inventory import Inventory
from auditor.model import Severity, Status, Verdict
from auditor.parameters import Params
from auditor.records.compute import ImageReference, VirtualMachine
from auditor.records.sql import SqlVirtualMachine
from auditor.registry import Remediation, check

SQL_IMAGE_PUBLISHER = "microsoftsqlserver"


@dataclass(frozen=True)
class Lifecycle:
    """A Microsoft product version and the last day of its extended (security) support."""

    product: str
    extended_support_ends: date
    page: str

    def ended_by(self, day: date) -> bool:
        """True when support ended before this day."""
        return day > self.extended_support_ends


_LIFECYCLE_PAGE = "https://learn.microsoft.com/lifecycle/products/"

# Extended End Dates as Microsoft's lifecycle pages give them (learn.microsoft.com/lifecycle/products/...):
# the last day of security updates outside a paid or Azure-granted Extended Security Updates programme,
# which delays patches but does not restore support. Keyed by the version as images name it.
SQL_SERVER_LIFECYCLE: Mapping[str, Lifecycle] = {
    version: Lifecycle(f"SQL Server {version}", ends, _LIFECYCLE_PAGE + page)
    for version, ends, page in (
        ("2008", date(2019, 7, 9), "microsoft-sql-server-2008"),
        ("2008 R2", date(2019, 7, 9), "microsoft-sql-server-2008-r2"),
        ("2012", date(2022, 7, 12), "microsoft-sql-server-2012"),
        ("2014", date(2024, 7, 9), "sql-server-2014"),
        ("2016", date(2026, 7, 14), "sql-server-2016"),
        ("2017", date(2027, 10, 12), "sql-server-2017"),
        ("2019", date(2030, 1, 8), "sql-server-2019"),
        ("2022", date(2033, 1, 11), "sql-server-2022"),
    )
}
WINDOWS_SERVER_LIFECYCLE: Mapping[str, Lifecycle] = {
    version: Lifecycle(f"Windows Server {version}", ends, _LIFECYCLE_PAGE + page)
    for version, ends, page in (
        ("2008", date(2020, 1, 14), "windows-server-2008"),
        ("2008 R2", date(2020, 1, 14), "windows-server-2008-r2"),
        ("2012", date(2023, 10, 10), "windows-server-2012"),
        ("2012 R2", date(2023, 10, 10), "windows-server-2012-r2"),
        ("2016", date(2027, 1, 12), "windows-server-2016"),
        ("2019", date(2029, 1, 9), "windows-server-2019"),
        ("2022", date(2031, 10, 14), "windows-server-2022"),
        ("2025", date(2034, 11, 14), "windows-server-2025"),
    )
}

WINDOWS_IMAGE_PUBLISHER = "microsoftwindowsserver"
# Marketplace offers "SQL2014SP3-WS2012R2", "sql2019-ws2022", "sql2019-ubuntu2004": engine, then OS.
_SQL_IN_OFFER = re.compile(r"^sql(\d{4})(r2)?", re.IGNORECASE)
_WS_IN_OFFER = re.compile(r"-ws(\d{4})(r2)?", re.IGNORECASE)
_LINUX_IN_OFFER = re.compile(r"-(ubuntu|rhel|sles)", re.IGNORECASE)
# Windows Server SKUs "2012-R2-Datacenter", "2022-datacenter-azure-edition", "2008-R2-SP1", and SKUs or
# offers that carry the year elsewhere: "datacenter-core-2019-with-containers", "windows-server-2025".
_WS_SKU = re.compile(r"(?:^|[-_])(20\d\d)(-?r2)?(?=[-_]|$)", re.IGNORECASE)
# Where the name holds no year, the image version does: Windows images are versioned by OS build
# (20348.2227.240104 is Windows Server 2022), SQL Server images by engine major (15.0.240213 is 2019).
WINDOWS_BUILDS = {
    "6002": "2008",
    "7601": "2008 R2",
    "9200": "2012",
    "9600": "2012 R2",
    "14393": "2016",
    "17763": "2019",
    "20348": "2022",
    "26100": "2025",
}
SQL_MAJORS = {"10": "2008", "11": "2012", "12": "2014", "13": "2016", "14": "2017", "15": "2019", "16": "2022"}


def _version(year: str, r2: str | None) -> str:
    return f"{year} R2" if r2 else year


def sql_server_in_offer(offer: str | None) -> Lifecycle | None:
    """The SQL Server version a SQL Server image offer names, if it is one the table knows."""
    match = _SQL_IN_OFFER.match(offer or "")
    return SQL_SERVER_LIFECYCLE.get(_version(match[1], match[2])) if match else None


def windows_server_in_offer(offer: str | None) -> Lifecycle | None:
    """The Windows Server version a SQL Server image offer names as its OS, if the table knows it."""
    match = _WS_IN_OFFER.search(offer or "")
    return WINDOWS_SERVER_LIFECYCLE.get(_version(match[1], match[2])) if match else None


def windows_server_in_sku(sku: str | None) -> Lifecycle | None:
    """The Windows Server version a MicrosoftWindowsServer image SKU (or offer) names, if the table knows it."""
    match = _WS_SKU.search(sku or "")
    return WINDOWS_SERVER_LIFECYCLE.get(_version(match[1], match[2])) if match else None


def _version_part(version: str | None, index: int) -> str:
    parts = (version or "").split(".")
    return parts[index] if len(parts) > index else ""


def windows_server_in_version(version: str | None) -> Lifecycle | None:
    """The Windows Server version an image version's OS build names (``20348.x.y``), if known."""
    name = WINDOWS_BUILDS.get(_version_part(version, 0))
    return WINDOWS_SERVER_LIFECYCLE.get(name) if name else None


def sql_server_in_version(version: str | None) -> Lifecycle | None:
    """The SQL Server version a SQL Server image version's engine major names (``15.0.x``), if known."""
    name = SQL_MAJORS.get(_version_part(version, 0))
    return SQL_SERVER_LIFECYCLE.get(name) if name else None


@dataclass(frozen=True)
class SupportFacts:
    """What the image references say about a machine's engine and OS, and what they leave unknown."""

    products: tuple[Lifecycle, ...]
    unknown: tuple[str, ...]


def identify_products(
    image: ImageReference | None, os_type: str | None, registration: SqlVirtualMachine | None
) -> SupportFacts:
    """The SQL Server and Windows Server versions a VM image and its SQL registration name."""
    # ``image`` is None when the VM itself was not collected and only the registration speaks for it.
    products: dict[str, Lifecycle] = {}
    unknown: list[str] = []
    publisher = ((image.publisher if image else None) or "").lower()
    offers = [image.offer if image and publisher == SQL_IMAGE_PUBLISHER else None]
    offers.append(registration.image_offer if registration else None)
    for offer in offers:
        for found in (sql_server_in_offer(offer), windows_server_in_offer(offer)):
            if found:
                products[found.product] = found
    if image and publisher == WINDOWS_IMAGE_PUBLISHER:
        # The SKU names the version most often, then the offer, then the OS build in the image version.
        found = windows_server_in_sku(image.sku) or windows_server_in_sku(image.offer)
        found = found or windows_server_in_version(image.version)
        if found:
            products[found.product] = found
    if image and publisher == SQL_IMAGE_PUBLISHER and not any(p.startswith("SQL Server") for p in products):
        found = sql_server_in_version(image.version)
        if found:
            products[found.product] = found
    has_sql = any(p.product.startswith("SQL Server") for p in products.values())
    has_windows = any(p.product.startswith("Windows Server") for p in products.values())
    runs_sql = registration is not None or publisher == SQL_IMAGE_PUBLISHER
    if runs_sql and not has_sql:
        named = [o for o in offers if o]
        unknown.append(
            f"SQL Server version not recognised in image offer {' / '.join(named)}"
            if named
            else "SQL Server registered but no image offer reported, so its version is unknown"
        )
    linux_sql = any(_LINUX_IN_OFFER.search(o or "") for o in offers)
    if not has_windows and not linux_sql:
        reason = _unknown_os(image, publisher, os_type)
        if reason:
            unknown.append(reason)
    return SupportFacts(tuple(products.values()), tuple(unknown))


def _unknown_os(image: ImageReference | None, publisher: str, os_type: str | None) -> str | None:
    """Why the OS version cannot be told, or None when the OS is not a Windows one this check covers."""
    if image is None:
        return "the VM was not collected and the SQL registration's image offer names no OS"
    if not publisher:
        return "cannot tell the OS version from the image reference (custom or gallery image, no marketplace reference)"
    if publisher in {WINDOWS_IMAGE_PUBLISHER, SQL_IMAGE_PUBLISHER}:
        return f"cannot tell the Windows Server version from image offer {image.offer} sku {image.sku}"
    if os_type is None:
        return f"cannot tell the OS from image publisher {image.publisher}: OS type not reported"
    if os_type.lower() == "windows":
        return f"cannot tell the Windows version of a Windows image from publisher {image.publisher}"
    return None


def judge_support(facts: SupportFacts, today: date) -> tuple[Status, str]:
    """The verdict (fail, manual or pass) and message for the identified products on a day."""
    ended = [p for p in facts.products if p.ended_by(today)]
    if ended:
        return Status.FAIL, "Past end of support: " + "; ".join(
            f"{p.product} extended support ended {p.extended_support_ends.isoformat()}" for p in ended
        )
    if facts.unknown:
        return Status.MANUAL, "; ".join(facts.unknown)
    if facts.products:
        return Status.PASS, "Supported: " + "; ".join(
            f"{p.product} until {p.extended_support_ends.isoformat()}" for p in facts.products
        )
    return Status.PASS, "Not a Microsoft Windows or SQL Server image"


@dataclass(frozen=True)
class SupportSubject:
    """A machine ENC-06 judges: a VM with its SQL registration, or a registration whose VM was not collected."""

    vm: VirtualMachine | None
    registration: SqlVirtualMachine | None

    @property
    def resource(self) -> VirtualMachine | SqlVirtualMachine:
        """The record the verdict is about: the VM where there is one."""
        found = self.vm or self.registration
        if found is None:
            raise ValueError("a support subject needs a VM or a SQL registration")
        return found

    @property
    def id(self) -> str:
        """The VM's id, else the registration's."""
        return self.resource.id

    @property
    def type(self) -> str:
        """The VM's type, else the registration's."""
        return self.resource.type

    @property
    def subscription_id(self) -> str:
        """The VM's subscription, else the registration's."""
        return self.resource.subscription_id


def supported_machines(inventory: Inventory) -> Iterator[SupportSubject]:
    """Every VM with its SQL registration, then every SQL registration whose VM was not collected."""
    registrations = {key(m.vm_id): m for m in inventory.sql_virtual_machines if m.vm_id}
    seen = {key(vm.id) for vm in inventory.virtual_machines}
    for vm in inventory.virtual_machines:
        yield SupportSubject(vm, registrations.get(key(vm.id)))
    for machine in inventory.sql_virtual_machines:
        if not (machine.vm_id and key(machine.vm_id) in seen):
            yield SupportSubject(None, machine)


@check(
    id="supported_engine_and_os",
    title="No SQL Server engine or Windows Server OS is past Microsoft's end of extended support",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Compute/virtualMachines", "Microsoft.SqlVirtualMachine/sqlVirtualMachines"),
    requires=("Microsoft.Compute/virtualMachines", "Microsoft.SqlVirtualMachine/sqlVirtualMachines"),
    over=supported_machines,
    subject="virtual machines or SQL Server registrations",
    rationale="An engine or OS past end of support receives no security fixes, so TDE and every other control "
    "on it rest on unpatched code; SQL Server 2014, which the policy names, ended support on 2024-07-09.",
    remediation=Remediation(
        summary="Upgrade SQL Server and Windows Server to supported versions (in place or by migrating the "
        "databases to a VM from a current image such as sql2022-ws2022, or to Azure SQL), and retire the old VM.",
        portal="Virtual machines > Create > Image: SQL Server 2022 on Windows Server 2022; then migrate the "
        "databases (Azure Database Migration Service or backup/restore)",
        cli="az vm create -g RG -n VM --image MicrosoftSQLServer:sql2022-ws2022:enterprise-gen2:latest",
        terraform='source_image_reference {\n  publisher = "MicrosoftSQLServer"\n  offer = "sql2022-ws2022"\n'
        '  sku = "enterprise-gen2"\n  version = "latest"\n}',
        bicep="imageReference: { publisher: 'MicrosoftSQLServer', offer: 'sql2022-ws2022', sku: 'enterprise-gen2', "
        "version: 'latest' }",
    ),
)
def supported_engine_and_os(machine: SupportSubject, params: Params) -> Verdict:
    """Fail a machine whose engine or OS is past support; manual where the image cannot tell the version."""
    # An image that names no version (a custom or gallery image) is ``manual``, not ``error``: the data was
    # collected completely, it just cannot show the OS version, which an attestation can.
    today = params.moment.date()
    vm, registration = machine.vm, machine.registration
    if vm is None:
        # Without the VM only the registration's offer speaks for the OS.
        facts = identify_products(None, None, registration)
        evidence = _support_evidence(facts, today) | {"sql_virtual_machine": _registration_evidence(registration)}
    else:
        facts = identify_products(vm.image, vm.os_type, registration)
        evidence = _support_evidence(facts, today) | {
            "image": {
                "publisher": vm.image.publisher,
                "offer": vm.image.offer,
                "sku": vm.image.sku,
                "version": vm.image.version,
            },
            "os_type": vm.os_type,
            "sql_virtual_machine": _registration_evidence(registration),
        }
    status, message = judge_support(facts, today)
    return Verdict(status, message, evidence)


def _support_evidence(facts: SupportFacts, today: date) -> dict[str, object]:
    return {
        "reference_date": today.isoformat(),
        "products": [
            {
                "product": p.product,
                "extended_support_ends": p.extended_support_ends.isoformat(),
                "ended": p.ended_by(today),
                "lifecycle_page": p.page,
            }
            for p in facts.products
        ],
        "unknown": list(facts.unknown),
    }


def _registration_evidence(machine: SqlVirtualMachine | None) -> dict[str, str | None] | None:
    if machine is None:
        return None
    return {"id": machine.id, "image_offer": machine.image_offer, "image_sku": machine.image_sku}

"""HTML report benchmark: a generated scan of 50,000 findings rendered to report.html and loaded in Chromium.

Prints the render time, the file size and what headless Chromium takes to load it: the page's own
figures (read from a dump of the rendered DOM, where report.js records them after forcing layout) and
the wall time of taking a screenshot of it less that of an empty page. Targets: size <= 15 MB, load and
render <= 3 s.

    python bench/report.py [--findings 50000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.inventory import Collection
from auditor.model import Finding, Severity, Status, rollup
from auditor.reports import html as html_report
from auditor.results import ControlSummary, ScanMetadata, ScanResult

SEED = 20250301
SUBSCRIPTIONS = 20
CONTROLS_PER_AREA = 9
AREAS = ("identity", "network", "endpoint", "encryption", "keys", "backup", "monitoring", "data", "organisation")
# The status mix of a large, mostly compliant estate.
STATUS_MIX = (
    (Status.PASS, 0.70),
    (Status.FAIL, 0.19),
    (Status.ERROR, 0.04),
    (Status.WAIVED, 0.03),
    (Status.NOT_APPLICABLE, 0.02),
    (Status.MANUAL, 0.01),
    (Status.ATTESTED, 0.01),
)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SIZE_TARGET_MB = 15.0
LOAD_TARGET_S = 3.0


@dataclass(frozen=True)
class Kind:
    """A resource type with the names, messages and evidence its findings carry."""

    type: str
    name: str
    fail: str
    passed: str


KINDS = (
    Kind(
        "Microsoft.Network/networkSecurityGroups",
        "nsg-{app}-{n:03d}",
        "rule allow-mgmt-{n} opens 3389/tcp to Internet at priority {p}",
        "no inbound rule opens 22 or 3389 to the Internet",
    ),
    Kind(
        "Microsoft.Compute/disks",
        "vm-{app}-{n:03d}-osdisk-01",
        "encrypted with platform-managed keys only; policy requires customer-managed keys",
        "encrypted at rest with a customer-managed key from des-{app}",
    ),
    Kind(
        "Microsoft.Storage/storageAccounts",
        "st{app}{n:04d}prd",
        "accepts TLS 1.0 and allows anonymous blob access",
        "requires TLS 1.2, public blob access disabled",
    ),
    Kind(
        "Microsoft.KeyVault/vaults",
        "kv-{app}-{n:03d}",
        "purge protection is off; soft delete retention {p} days",
        "purge protection on, soft delete retention 90 days",
    ),
    Kind(
        "Microsoft.Compute/virtualMachines",
        "vm-{app}-{n:03d}",
        "no backup item protects this VM in any Recovery Services vault",
        "protected by policy DailyPolicy-{app} in rsv-{app}",
    ),
    Kind(
        "Microsoft.Sql/servers",
        "sql-{app}-{n:03d}",
        "auditing disabled and firewall rule AllowAll admits 0.0.0.0-255.255.255.255",
        "auditing to la-{app} enabled; no firewall rule admits the Internet",
    ),
)
APPS = ("web", "api", "etl", "crm", "erp", "bi", "hr", "iot", "pay", "ops", "ml", "sso")
ENVIRONMENTS = ("prod", "dev", "test", "uat")
REGIONS = ("weu", "neu", "eus", "sea")


def evidence_for(kind: Kind, status: Status, rng: random.Random, name: str) -> dict[str, Any]:
    """Evidence shaped like what the checks record for each resource type."""
    failing = status is Status.FAIL
    if kind.type.endswith("networkSecurityGroups"):
        ports = ["3389"] if failing else ["443"]
        return {
            "rule": {
                "name": f"allow-{ports[0]}-{rng.randint(1, 40)}",
                "priority": rng.randint(100, 4000),
                "ports": ports,
            },
            "sources": ["*", "Internet"] if failing else ["10.0.0.0/8"],
            "direction": "Inbound",
        }
    if kind.type.endswith("disks"):
        return {
            "encryption_type": "EncryptionAtRestWithPlatformKey" if failing else "EncryptionAtRestWithCustomerKey",
            "disk_encryption_set_id": None if failing else f"des-{name[:12]}",
        }
    if kind.type.endswith("storageAccounts"):
        return {"minimum_tls_version": "TLS1_0" if failing else "TLS1_2", "allow_blob_public_access": failing}
    if kind.type.endswith("vaults"):
        return {"enable_purge_protection": not failing, "soft_delete_retention_days": rng.choice([7, 30, 90])}
    if kind.type.endswith("virtualMachines"):
        return {"protected": not failing, "vault": None if failing else f"rsv-{name[:10]}"}
    return {"auditing": "Disabled" if failing else "Enabled", "firewall_rules": rng.randint(0, 6)}


def generate(count: int) -> ScanResult:
    """A scan of ``count`` findings over nine areas, 81 controls and 20 subscriptions."""
    rng = random.Random(SEED)
    subscriptions = tuple(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(SUBSCRIPTIONS))
    specs = []
    for area in AREAS:
        for index in range(1, CONTROLS_PER_AREA + 1):
            control_id = f"{area[:3].upper()}-{index:02d}"
            kind = rng.choice(KINDS)
            severity = rng.choice(list(Severity))
            specs.append((control_id, area, kind, severity))
    statuses = [status for status, _ in STATUS_MIX]
    weights = [weight for _, weight in STATUS_MIX]
    findings = []
    for n in range(count):
        control_id, area, kind, severity = specs[n % len(specs)]
        status = rng.choices(statuses, weights)[0]
        subscription = rng.choice(subscriptions)
        app = rng.choice(APPS)
        group = f"rg-{rng.choice(ENVIRONMENTS)}-{rng.choice(REGIONS)}-{app}-{rng.randint(1, 30):03d}"
        name = kind.name.format(app=app, n=rng.randint(1, 999))
        resource_id = f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{kind.type}/{name}"
        shown = Status.FAIL if status in (Status.FAIL, Status.WAIVED) else Status.PASS
        message = (kind.fail if shown is Status.FAIL else kind.passed).format(app=app, n=n % 97, p=rng.randint(7, 4000))
        evidence = evidence_for(kind, shown, rng, name)
        if status is Status.ERROR:
            message = f"{kind.type.rsplit('/', 1)[-1]} not collected for /subscriptions/{subscription}: HTTP 403"
            evidence = {"status_code": 403, "error_code": "AuthorizationFailed"}
        elif status is Status.WAIVED:
            expires = f"2025-{rng.randint(3, 12):02d}-{rng.randint(1, 28):02d}"
            message = f"Waived until {expires} by team-{app}: migration planned (was fail: {message})"
            evidence = {
                **evidence,
                "waiver": {"owner": f"team-{app}", "reason": "migration planned", "expires": expires, "resource": "*"},
                "waived_status": "fail",
            }
        elif status is Status.ATTESTED:
            message = f"Attested by ciso-office on 2025-01-15, valid until 2025-{rng.randint(3, 12):02d}-01"
            evidence = {
                "attestation": {
                    "attested_by": "ciso-office",
                    "date": "2025-01-15",
                    "evidence": "minutes of the incident response exercise, DOC-4411",
                    "expires": "2025-12-01",
                }
            }
        elif status is Status.MANUAL:
            message = "needs an attestation: no API shows whether this is in place"
            evidence = {}
        findings.append(
            Finding(
                control_id=control_id,
                check_id=f"{area}.{kind.type.rsplit('/', 1)[-1].lower()}_{control_id[-2:]}",
                title=f"{kind.type.rsplit('/', 1)[-1]} meet {control_id}",
                status=status,
                severity=severity,
                resource_id=resource_id,
                resource_type=kind.type,
                subscription_id=subscription,
                message=message,
                evidence=evidence,
                remediation=(
                    f"Apply the {control_id} setting on every {kind.type} in scope.\n\n"
                    f"Portal: open the resource, Settings > Security, and turn the {area} protection on.\n"
                    "Bicep: change the property in the module and redeploy."
                ),
            )
        )
    by_control: dict[str, list[Finding]] = {}
    for finding in findings:
        by_control.setdefault(finding.control_id, []).append(finding)
    controls = []
    for control_id, area, kind, severity in specs:
        members = by_control.get(control_id, [])
        counts = {status.value: sum(1 for f in members if f.status is status) for status in Status}
        controls.append(
            ControlSummary(
                id=control_id,
                title=f"{kind.type.rsplit('/', 1)[-1]} are configured as the policy requires ({control_id})",
                area=area,
                severity=severity,
                mode="automated",
                quote=f"All {area} resources holding MUL2 data are protected as section {control_id} describes.",
                description=f"Judges every {kind.type} in scope against the {area} requirements of the baseline.",
                status=rollup([f.status for f in members]),
                counts=counts,
                frameworks={"cis_azure": ("6.1", "6.2"), "nist_800_53": ("AC-17", "SC-7")},
            )
        )
    metadata = ScanMetadata(
        tool_version="0.1.0",
        started_at="2025-03-01T10:00:00+00:00",
        finished_at="2025-03-01T10:42:10+00:00",
        source="azure",
        subscriptions=subscriptions,
        baseline_path="baseline.toml",
        baseline_sha256="0" * 64,
        baseline_name="MUL2 data-handling baseline",
        parameters={"allowed_rdp_sources": ["10.0.0.0/8"], "min_soft_delete_days": 90},
        as_of="2025-03-01T10:42:10+00:00",
    )
    collections = tuple(
        Collection("networkSecurityGroups", s, f"/subscriptions/{s}", ok=i != 0, status_code=200 if i else 403)
        for i, s in enumerate(subscriptions)
    )
    return ScanResult(metadata=metadata, controls=tuple(controls), findings=tuple(findings), collections=collections)


def chromium() -> str | None:
    """The Chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def run(browser: str, profile: Path, *arguments: str) -> tuple[float, bytes]:
    """Wall time and output of one headless Chromium run."""
    started = time.perf_counter()
    completed = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return time.perf_counter() - started, completed.stdout


def screenshot(browser: str, profile: Path, url: str, shot: Path) -> float:
    """Wall time of loading url, laying it out and painting the first screen."""
    return run(browser, profile, "--window-size=1280,1000", f"--screenshot={shot}", url)[0]


def dumped_head(browser: str, profile: Path, url: str) -> str:
    """The start of the serialised DOM once url has loaded, where the page records its figures."""
    # Serialising a 15 MB DOM takes seconds of its own, so this run is not timed.
    return run(browser, profile, "--dump-dom", url)[1][:4096].decode("utf-8", "replace")


def figure(head: str, name: str) -> float | None:
    """A number the page recorded on its root element, in ms."""
    found = re.search(rf'{name}="(\d+)"', head)
    return float(found.group(1)) if found else None


def main() -> int:
    """Generate, render, load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3, help="Chromium loads to take the median of")
    parser.add_argument("--keep", type=Path, help="folder to leave report.html in")
    args = parser.parse_args()

    started = time.perf_counter()
    result = generate(args.findings)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    page = html_report.render(result)
    rendered = time.perf_counter() - started
    size_mb = len(page.encode("utf-8")) / 1_000_000

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        report = folder / "report.html"
        report.write_text(page, encoding="utf-8")
        empty = Path(scratch) / "empty.html"
        empty.write_text("<!doctype html><title>empty</title>", encoding="utf-8")

        print(f"findings:              {len(result.findings):,} in {len(result.controls)} controls")
        print(f"generated in:          {generated:.2f} s")
        print(f"rendered in:           {rendered:.2f} s")
        print(f"report.html size:      {size_mb:.2f} MB   (target <= {SIZE_TARGET_MB:.0f} MB)")
        browser = chromium()
        if browser is None:
            print("chromium not installed: load time not measured")
            return 0 if size_mb <= SIZE_TARGET_MB else 1
        profile = Path(scratch) / "profile"
        shot = Path(scratch) / "shot.png"
        screenshot(browser, profile, empty.as_uri(), shot)  # the first start fills the profile and font caches
        baseline = statistics.median(screenshot(browser, profile, empty.as_uri(), shot) for _ in range(args.runs))
        walls = [screenshot(browser, profile, report.as_uri(), shot) for _ in range(args.runs)]
        load = statistics.median(walls) - baseline
        ready = [figure(dumped_head(browser, profile, report.as_uri()), "data-ready-ms") for _ in range(args.runs)]
        filtered_url = report.as_uri() + "#filter?status=fail&text=prod-weu"
        filtered = [figure(dumped_head(browser, profile, filtered_url), "data-filter-ms") for _ in range(args.runs)]
        print(f"empty page screenshot: {baseline:.2f} s (median of {args.runs})")
        print(f"report screenshot:     {statistics.median(walls):.2f} s, {load:.2f} s above the empty page")
        print(f"page ready (in page):  {_median_ms(ready)}   (navigation start to parsed, scripted and laid out)")
        print(f"first filter (in page): {_median_ms(filtered)}   (status=fail, text 'prod-weu': rows hidden, laid out)")
        within = size_mb <= SIZE_TARGET_MB and load <= LOAD_TARGET_S
        print(f"targets met:           {'yes' if within else 'no'}   (load target <= {LOAD_TARGET_S:.0f} s)")
        return 0 if within else 1


def _median_ms(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known) / 1000:.2f} s" if known else "not recorded"


if __name__ == "__main__":
    sys.exit(main())

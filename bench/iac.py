"""`auditor iac` benchmark: a generated tree of Terraform files, judged by `auditor iac` and by plain checkov.

Prints the wall time of `auditor iac` on the tree (checkov with the auditor's checks, the mapping and the
reports), of plain checkov over the same tree and framework with its built-in checks and no external
checks, and their ratio. Target: the auditor adds at most 10 % to a plain checkov run.

    python bench/iac.py [--files 200] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from auditor.iac.runner import OFFLINE_ENVIRONMENT, checkov_environment

SOURCES = ("*", "Internet", "10.0.0.0/8", "203.0.113.0/24", "198.51.100.0/24", "172.16.201.0/24")
PORTS = ("3389", "22", "443", "1433", "3380-3390", "80")


def terraform_file(index: int, rng: random.Random) -> str:
    """One file of realistic azurerm resources: an NSG with rules, a key vault, storage, a disk, a policy."""
    rules = []
    for number in range(rng.randint(2, 6)):
        rules.append(
            f"""  security_rule {{
    name                       = "rule-{number}"
    priority                   = {100 + 10 * number}
    direction                  = "Inbound"
    access                     = "{rng.choice(("Allow", "Allow", "Deny"))}"
    protocol                   = "{rng.choice(("Tcp", "Udp", "*"))}"
    source_port_range          = "*"
    destination_port_range     = "{rng.choice(PORTS)}"
    source_address_prefix      = "{rng.choice(SOURCES)}"
    destination_address_prefix = "*"
  }}
"""
        )
    return f"""resource "azurerm_network_security_group" "nsg_{index}" {{
  name                = "nsg-{index}"
  location            = "eastus"
  resource_group_name = "rg-{index}"

{"".join(rules)}}}

resource "azurerm_key_vault" "kv_{index}" {{
  name                       = "kv-{index}"
  location                   = "eastus"
  resource_group_name        = "rg-{index}"
  tenant_id                  = "00000000-0000-0000-0000-000000000000"
  sku_name                   = "standard"
  soft_delete_retention_days = {rng.choice((7, 30, 90))}
  purge_protection_enabled   = {rng.choice(("true", "false"))}
}}

resource "azurerm_storage_account" "st_{index}" {{
  name                     = "st{index:05d}"
  location                 = "{rng.choice(("eastus", "westeurope"))}"
  resource_group_name      = "rg-{index}"
  account_tier             = "Standard"
  account_replication_type = "{rng.choice(("LRS", "GRS", "RAGRS", "ZRS"))}"
}}

resource "azurerm_managed_disk" "disk_{index}" {{
  name                 = "disk-{index}"
  location             = "eastus"
  resource_group_name  = "rg-{index}"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
  disk_size_gb         = 128
}}

resource "azurerm_backup_policy_vm" "policy_{index}" {{
  name                = "policy-{index}"
  resource_group_name = "rg-{index}"
  recovery_vault_name = "rsv-{index}"

  backup {{
    frequency = "Daily"
    time      = "23:00"
  }}

  retention_daily {{
    count = {rng.choice((7, 30, 35))}
  }}
}}
"""


def generate(folder: Path, files: int, seed: int = 7) -> None:
    """Write the tree: one folder per ten files, as a repository splits its stacks."""
    rng = random.Random(seed)
    for index in range(files):
        stack = folder / f"stack-{index // 10:03d}"
        stack.mkdir(parents=True, exist_ok=True)
        (stack / f"resources_{index:04d}.tf").write_text(terraform_file(index, rng), encoding="utf-8")


def timed(command: list[str], environment: dict[str, str] | None = None) -> float:
    """Wall time of one run; the run must succeed (exit 0 or the gate's 1)."""
    start = time.perf_counter()
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[:4])} failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return elapsed


def _times(runs: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in runs)


def main() -> None:
    """Generate the tree, time both runs alternately, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=200, help="Terraform files to generate (default 200)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--keep", type=Path, help="write the tree here and keep it")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-iac-"))
    tree = args.keep or scratch / "tree"
    try:
        generate(tree, args.files)
        auditor = [sys.executable, "-m", "auditor.iac.cli", str(tree), "--out", str(scratch / "report")]
        auditor += ["--format", "json,sarif", "--quiet"]
        checkov = [sys.executable, "-m", "checkov.main", "--directory", str(tree), "--framework", "terraform"]
        checkov += ["--output", "json", "--skip-download", "--soft-fail"]
        plain_environment = checkov_environment(scratch / "unused.json")
        ours: list[float] = []
        plain: list[float] = []
        for _ in range(args.runs):
            # Alternated, so drift in the machine's load touches both alike.
            plain.append(timed(checkov, plain_environment))
            ours.append(timed(auditor))
        ours_median, plain_median = statistics.median(ours), statistics.median(plain)
        print(f"tree: {args.files} .tf files ({tree})")
        print(f"plain checkov, terraform, built-in checks: {plain_median:.2f} s (runs {_times(plain)})")
        print(f"auditor iac, with its checks and reports:  {ours_median:.2f} s (runs {_times(ours)})")
        print(f"ratio auditor / checkov: {ours_median / plain_median:.3f} (target <= 1.10)")
        print(f"offline settings for both: {', '.join(sorted(OFFLINE_ENVIRONMENT))}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

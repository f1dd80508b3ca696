"""Collection benchmark: a large generated estate served with per-request latency, scanned end to end.

Prints requests made, requests per resource, wall time, the lower bound the request count implies at
the given latency and concurrency, their ratio, client CPU (collection and evaluation, this process
and its collector processes, not the endpoint's) per resource, and peak RSS. Targets: ratio <= 1.2,
CPU <= 0.3 ms per resource, requests per resource <= 0.3 (ARM) or <= 0.05 (Resource Graph), peak RSS
under 1 GB.

    python bench/collect.py [--subscriptions 10] [--resources 2000] [--latency-ms 50] [--workers 8]
                            [--source arm|graph|auto] [--graph-quota 15] [--runs 3]

With several runs the figures are those of the run with the least client CPU, and each timing figure is
followed by its spread over all runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.collect.scan import collect_inventory
from auditor.collect.session import AzureSession
from auditor.emulator import demo_estate_path
from auditor.evaluate import evaluate
from auditor.gc_tuning import tune_for_scan
from auditor.inventory import Inventory

# Share of each top-level resource type in a subscription: a realistic IaaS-heavy mix.
MIX = {
    "Microsoft.Network/networkInterfaces": 0.18,
    "Microsoft.Compute/disks": 0.22,
    "Microsoft.Compute/virtualMachines": 0.09,
    "Microsoft.Network/publicIPAddresses": 0.05,
    "Microsoft.Network/networkSecurityGroups": 0.07,
    "Microsoft.Network/virtualNetworks": 0.01,
    "Microsoft.Compute/snapshots": 0.06,
    "Microsoft.Compute/diskEncryptionSets": 0.005,
    "Microsoft.Network/routeTables": 0.01,
    "Microsoft.KeyVault/vaults": 0.02,
    "Microsoft.Storage/storageAccounts": 0.06,
    "Microsoft.Sql/servers": 0.01,
    "Microsoft.RecoveryServices/vaults": 0.005,
    "Microsoft.Authorization/roleAssignments": 0.05,
    "Microsoft.Insights/actionGroups": 0.005,
    "Microsoft.Insights/activityLogAlerts": 0.01,
    "Microsoft.SqlVirtualMachine/sqlVirtualMachines": 0.005,
}
# Types kept once per subscription as the demo has them.
ONCE = (
    "Microsoft.Security/pricings",
    "Microsoft.Security/securityContacts",
    "Microsoft.Authorization/roleDefinitions",
    "Microsoft.Network/azureFirewalls",
    "Microsoft.Network/firewallPolicies",
    "Microsoft.Network/virtualNetworkGateways",
)


def units(resources: list[dict[str, Any]]) -> dict[str, list[list[dict[str, Any]]]]:
    """Demo resources grouped by top-level type, each with the child entries that live under its id."""
    by_type: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
    ids = sorted(resources, key=lambda r: len(r["id"]))
    for candidate in ids:
        parent = next(
            (
                u
                for units_ in by_type.values()
                for u in units_
                if candidate["id"].lower().startswith(u[0]["id"].lower() + "/")
            ),
            None,
        )
        if parent is not None:
            parent.append(candidate)
        else:
            by_type[candidate["type"]].append([candidate])
    return by_type


def generate(subscriptions: int, per_subscription: int) -> tuple[dict[str, Any], int]:
    """A large estate cloned from the demo's resources, and the number of resources it holds."""
    demo = json.loads(demo_estate_path().read_text(encoding="utf-8"))
    templates = units(demo["resources"])
    subs, resources = [], []
    for index in range(subscriptions):
        sub = str(uuid.UUID(int=index + 1))
        subs.append({"subscriptionId": sub, "displayName": f"bench {index}", "state": "Enabled"})
        plan = {kind: max(1, round(share * per_subscription)) for kind, share in MIX.items()}
        plan |= {kind: 1 for kind in ONCE}
        for kind, count in plan.items():
            for n in range(count):
                unit = templates[kind][n % len(templates[kind])]
                resources.extend(clone(unit, sub, None if kind in ONCE else n))
    return {"subscriptions": subs, "resources": resources, "graph": demo["graph"]}, len(resources)


def clone(unit: list[dict[str, Any]], sub: str, n: int | None) -> list[dict[str, Any]]:
    """A copy of a resource and its children under a new subscription, and a new name unless n is None."""
    root = unit[0]
    old_root = root["id"]
    old_sub = old_root.split("/")[2]
    new_root = (old_root if n is None else f"{old_root}-{n:05d}").replace(old_sub, sub)
    copies = []
    for item in unit:
        # Children embedded in the copy (a VM's extensions, an NSG's rules) move beneath the new id too.
        twin = json.loads(json.dumps(item).replace(f'"{old_root}/', f'"{new_root}/'))
        twin["id"] = new_root + item["id"][len(old_root) :]
        if item is root and n is not None:
            twin["name"] = f"{root['name']}-{n:05d}"
        copies.append(twin)
    return copies


def _field(line: str) -> tuple[str, str]:
    """One "name: value" line the endpoint prints at start."""
    name, _, value = line.strip().partition(": ")
    return name, value


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its waited-for children so far."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def _peak_rss_mb() -> float:
    """The largest resident set of this process and of its waited-for children so far."""
    return max(_own_peak_rss_mb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def _own_peak_rss_mb() -> float:
    """This process's own peak resident set since it started.

    Linux's ``ru_maxrss`` for a process started with exec keeps the peak of the process it replaced, here
    the fork of the parent that generated the estate (1.2 GB for 100,000 resources), whatever the scan
    itself used; ``VmHWM`` is the peak of this process's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass  # not Linux: ru_maxrss is the best there is
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _at_least_one(text: str) -> int:
    """A count of runs: a whole number of one or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--resources", type=int, default=2000, help="resources per subscription")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8, help="concurrent requests")
    # 1, as for `auditor scan`: records built from raw JSON are cheap enough that handing them back from
    # worker processes (pickled) costs more CPU than the second core saves.
    parser.add_argument("--processes", type=int, default=1, help="collector processes sharing the subscriptions")
    parser.add_argument("--page-size", type=int, default=1000)
    # CPU time on a shared machine varies by a quarter from run to run: the least of several is the scan's own.
    parser.add_argument("--runs", type=_at_least_one, default=1, help="scans to run, each against a fresh endpoint")
    parser.add_argument("--source", choices=("arm", "graph", "auto"), default="arm", help="where listings come from")
    parser.add_argument(
        "--graph-quota", type=int, default=15, help="Resource Graph queries per 5 s the endpoint allows (Azure: 15)"
    )
    # Internal: scan an endpoint that is already running and print the figures as JSON (see main).
    parser.add_argument("--scan", nargs=3, metavar=("URL", "CA_FILE", "TOKEN"), help=argparse.SUPPRESS)
    return parser.parse_args()


def scan(args: argparse.Namespace, url: str, ca_file: str, token: str) -> dict[str, Any]:
    """Collect and evaluate in this process, tuned as the auditor command tunes itself; its figures."""
    tune_for_scan()
    session = AzureSession.for_emulator(url, ca_file, token, max_connections=args.workers)
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    inventory = collect_inventory(session, max_workers=args.workers, processes=args.processes, source=args.source)
    wall = time.perf_counter() - started
    collect_cpu = _cpu_seconds() - cpu_before
    sent = session.requests_sent
    session.close()
    collected_mb = _peak_rss_mb()
    evaluation_started = _cpu_seconds()
    findings = judge(inventory)
    evaluate_cpu = _cpu_seconds() - evaluation_started
    return {
        "wall": wall,
        "sent": sent,
        "collect_cpu": collect_cpu,
        "evaluate_cpu": evaluate_cpu,
        "findings": findings,
        # This process and its collector processes: the endpoint and the estate generator are not in it.
        "peak_mb": _peak_rss_mb(),
        "collected_mb": collected_mb,
        "failed": [c.describe() for c in inventory.collections if not c.ok],
    }


def main() -> int:
    """Generate and serve the estate, scan it in a fresh process (``--runs`` times) and print the figures."""
    args = _arguments()
    if args.scan:
        print(json.dumps(scan(args, *args.scan)))
        return 0
    estate, count = generate(args.subscriptions, args.resources)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "estate.json"
        path.write_text(json.dumps(estate), encoding="utf-8")
        del estate
        runs = [_served_scan(args, path) for _ in range(args.runs)]
    _print(args, count, runs)
    return 0


def _served_scan(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """One scan of the estate file, each against a freshly started endpoint (so with a full query quota)."""
    # The endpoint runs in its own process so its work does not compete with the scan for the GIL.
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "auditor",
            "emulator",
            "--estate",
            str(path),
            "--latency-ms",
            str(args.latency_ms),
            "--page-size",
            str(args.page_size),
            "--graph-quota",
            str(args.graph_quota),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        info = dict(_field(server.stdout.readline()) for _ in range(3))
        # The scan runs in a process of its own, so its peak memory is not the generator's.
        done = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                *sys.argv[1:],
                "--scan",
                info["url"],
                info["ca-file"],
                info["token"],
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures
    finally:
        server.terminate()
        server.wait(timeout=10)


def _print(args: argparse.Namespace, count: int, runs: list[dict[str, Any]]) -> None:
    """The figures of the run with the least client CPU, and each figure's spread over the runs."""
    cpu_ms = [(r["collect_cpu"] + r["evaluate_cpu"]) / count * 1000 for r in runs]
    best = runs[cpu_ms.index(min(cpu_ms))]
    sent, wall = best["sent"], best["wall"]
    collect_cpu, evaluate_cpu = best["collect_cpu"], best["evaluate_cpu"]
    bound = sent * (args.latency_ms / 1000) / args.workers
    ratios = [r["wall"] / (r["sent"] * (args.latency_ms / 1000) / args.workers) for r in runs]
    request_target = 0.05 if args.source != "arm" else 0.3
    # Steps answered from Resource Graph rows run in the scanning process (see collect_inventory).
    processes = args.processes if args.source == "arm" else 1
    print(f"estate:                {args.subscriptions} subscriptions x {args.resources} = {count} resources")
    print(f"source:                {args.source} (Resource Graph quota {args.graph_quota} queries per 5 s)")
    print(f"runs:                  {len(runs)} (figures of the run with the least client CPU; spread over all)")
    print(f"requests made:         {sent}")
    print(f"requests per resource: {sent / count:.3f}   (target <= {request_target})")
    print(f"latency, concurrency:  {args.latency_ms} ms, {args.workers} requests in flight ({processes} processes)")
    print(f"wall time:             {wall:.2f} s{_spread([r['wall'] for r in runs], '.2f', ' s')}")
    print(f"lower bound:           {bound:.2f} s   (requests x latency / concurrency)")
    print(f"ratio:                 {wall / bound:.2f}   (target <= 1.2){_spread(ratios, '.2f', '')}")
    print(f"client CPU:            {collect_cpu:.2f} s collection + {evaluate_cpu:.2f} s evaluation")
    print(f"CPU per resource:      {min(cpu_ms):.3f} ms   (target <= 0.3 ms){_spread(cpu_ms, '.3f', ' ms')}")
    print(f"findings:              {best['findings']}")
    print(
        f"peak RSS:              {max(r['peak_mb'] for r in runs):.0f} MB   (target < 1024 MB; the scanning "
        f"processes; {max(r['collected_mb'] for r in runs):.0f} MB by the end of collection)"
    )
    print(f"failed listings:       {len(best['failed'])}")
    for line in best["failed"][:5]:
        print(f"  {line}")


def _spread(values: list[float], spec: str, unit: str) -> str:
    """ ", all runs a to b (median m)" when there was more than one run."""
    if len(values) < 2:
        return ""
    low, high, middle = min(values), max(values), statistics.median(values)
    return f"; runs {low:{spec}} to {high:{spec}}{unit}, median {middle:{spec}}{unit}"


def judge(inventory: Inventory) -> int:
    """Evaluate the inventory with the shipped baseline; the number of findings."""
    registry = builtin_registry()
    baseline = load_baseline(default_baseline_path(), registry)
    return len(evaluate(inventory, baseline, registry, baseline.resolve_params()).findings)


if __name__ == "__main__":
    sys.exit(main())

"""Deleting or nulling any one field of any resource never turns a verdict into pass (or not applicable).

The raw resources are read once from the demo estate through the real clients; each mutation is applied
to the raw JSON, only that resource's record is rebuilt with the collectors' own builders, and only the
checks that read its type are run again. The only exemptions are fields whose absence the contract
tables give a documented meaning.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.network import NetworkManagementClient

from auditor.arm_ids import key
from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.collect import (
    authorization,
    backup,
    compute,
    defender,
    eligibility,
    firewall,
    keys,
    keyvault,
    monitor,
    network,
    sql,
    storage,
    web,
)
from auditor.collect.base import Field, arm_pipeline, list_objects, path, resource_path, unreadable_of
from auditor.collect.scan import collect_inventory
from auditor.emulator import demo_estate_path
from auditor.evaluate import judge_each, judged_with_unreadable, unreadable_index
from auditor.inventory import Inventory
from auditor.model import CheckResult, Status
from auditor.registry import RegisteredCheck
from tests.harness import example_body, serve

Builder = Callable[[Mapping[str, Any], Any], Any]
GOOD = frozenset({Status.PASS, Status.NOT_APPLICABLE})


def _prefixed(prefix: str, contract: tuple[Field, ...]) -> tuple[Field, ...]:
    return tuple(dataclasses.replace(f, path=f"{prefix}.{f.path}") for f in contract)


# Inventory field -> (builder, contract, URL of the listing under a parent or subscription).
TOP_LEVEL: dict[str, tuple[Builder, tuple[Field, ...], str, str]] = {
    "network_security_groups": (
        network.network_security_group,
        network.NSG_CONTRACT
        + _prefixed("properties.securityRules[]", network.SECURITY_RULE_CONTRACT)
        + _prefixed("properties.defaultSecurityRules[]", network.SECURITY_RULE_CONTRACT),
        network.NSGS_API,
        network.API_VERSION,
    ),
    "virtual_networks": (network.virtual_network, network.VNET_CONTRACT, network.VNETS_API, network.API_VERSION),
    "network_interfaces": (network.network_interface, network.NIC_CONTRACT, network.NICS_API, network.API_VERSION),
    "public_ip_addresses": (
        network.public_ip_address,
        network.PUBLIC_IP_CONTRACT,
        network.PUBLIC_IPS_API,
        network.API_VERSION,
    ),
    "virtual_machines": (compute.virtual_machine, compute.VM_CONTRACT, compute.VMS_API, compute.VM_API_VERSION),
    "disks": (compute.disk, compute.DISK_CONTRACT, compute.DISKS_API, compute.DISK_API_VERSION),
    "snapshots": (compute.snapshot, compute.SNAPSHOT_CONTRACT, compute.SNAPSHOTS_API, compute.DISK_API_VERSION),
    "disk_encryption_sets": (
        compute.disk_encryption_set,
        compute.DES_CONTRACT,
        compute.DES_API,
        compute.DISK_API_VERSION,
    ),
    "key_vaults": (keyvault.key_vault, keyvault.VAULT_CONTRACT, keyvault.VAULTS_API, keyvault.API_VERSION),
    "storage_accounts": (
        storage.storage_account,
        storage.STORAGE_ACCOUNT_CONTRACT,
        storage.STORAGE_ACCOUNTS_API,
        storage.API_VERSION,
    ),
    "sql_servers": (sql.sql_server, sql.SERVER_CONTRACT, sql.SERVERS_API, sql.SQL_API_VERSION),
    # The endpoint answers the list and the GET with $expand=* with one body, so one subject covers both reads.
    "sql_virtual_machines": (
        lambda raw, sid: sql.with_auto_backup_settings(raw, sql.sql_virtual_machine(raw, sid)),
        sql.SQL_VM_CONTRACT + sql.AUTO_BACKUP_CONTRACT,
        sql.SQL_VMS_API,
        sql.SQL_VM_API_VERSION,
    ),
    "recovery_vaults": (backup.recovery_vault, backup.VAULT_CONTRACT, backup.VAULTS_API, backup.VAULTS_API_VERSION),
    "azure_firewalls": (
        firewall.azure_firewall,
        firewall.FIREWALL_CONTRACT
        + _prefixed("properties.natRuleCollections[].properties.rules[]", firewall.NAT_RULE_CONTRACT),
        firewall.FIREWALLS_API,
        network.API_VERSION,
    ),
    "firewall_policies": (
        firewall.firewall_policy,
        firewall.POLICY_CONTRACT,
        firewall.POLICIES_API,
        network.API_VERSION,
    ),
    "route_tables": (
        firewall.route_table,
        firewall.ROUTE_TABLE_CONTRACT,
        firewall.ROUTE_TABLES_API,
        network.API_VERSION,
    ),
    "web_apps": (web.web_app, web.SITE_CONTRACT, web.SITES_API, web.API_VERSION),
    "security_contacts": (
        defender.security_contact,
        defender.SECURITY_CONTACT_CONTRACT,
        defender.CONTACTS_API,
        defender.CONTACTS_API_VERSION,
    ),
    "defender_plans": (
        defender.defender_plan,
        defender.PRICING_CONTRACT,
        defender.PRICINGS_API,
        defender.PRICINGS_API_VERSION,
    ),
    "action_groups": (
        monitor.action_group,
        monitor.ACTION_GROUP_CONTRACT,
        monitor.ACTION_GROUPS_API,
        monitor.ACTION_GROUPS_API_VERSION,
    ),
    "role_assignments": (
        authorization.role_assignment,
        authorization.ASSIGNMENT_CONTRACT,
        authorization.ASSIGNMENTS_API,
        authorization.API_VERSION,
    ),
    "role_eligibilities": (
        eligibility.role_eligibility,
        eligibility.ELIGIBILITY_CONTRACT,
        eligibility.ELIGIBILITIES_API,
        eligibility.API_VERSION,
    ),
}
# Alert rules come from two listings with two builders into one field.
ALERT_LISTINGS = (
    (
        monitor.activity_log_alert,
        monitor.ACTIVITY_LOG_ALERT_CONTRACT,
        monitor.ACTIVITY_LOG_ALERTS_API,
        monitor.ACTIVITY_LOG_ALERTS_API_VERSION,
    ),
    (monitor.metric_alert, monitor.METRIC_ALERT_CONTRACT, monitor.METRIC_ALERTS_API, monitor.METRIC_ALERTS_API_VERSION),
)
# Children listed per parent: field -> (parent field, builder(raw, parent), contract, child path, api-version).
CHILDREN: dict[str, tuple[str, Builder, tuple[Field, ...], str, str]] = {
    "key_vault_keys": (
        "key_vaults",
        lambda raw, vault: keys.key_vault_key(raw, vault.id, vault.subscription_id),
        keys.KEY_CONTRACT,
        "/keys",
        keyvault.API_VERSION,
    ),
    "sql_databases": ("sql_servers", sql.sql_database, sql.DATABASE_CONTRACT, "/databases", sql.SQL_API_VERSION),
    "backup_policies": (
        "recovery_vaults",
        backup.backup_policy,
        backup.POLICY_CONTRACT,
        "/backupPolicies",
        backup.BACKUP_API_VERSION,
    ),
    "protected_items": (
        "recovery_vaults",
        backup.protected_item,
        backup.PROTECTED_ITEM_CONTRACT,
        "/backupProtectedItems",
        backup.BACKUP_API_VERSION,
    ),
}


@dataclasses.dataclass(frozen=True)
class Subject:
    """One raw resource with the builder that makes its record and where the record sits."""

    field: str
    raw: dict[str, Any]
    build: Callable[[Mapping[str, Any]], Any]
    contract: tuple[Field, ...]


def _listing(session: Any, subscription_id: str, resource_type: str, api_version: str) -> list[dict[str, Any]]:
    # Any management client's pipeline reads any ARM path.
    client = arm_pipeline(session, NetworkManagementClient, subscription_id)
    url = path("/subscriptions/{}/providers/" + resource_type, subscription_id, api_version=api_version)
    return list(list_objects(client, session.arm_url, url))


def _raw_subjects(session: Any, inventory: Inventory) -> list[Subject]:
    """Every raw resource the collectors turn into records, fetched through the real clients."""
    subjects: list[Subject] = []
    for sub in inventory.subscriptions:
        sid = sub.subscription_id
        for field, (builder, contract, api, version) in TOP_LEVEL.items():
            for raw in _listing(session, sid, api, version):
                subjects.append(Subject(field, raw, functools.partial(_build_listed, builder, sid), contract))
        for builder, contract, api, version in ALERT_LISTINGS:
            for raw in _listing(session, sid, api, version):
                subjects.append(Subject("alert_rules", raw, functools.partial(_build_listed, builder, sid), contract))
        client = arm_pipeline(session, NetworkManagementClient, sid)
        for field, (parent_field, child_builder, contract, child, version) in CHILDREN.items():
            for parent in getattr(inventory, parent_field):
                if parent.subscription_id != sid:
                    continue
                url = resource_path(parent.id) + path(child, api_version=version)
                for raw in list_objects(client, session.arm_url, url):
                    subjects.append(
                        Subject(field, raw, functools.partial(_build_child, child_builder, parent), contract)
                    )
    return subjects


def _build_listed(builder: Builder, subscription_id: str, raw: Mapping[str, Any]) -> Any:
    return builder(raw, subscription_id)


def _build_child(builder: Builder, parent: Any, raw: Mapping[str, Any]) -> Any:
    return builder(raw, parent)


def _paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every field path of a raw object, list items included (``a.b[2].c``)."""
    if isinstance(value, dict):
        for name, item in value.items():
            here = f"{prefix}.{name}" if prefix else name
            yield here
            yield from _paths(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, f"{prefix}[{index}]")


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _mutated(raw: dict[str, Any], field_path: str, *, null: bool) -> dict[str, Any]:
    """A deep copy of ``raw`` with the field deleted (or set to null)."""
    copied = copy.deepcopy(raw)
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(field_path)]
    current: Any = copied
    for name, index in steps[:-1]:
        current = current[name] if name is not None else current[int(index)]
    last_name, _ = steps[-1]
    if null:
        current[last_name] = None
    else:
        del current[last_name]
    return copied


def _without_problems(record: Any) -> Any:
    return dataclasses.replace(record, unreadable=()) if unreadable_of(record) else record


def _documented(field_path: str, contract: tuple[Field, ...]) -> bool:
    """True when the contract gives this field's absence a documented meaning."""
    general = re.sub(r"\[\d+\]", "[]", field_path)
    for entry in contract:
        if not entry.documented_default:
            continue
        for alternative in entry.path.split(" | "):
            candidate = alternative if "." in alternative or "[" in alternative else entry.path.split(" | ")[0]
            if general == candidate or general.endswith("." + alternative):
                return True
    return False


class Judge:
    """Runs the checks that read one type over an inventory, with evaluation's unreadable rule."""

    def __init__(self, inventory: Inventory) -> None:
        registry = builtin_registry()
        baseline = load_baseline(default_baseline_path(), registry)
        self.params = baseline.resolve_params()
        used = {c for control in baseline.controls for c in control.checks}
        self.checks: list[RegisteredCheck] = [registry[c] for c in sorted(used)]
        self.inventory = inventory
        self.unread = unreadable_index(inventory)
        self._cache: dict[str, dict[tuple[str, str], Status]] = {}

    def relevant(self, record_type: str) -> list[RegisteredCheck]:
        """The checks that read records of this type."""
        return [c for c in self.checks if record_type in c.spec.requires or record_type in c.spec.resource_types]

    def verdicts(
        self, check: RegisteredCheck, inventory: Inventory, extra: Mapping[str, Any]
    ) -> dict[tuple[str, str], Status]:
        """Status by (check, resource id) of one check over an inventory."""
        unread = self.unread | dict(extra)
        results: list[CheckResult] = judge_each(check, inventory, self.params)
        judged = judged_with_unreadable(check.spec, results, inventory, unread)
        found = {(check.spec.id, key(r.resource_id)): r.status for r in judged}
        return found or {(check.spec.id, ""): Status.NOT_APPLICABLE}

    def baseline(self, check: RegisteredCheck) -> dict[tuple[str, str], Status]:
        """The check's verdicts over the unmutated inventory (cached)."""
        if check.spec.id not in self._cache:
            self._cache[check.spec.id] = self.verdicts(check, self.inventory, {})
        return self._cache[check.spec.id]


# Microsoft's examples served as one estate: (file under specification/, resource type when the body lacks it).
EXAMPLES = (
    ("network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/NetworkSecurityGroupGet.json", None),
    ("network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/AzureFirewallGet.json", None),
    (
        "compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineExamples/"
        "VirtualMachine_Get.json",
        None,
    ),
    ("compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/examples/diskExamples/Disk_Get.json", None),
    (
        "compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/examples/diskExamples/"
        "Disk_Create_ConfidentialVMSupportedDiskEncryptedWithCMK.json",
        "Microsoft.Compute/disks",
    ),
    (
        "compute/resource-manager/Microsoft.Compute/DiskRP/stable/2024-03-02/examples/diskEncryptionSetExamples/"
        "DiskEncryptionSet_Get.json",
        None,
    ),
    ("keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/examples/getVault.json", None),
    ("sql/resource-manager/Microsoft.Sql/stable/2023-08-01/examples/ServerGet.json", None),
    ("storage/resource-manager/Microsoft.Storage/stable/2023-05-01/examples/StorageAccountGetProperties.json", None),
    (
        "security/resource-manager/Microsoft.Security/stable/2024-01-01/examples/Pricings/"
        "GetPricingByNameVirtualMachines_example.json",
        None,
    ),
)
EXAMPLE_SUBSCRIPTION = "11111111-1111-1111-1111-111111111111"


def _examples_estate() -> dict[str, Any]:
    resources = []
    for index, (relative, kind) in enumerate(EXAMPLES):
        body = json.dumps(example_body(relative))
        text = re.sub(r"/subscriptions/[^/\"]+/", f"/subscriptions/{EXAMPLE_SUBSCRIPTION}/", body, flags=re.IGNORECASE)
        text = text.replace("{diskEncryptionSetName}", "myDiskEncryptionSet")
        resource: dict[str, Any] = json.loads(text)
        if kind:
            resource.setdefault("type", kind)
        if resource["type"] == "Microsoft.Compute/disks":
            # Two examples share one disk id.
            resource["id"] = f"{resource['id']}-{index}"
        resources.append(resource)
    subscription = {"subscriptionId": EXAMPLE_SUBSCRIPTION, "displayName": "examples", "state": "Enabled"}
    return {"subscriptions": [subscription], "resources": resources, "graph": {}}


@pytest.fixture(scope="module")
def examples() -> tuple[Inventory, list[Subject]]:
    """Microsoft's example resources as one inventory, with their raw bodies, read through the real clients."""
    with serve(_examples_estate()) as (_, session):
        inventory = collect_inventory(session)
        subjects = _raw_subjects(session, inventory)
    return inventory, subjects


@pytest.fixture(scope="module")
def demo() -> tuple[Inventory, list[Subject]]:
    """The demo estate's inventory and raw resources, read once through the real clients."""
    estate = json.loads(Path(demo_estate_path()).read_text(encoding="utf-8"))
    with serve(estate) as (_, session):
        inventory = collect_inventory(session)
        subjects = _raw_subjects(session, inventory)
    return inventory, subjects


def test_the_builders_rebuild_the_collected_records(demo: tuple[Inventory, list[Subject]]) -> None:
    inventory, subjects = demo
    assert len(subjects) > 100
    by_id = {key(r.id): r for name in inventory.resource_fields() for r in getattr(inventory, name)}
    rebuilt = [s.build(s.raw) for s in subjects]
    # Records that per-resource calls complete differ from the listing's; the listing fields agree.
    assert all(key(r.id) in by_id for r in rebuilt)
    assert all(unreadable_of(r) == () for r in rebuilt), [unreadable_of(r) for r in rebuilt if unreadable_of(r)]


def mutation_violations(inventory: Inventory, subjects: list[Subject]) -> tuple[int, list[str]]:
    """Every single-field deletion or nulling of every subject that turns a verdict into pass or N/A."""
    judge = Judge(inventory)
    by_id = {key(r.id): r for name in inventory.resource_fields() for r in getattr(inventory, name)}
    violations: list[str] = []
    judged = 0
    for subject in subjects:
        original = subject.build(subject.raw)
        collected = by_id[key(original.id)]
        checks = judge.relevant(original.type)
        seen: set[tuple[Any, bool]] = set()
        for field_path in dict.fromkeys(_paths(subject.raw)):
            if _documented(field_path, subject.contract):
                continue
            for null in (False, True):
                record = subject.build(_mutated(subject.raw, field_path, null=null))
                if record == original:
                    continue  # nothing the builder reads changed, so no verdict can
                # Verdicts depend on the values read and on whether anything was unreadable, not on which.
                same = (_without_problems(record), bool(unreadable_of(record)))
                if same in seen:
                    continue
                seen.add(same)
                judged += 1
                # Keep what per-resource calls added to the collected record; replace what the listing gave.
                changed = {
                    f.name: getattr(record, f.name)
                    for f in dataclasses.fields(record)
                    if getattr(record, f.name) != getattr(original, f.name)
                }
                mutated = dataclasses.replace(collected, **changed)
                records = tuple(mutated if r is collected else r for r in getattr(inventory, subject.field))
                if key(mutated.id) != key(collected.id):
                    records = (*records, mutated) if mutated not in records else records
                view = dataclasses.replace(inventory, **{subject.field: records})  # type: ignore[arg-type]
                extra = {key(mutated.id): unreadable_of(mutated)} if unreadable_of(mutated) else {}
                for check in checks:
                    before = judge.baseline(check)
                    for where, status in judge.verdicts(check, view, extra).items():
                        old = before.get(where)
                        action = "null" if null else "delete"
                        if status in GOOD and old is not None and old not in GOOD:
                            change = f"{check.spec.id} {old.value} -> {status.value}"
                            violations.append(f"{action} {field_path} of {original.id}: {change}")
                        if status in GOOD and old is None and where[1] in {key(mutated.id), ""}:
                            violations.append(
                                f"{action} {field_path} of {original.id}: new {status.value} {check.spec.id}"
                            )
    return judged, violations


def test_no_single_deleted_or_nulled_field_turns_a_verdict_into_pass(demo: tuple[Inventory, list[Subject]]) -> None:
    judged, violations = mutation_violations(*demo)
    assert judged > 200
    assert not violations, "\n".join(violations[:40])


def test_no_single_deleted_or_nulled_field_of_microsofts_examples_turns_a_verdict_into_pass(
    examples: tuple[Inventory, list[Subject]],
) -> None:
    inventory, subjects = examples
    assert {s.field for s in subjects} >= {
        "network_security_groups",
        "azure_firewalls",
        "virtual_machines",
        "disks",
        "disk_encryption_sets",
        "key_vaults",
        "sql_servers",
        "storage_accounts",
        "defender_plans",
    }
    judged, violations = mutation_violations(inventory, subjects)
    assert judged > 50
    assert not violations, "\n".join(violations[:40])

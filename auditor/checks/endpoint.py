"""Endpoint checks: every VM runs an approved anti-malware agent (EP-01)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from auditor.inventory import Inventory
from auditor.model import CheckResult, Severity, errored, failed, passed
from auditor.parameters import Params
from auditor.records.compute import VirtualMachine, VmExtension
from auditor.records.monitor import DefenderPlan
from auditor.registry import Remediation, check

SUCCEEDED = "succeeded"
# The Defender for Cloud pricing that covers VMs ("Defender for Servers") and the tier that means "on".
SERVERS_PLAN = "virtualmachines"
PAID_TIER = "standard"


@dataclass(frozen=True)
class AntimalwareVerdict:
    """How one VM's anti-malware protection was judged, before it becomes a result."""

    protected: bool
    reason: str
    via: str


def allowed_extension_pairs(entries: Iterable[str]) -> frozenset[tuple[str, str]]:
    """``Publisher/Type`` parameter entries as lower-case (publisher, type) pairs."""
    pairs: set[tuple[str, str]] = set()
    for entry in entries:
        publisher, slash, kind = entry.strip().partition("/")
        if not slash or not publisher.strip() or not kind.strip():
            raise ValueError(f"allowed_antimalware entry {entry!r} is not of the form Publisher/Type")
        pairs.add((publisher.strip().lower(), kind.strip().lower()))
    return frozenset(pairs)


def antimalware_extensions(vm: VirtualMachine, allowed: frozenset[tuple[str, str]]) -> tuple[VmExtension, ...]:
    """The VM's extensions whose publisher and type are on the allowed list."""
    return tuple(
        ext for ext in vm.extensions if ((ext.publisher or "").lower(), (ext.extension_type or "").lower()) in allowed
    )


def servers_plan(plans: Iterable[DefenderPlan], subscription_id: str) -> DefenderPlan | None:
    """The subscription's Defender for Servers pricing, or None when it was not reported."""
    for plan in plans:
        if plan.subscription_id.lower() == subscription_id.lower() and plan.name.lower() == SERVERS_PLAN:
            return plan
    return None


def judge_antimalware(
    found: tuple[VmExtension, ...], plan: DefenderPlan | None, accept_defender: bool
) -> AntimalwareVerdict:
    """Protected by a provisioned allowed extension, or, for a VM with none, by Defender for Servers."""
    provisioned = [e for e in found if (e.provisioning_state or "").lower() == SUCCEEDED]
    if provisioned:
        names = ", ".join(f"{e.publisher}/{e.extension_type}" for e in provisioned)
        return AntimalwareVerdict(True, f"Anti-malware extension {names} is provisioned", "extension")
    if found:
        # An installed agent that is not running is a broken control the owner chose; a subscription plan
        # does not repair it, so it fails whatever Defender for Servers says.
        states = ", ".join(
            f"{e.publisher}/{e.extension_type} in provisioning state {e.provisioning_state or 'not reported'}"
            for e in found
        )
        return AntimalwareVerdict(False, f"Anti-malware extension not provisioned: {states}", "extension")
    tier = plan.pricing_tier if plan else None
    if not accept_defender:
        return AntimalwareVerdict(
            False,
            "No allowed anti-malware extension, and the baseline does not accept Defender for Servers instead",
            "none",
        )
    if plan is None:
        return AntimalwareVerdict(
            False, "No allowed anti-malware extension, and the Defender for Servers plan was not reported", "none"
        )
    if tier is None:
        return AntimalwareVerdict(
            False,
            "No allowed anti-malware extension, and the Defender for Servers pricing tier was not reported",
            "none",
        )
    if tier.lower() == PAID_TIER:
        plan_name = f" {plan.sub_plan}" if plan.sub_plan else ""
        return AntimalwareVerdict(
            True, f"No allowed anti-malware extension, but Defender for Servers{plan_name} is on", "defender"
        )
    return AntimalwareVerdict(
        False, f"No allowed anti-malware extension, and Defender for Servers is on the {tier} tier", "none"
    )


@check(
    id="vm_antimalware",
    title="Every VM runs a provisioned approved anti-malware extension or is covered by Defender for Servers",
    severity=Severity.HIGH,
    resource_types=("Microsoft.Compute/virtualMachines",),
    requires=(
        "Microsoft.Compute/virtualMachines",
        "Microsoft.Compute/virtualMachines/extensions",
        "Microsoft.Security/pricings",
    ),
    parameters=("allowed_antimalware", "accept_defender_for_servers"),
    rationale="A server without a working anti-malware agent runs malware unnoticed; the policy promises every "
    "server endpoint is protected.",
    remediation=Remediation(
        summary="Install an approved anti-malware extension (Webroot, Microsoft Antimalware or Defender for "
        "Endpoint) and make sure it provisions successfully, or enable Defender for Servers on the subscription "
        "when the baseline accepts it.",
        portal="Virtual machines > (VM) > Extensions + applications > Add > Microsoft Antimalware; or Microsoft "
        "Defender for Cloud > Environment settings > (subscription) > Servers: On",
        cli="az vm extension set -g RG --vm-name VM -n IaaSAntimalware --publisher Microsoft.Azure.Security "
        '--version 1.3 --settings \'{"AntimalwareEnabled": true, "RealtimeProtectionEnabled": true}\'; or '
        "az security pricing create -n VirtualMachines --tier Standard --subplan P2",
        terraform='resource "azurerm_virtual_machine_extension" "antimalware" {\n'
        '  name = "IaaSAntimalware"\n  publisher = "Microsoft.Azure.Security"\n  type = "IaaSAntimalware"\n'
        '  type_handler_version = "1.3"\n  virtual_machine_id = azurerm_windows_virtual_machine.vm.id\n'
        '  settings = jsonencode({ AntimalwareEnabled = true, RealtimeProtectionEnabled = "true" })\n}',
        bicep="resource antimalware 'Microsoft.Compute/virtualMachines/extensions@2023-09-01' = { parent: vm\n"
        "  name: 'IaaSAntimalware'\n  location: location\n  properties: { publisher: 'Microsoft.Azure.Security', "
        "type: 'IaaSAntimalware', typeHandlerVersion: '1.3', settings: { AntimalwareEnabled: true } } }",
    ),
)
def vm_antimalware(inventory: Inventory, params: Params) -> Iterator[CheckResult]:
    """Pass VMs with a provisioned allowed extension, or with none but Defender for Servers on when accepted."""
    allowed = allowed_extension_pairs(params.get_list("allowed_antimalware"))
    accept_defender = params.get_bool("accept_defender_for_servers")
    for vm in inventory.virtual_machines:
        plan = servers_plan(inventory.defender_plans, vm.subscription_id)
        evidence: dict[str, object] = {
            "extensions": [_extension_evidence(e) for e in vm.extensions],
            "allowed_antimalware": sorted(f"{p}/{t}" for p, t in allowed),
            "defender_for_servers_tier": plan.pricing_tier if plan else None,
            "defender_for_servers_sub_plan": plan.sub_plan if plan else None,
            "accept_defender_for_servers": accept_defender,
        }
        if not vm.extensions_known:
            # Without the extension list a broken agent and a missing one look alike, so neither a pass
            # through Defender nor a fail can be shown.
            yield errored(
                vm, "The VM's extensions were not collected, so its anti-malware agent cannot be shown", **evidence
            )
            continue
        verdict = judge_antimalware(antimalware_extensions(vm, allowed), plan, accept_defender)
        evidence["protected_by"] = verdict.via
        if verdict.protected:
            yield passed(vm, verdict.reason, **evidence)
        else:
            yield failed(vm, verdict.reason, **evidence)


def _extension_evidence(ext: VmExtension) -> dict[str, str | None]:
    return {
        "name": ext.name,
        "publisher": ext.publisher,
        "type": ext.extension_type,
        "provisioning_state": ext.provisioning_state,
        "version": ext.type_handler_version,
    }

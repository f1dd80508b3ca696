"""Verdicts on resources declared in code, reached by the same rule functions that judge live resources."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from auditor.checks.addresses import NO_ADDRESS, whitelist
from auditor.checks.encryption import judge_disk
from auditor.checks.exposure import Exposure, exposures
from auditor.checks.iac.conf_values import UndecidableError
from auditor.checks.index import ById
from auditor.checks.network import RDP_PORT, port_exposures
from auditor.model import Status, Verdict
from auditor.parameters import Params
from auditor.records.compute import Disk, DiskEncryptionSet
from auditor.records.network import SecurityRule


def decide(judge: Callable[[], Verdict | None]) -> Verdict | None:
    """The verdict (None: out of the check's scope), or an error naming the value the code leaves unknown."""
    try:
        return judge()
    except UndecidableError as exc:
        return Verdict(Status.ERROR, str(exc))


def _rule_names(found: Sequence[Exposure]) -> str:
    return ", ".join(sorted({f"{e.rule.name} ({e.protocol})" for e in found}))


def rdp_verdict(rules: Sequence[SecurityRule], params: Params) -> Verdict:
    """NET-01: no rule, in priority order, lets a public non-whitelisted source reach 3389."""
    found = exposures(rules, RDP_PORT, whitelist(params.get_list("allowed_rdp_sources")))
    if found:
        example = ", ".join(found[0].reachable.describe())
        return Verdict(
            Status.FAIL,
            f"Inbound rule(s) {_rule_names(found)} admit RDP (3389) from public sources outside the whitelist "
            f"(for example {example})",
        )
    return Verdict(Status.PASS, "No inbound rule admits RDP (3389) from a public source outside the whitelist")


def management_ports_verdict(rules: Sequence[SecurityRule], params: Params) -> Verdict:
    """NET-04: no rule, in priority order, lets any public source reach a listed management port."""
    ports = params.get_list("exposed_ports")
    exposed: dict[str, list[Exposure]] = {}
    for spec in ports:
        try:
            found = port_exposures(rules, spec, NO_ADDRESS)
        except ValueError as exc:
            return Verdict(Status.ERROR, str(exc))
        if found:
            exposed[spec] = found
    if exposed:
        summary = "; ".join(
            f"{spec} through {', '.join(sorted({e.rule.name for e in found}))}" for spec, found in exposed.items()
        )
        return Verdict(Status.FAIL, f"Management or database port(s) reachable from the Internet: {summary}")
    return Verdict(Status.PASS, f"No inbound rule admits ports {', '.join(ports)} from a public source")


def disk_verdict(disk: Disk, sets: Sequence[DiskEncryptionSet]) -> Verdict:
    """ENC-01: the disk's key is a customer key in Key Vault (through a disk encryption set) or ADE."""
    result = judge_disk(disk, ById(sets))
    return Verdict(result.status, result.message)

"""The IaC doors: for each rule the gate applies to code, how a resource in code becomes the record its judge reads.

A door names a registered rule, the language it reads (``terraform``, which Terraform plan JSON also uses,
or ``arm``, which checkov also gives Bicep resources in) and, per resource type, a builder from checkov's
resource configuration to the record the live collectors would build. The checkov check id, title and
control all come from the rule's registration; the verdict is the rule's own judge. Kept free of checkov
imports so the gate can plan a run, and tests can judge code, without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from auditor.checks import builtin_registry
from auditor.checks.iac import arm_records as arm
from auditor.checks.iac import terraform_records as tf
from auditor.checks.iac.conf_values import UndecidableError
from auditor.iac.catalogue import CUSTOM_CHECKS
from auditor.model import Status, Verdict, erroring
from auditor.parameters import Params
from auditor.registry import IAC_PREFIX, RegisteredCheck

Language = Literal["terraform", "arm"]
# (resource type, configuration) -> the record the rule judges; None when the resource is not its subject.
Builder = Callable[[str, Mapping[str, Any]], Any]

# The frameworks each language serves: plan JSON runs checkov's Terraform checks, Bicep its ARM checks.
FRAMEWORKS_OF_LANGUAGE: Mapping[Language, frozenset[str]] = {
    "terraform": frozenset({"terraform"}),
    "arm": frozenset({"arm", "bicep"}),
}
# Key the auditor's checks add to checkov's check_result, holding {"status", "message", "severity"}: checkov
# knows only pass and fail and drops the details of ARM and Bicep results, so the verdict travels there, and a
# resource that cannot be judged (failed in checkov's eyes) is reported as an error.
VERDICT_KEY = "auditor_verdict"


@dataclass(frozen=True)
class Door:
    """How one rule reads one language: the checkov category and a record builder per resource type."""

    rule: str
    language: Language
    category: str  # a checkov CheckCategories member name
    builders: Mapping[str, Builder]


DOORS: tuple[Door, ...] = (
    Door("key_vault_protection", "terraform", "SECRETS", {"azurerm_key_vault": lambda _, conf: tf.key_vault(conf)}),
    Door("key_vault_protection", "arm", "SECRETS", {"Microsoft.KeyVault/vaults": lambda _, conf: arm.key_vault(conf)}),
    # ENC-04: App Service sites' HTTPS-only and minimum TLS settings (the certificates and handshakes are live only).
    Door("app_service_https_tls", "terraform", "ENCRYPTION", {kind: tf.web_app for kind in tf.WEB_APP_TLS_ATTRIBUTE}),
    Door("app_service_https_tls", "arm", "ENCRYPTION", {arm.SITE: lambda _, conf: arm.web_app(conf)}),
)


def doors(language: Language) -> tuple[Door, ...]:
    """The doors of one language, in table order."""
    return tuple(d for d in DOORS if d.language == language)


def frameworks_of(rule_id: str) -> frozenset[str]:
    """The IaC frameworks (terraform, arm, bicep) a rule has a door for; empty when code cannot decide it."""
    found: set[str] = set()
    for legacy in CUSTOM_CHECKS.values():  # LEGACY: rules still judged by a verdict function of their own
        if legacy.live_check == rule_id:
            found |= legacy.frameworks
    for door in DOORS:
        if door.rule == rule_id:
            found |= FRAMEWORKS_OF_LANGUAGE[door.language]
    return frozenset(found)


@cache
def registered(rule_id: str) -> RegisteredCheck:
    """The built-in rule a door applies."""
    return builtin_registry()[rule_id]


def rule_of(check_id: str) -> str | None:
    """The rule id behind one of the auditor's checkov check ids; None for checkov's own checks."""
    if not check_id.startswith(IAC_PREFIX):
        return None
    wanted = check_id[len(IAC_PREFIX) :].lower()
    return wanted if any(d.rule == wanted for d in DOORS) or check_id in CUSTOM_CHECKS else None


def judge_resource(door: Door, resource_type: str, conf: Mapping[str, Any], params: Params) -> Verdict | None:
    """The rule's verdict on one resource in code; None when the resource is not the rule's subject.

    A value the code leaves to deployment (an expression, a variable) or an unreadable one is an error naming
    it: the rule never passes what the code does not state.
    """
    try:
        record = door.builders[resource_type](resource_type, conf)
    except UndecidableError as exc:
        return erroring(str(exc))
    if record is None:
        return None
    moment = params.as_of or datetime.now(UTC)
    verdict = registered(door.rule).decide(record, params.at(moment))
    problems = getattr(record, "unreadable", ())
    if verdict is not None and problems and verdict.status in {Status.PASS, Status.NOT_APPLICABLE}:
        named = "; ".join(p.describe() for p in problems)
        return replace(verdict, status=Status.ERROR, message=f"cannot be judged from the code: {named}")
    return verdict

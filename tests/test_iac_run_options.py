"""`auditor iac` takes the evaluating commands' run options: --waivers, --compare with --fail-on-new, --sign-key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import EXIT_GATED, EXIT_INPUT, EXIT_OK, build_parser, main, options_from
from auditor.manifest import MANIFEST_FILE, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SIGNATURE_FILE
from auditor.model import Severity
from auditor.options import IacOptions
from auditor.run_config import load_run_config

CASES = Path(__file__).parent / "data" / "iac" / "cases"
WHITELIST = "allowed_rdp_sources=203.0.113.0/24,192.0.2.0/24"
# One open RDP rule of the Terraform fixtures, the finding a waiver accepts.
WAIVED = "iac:terraform/network.tf:azurerm_network_security_group.rdp_zero"
OPEN = "iac:terraform/network.tf:azurerm_network_security_group.rdp_star"

pytestmark = pytest.mark.skipif(
    __import__("importlib").util.find_spec("checkov") is None, reason="checkov (the iac extra) is not installed"
)


def iac(out: Path, *extra: str) -> int:
    """`auditor iac` over the case fixtures, NET-01 only (one checkov check keeps the run short)."""
    arguments = [str(CASES), "--root", str(CASES), "--out", str(out), "--controls", "NET-01"]
    return main(["iac", *arguments, "--format", "json,sarif", "--param", WHITELIST, "-q", *extra])


def findings(out: Path) -> dict[str, dict[str, Any]]:
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {f["resource_id"]: f for f in document["findings"] if f["check_id"] == "nsg_rdp_exposure"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path, int, int]]:
    """A first run, then one waiving an open rule, compared with the first and signed with a fresh key."""
    root = tmp_path_factory.mktemp("iac-run-options")
    first, second, keys = root / "first", root / "second", root / "keys"
    assert main(["keygen", "--out", str(keys)]) == EXIT_OK
    waivers = root / "waivers.toml"
    expires = (date.today() + timedelta(days=30)).isoformat()
    waivers.write_text(
        f"""
[[waiver]]
control = "NET-01"
resource = "{WAIVED}"
reason = "Jump host retired with the migration"
owner = "platform-team@mul2.example.com"
expires = {expires}

[[waiver]]
control = "NET-01"
resource = "iac:terraform/nowhere.tf:*"
reason = "Matches nothing"
owner = "platform-team@mul2.example.com"
expires = {expires}
""",
        encoding="utf-8",
    )
    first_status = iac(first)
    second_status = iac(
        second,
        "--waivers",
        str(waivers),
        "--compare",
        str(first),
        "--fail-on-new",
        "high",
        "--sign-key",
        str(keys / PRIVATE_KEY_FILE),
    )
    yield first, second, keys, first_status, second_status


def test_waivers_apply_to_the_code_findings(runs: tuple[Path, Path, Path, int, int]) -> None:
    first, second, *_ = runs
    before, after = findings(first), findings(second)
    assert before[WAIVED]["status"] == "fail"
    assert after[WAIVED]["status"] == "waived"
    assert after[WAIVED]["message"].startswith("Waived until ")
    assert after[WAIVED]["evidence"]["waived_status"] == "fail"
    # Only the finding the waiver names changes.
    assert after[OPEN]["status"] == "fail"
    assert {k: v["status"] for k, v in after.items() if k != WAIVED} == {
        k: v["status"] for k, v in before.items() if k != WAIVED
    }
    document = json.loads((second / "findings.json").read_text(encoding="utf-8"))
    assert any("matches no failing finding" in warning for warning in document["warnings"])


def test_compare_reports_the_drift_and_fail_on_new_gates_only_on_new(
    runs: tuple[Path, Path, Path, int, int],
) -> None:
    _, second, _, first_status, second_status = runs
    changes = json.loads((second / "findings.json").read_text(encoding="utf-8"))["changes"]
    assert changes["new"] == changes["resolved"] == []
    [changed] = changes["changed"]
    assert (changed["from"]["status"], changed["to"]["status"]) == ("fail", "waived")
    # The first run gates at high on its open rules; the second gates only on what is new, and nothing is.
    assert first_status == EXIT_GATED
    assert second_status == EXIT_OK


def test_the_signed_manifest_verifies(runs: tuple[Path, Path, Path, int, int]) -> None:
    _, second, keys, *_ = runs
    assert (second / MANIFEST_FILE).is_file() and (second / SIGNATURE_FILE).is_file()
    assert main(["verify", str(second), "--public-key", str(keys / PUBLIC_KEY_FILE), "-q"]) == EXIT_OK
    (second / "findings.json").write_text("{}", encoding="utf-8")
    assert main(["verify", str(second), "--public-key", str(keys / PUBLIC_KEY_FILE), "-q"]) == EXIT_GATED


def test_fail_on_new_needs_compare_and_history_is_not_an_iac_option(tmp_path: Path) -> None:
    assert iac(tmp_path / "out", "--fail-on-new", "high") == EXIT_INPUT
    assert iac(tmp_path / "out", "--history", str(tmp_path / "h.db")) == EXIT_INPUT


def test_iac_keeps_its_own_report_defaults_but_takes_the_policy_settings(tmp_path: Path) -> None:
    (tmp_path / "auditor.toml").write_text(
        'out = "scan-report"\nformat = "html"\nfail_on = "medium"\ncontrols = ["NET-*"]\n', encoding="utf-8"
    )
    config = load_run_config({}, tmp_path)
    options = options_from(build_parser(config).parse_args(["iac", "infra/"]), config)
    assert isinstance(options, IacOptions)
    assert (options.keep, options.report.formats) == (False, ("sarif", "json"))
    assert (options.gate.fail_on, options.report.controls) == (Severity.MEDIUM, ("NET-*",))
    assert options.paths == (Path("infra/"),)

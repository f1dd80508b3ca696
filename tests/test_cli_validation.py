"""Every option is checked before anything is collected: exit 2, one line naming the option and the form."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.emulator import Emulator, Estate, Fault, demo_estate_path, load_estate
from tests import estates as e
from tests.harness import AUDITED_REQUESTS

ROOT = Path(__file__).resolve().parent.parent


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The single stderr line of a failed run, without its prefix."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("auditor: error: "), err
    assert "Traceback" not in err
    return err.removeprefix("auditor: error: ").rstrip("\n")


def _targets(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    existing = tmp_path / "a-file"
    existing.write_text("x", encoding="utf-8")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    clash = tmp_path / "clash"
    (clash / "findings.json").mkdir(parents=True)
    return {
        "existing file": (existing, "an existing file, expected a folder"),
        "dangling symlink": (dangling, "a symbolic link to nothing"),
        "device": (Path("/dev/null"), "a device, expected a folder"),
        "name too long": (tmp_path / ("n" * 250), "a name in the path is 250 bytes"),
        "folder where findings.json goes": (clash, "is a folder where the report file findings.json goes"),
        "below a file": (existing / "sub", "a path below a file, expected a folder"),
    }


@pytest.mark.parametrize(
    "case",
    ["existing file", "dangling symlink", "device", "name too long", "folder where findings.json goes", "below a file"],
)
def test_bad_out_exits_2_before_collecting(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    target, expected = _targets(tmp_path)[case]
    snapshot = tmp_path / "inventory.json"
    snapshot.write_text("{}", encoding="utf-8")
    for argv in (["demo", "--out", str(target)], ["evaluate", str(snapshot), "--out", str(target)]):
        assert main(argv) == 2
        line = one_error_line(capsys)
        assert line.startswith(f"--out {target}") and expected in line, line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_unwritable_out_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["demo", "--out", str(locked)]) == 2
    assert "the folder is not writable" in one_error_line(capsys)
    assert main(["demo", "--out", str(locked / "new")]) == 2
    assert "cannot be created" in one_error_line(capsys)


def test_out_in_a_read_only_filesystem_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    if os.access("/proc/self", os.W_OK):
        pytest.skip("/proc is writable here")
    assert main(["demo", "--out", "/proc/self/reports"]) == 2
    assert "cannot be created: /proc/self is not writable" in one_error_line(capsys)


def test_folder_that_does_not_exist_yet_is_fine(tmp_path: Path) -> None:
    assert main(["demo", "-q", "--format", "json", "--out", str(tmp_path / "new" / "deeper")]) == 0
    assert (tmp_path / "new" / "deeper" / "findings.json").is_file()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--snapshot", "/dev/null"], "--snapshot /dev/null: a device, expected a file path"),
        (["--snapshot", "{tmp}"], "a folder, expected a file path"),
        (["--snapshot", "{tmp}/dangling"], "a symbolic link to nothing"),
        (["--snapshot", "{tmp}/" + "n" * 250], "a name in the path is 250 bytes; the filesystem allows"),
        (["--snapshot", "{tmp}/not.pem/inv.json"], "a path below a file, expected a file path"),
        (["--ca-bundle", "{tmp}/not.pem"], "not a PEM file of CA certificates"),
        (["--ca-bundle", "{tmp}/missing.pem"], "--ca-bundle {tmp}/missing.pem: cannot read: No such file"),
        (["--arm-endpoint", "http://127.0.0.1:1"], "--arm-endpoint 'http://127.0.0.1:1': expected an https:// URL"),
        (["--arm-endpoint", "https://u:p@host"], "without credentials, query or fragment"),
        (["--arm-endpoint", "https://host:99999"], "expected an https:// URL"),
        (["--arm-endpoint", "management.azure.com"], "expected an https:// URL"),
        (["--max-workers", "0"], "--max-workers 0: expected a whole number from 1 to 64"),
        (["--max-workers", "many"], "--max-workers 'many': expected a whole number"),
        (["--processes", "1000"], "--processes 1000: expected a whole number from 1 to 64"),
        (["--resource-group", "../../providers/x"], "--resource-group '../../providers/x': expected a resource group"),
        (["--fail-on", "bogus"], "--fail-on 'bogus': expected one of critical, high, medium, low, info, none"),
        (["--fail-on-new", "high"], "--fail-on-new needs --compare PREVIOUS"),
        (["--format", "pdf"], "--format: unknown format 'pdf'"),
        (["--controls", "NET-0;1"], "--controls 'NET-0;1': expected control ids or globs"),
        (["--out", ""], "--out: expected a folder for the reports, got an empty value"),
        (["--baseline", ""], "--baseline: expected a path, got an empty value"),
    ],
)
def test_bad_scan_options_exit_2_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    (tmp_path / "not.pem").write_text("hello", encoding="utf-8")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    base = ["scan", "--subscription", e.SUB, "--arm-endpoint", "https://127.0.0.1:9", "--out", str(tmp_path / "o")]
    assert main([*base, *argv]) == 2
    assert expected.replace("{tmp}", str(tmp_path)) in one_error_line(capsys)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("subscription", ["../../providers/x", "not-a-guid", e.SUB + "/x", ""])
def test_subscription_must_be_a_guid(tmp_path: Path, capsys: pytest.CaptureFixture[str], subscription: str) -> None:
    argv = ["scan", "--subscription", subscription, "--arm-endpoint", "https://127.0.0.1:9", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert f"--subscription {subscription!r}: expected a subscription id, a GUID" in one_error_line(capsys)


def test_emulator_port_out_of_range_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--estate", str(demo_estate_path()), "--port", "99999"]) == 2
    assert "argument --port: expected a port from 1 to 65535" in one_error_line(capsys)


def test_help_documents_exit_codes_and_precedence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--help"]) == 0
    raw = capsys.readouterr().out
    shown = " ".join(raw.split())
    assert "2  could not audit" in raw and "the command line, AUDITOR_* environment variables" in shown
    assert "(default: high)" in shown


# --- could not audit versus not compliant --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare for a network-less namespace")
def test_no_credential_exits_2_with_one_line_and_no_report(tmp_path: Path) -> None:
    # The credential chain's first link is configured against 127.0.0.1 and fails there; with no network at
    # all in the namespace, nothing else in the chain can leave the machine either.
    if subprocess.run(["unshare", "-rn", "true"], check=False, capture_output=True).returncode != 0:
        pytest.skip("user namespaces are not available")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000001",
        "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000002",
        "AZURE_CLIENT_SECRET": "not-a-secret",
        "AZURE_AUTHORITY_HOST": "https://127.0.0.1:9",
    }
    out = tmp_path / "out"
    completed = subprocess.run(
        ["unshare", "-rn", sys.executable, "-m", "auditor", "scan", "--all-subscriptions", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("auditor: error: cannot audit: no access token for Azure Resource Manager: ")
    assert not out.exists()


def test_scan_that_collects_nothing_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    estate = Estate.from_dict(e.estate(e.vault("kv-a"), e.nsg("nsg-a")), source="broken")
    refused = Fault(pattern=r"/providers/|/v1\.0/|/beta/|/resourcegroups", status=403, error_code="AuthorizationFailed")
    with Emulator(estate, faults=[refused]) as endpoint:
        monkeypatch.setenv("AUDITOR_BEARER_TOKEN", endpoint.token)
        argv = ["scan", "--all-subscriptions", "--arm-endpoint", endpoint.url, "--ca-bundle", str(endpoint.ca_file)]
        code = main([*argv, "--out", str(tmp_path / "out")])
        AUDITED_REQUESTS.extend(endpoint.requests)
    assert code == 2
    line = one_error_line(capsys)
    assert line.startswith("cannot audit: nothing could be collected") and "403" in line, line
    assert not (tmp_path / "out").exists()


def test_scan_whose_subscription_listing_fails_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    estate = load_estate(demo_estate_path())
    with Emulator(estate, faults=[Fault(pattern=r"^/subscriptions$", status=401)]) as endpoint:
        monkeypatch.setenv("AUDITOR_BEARER_TOKEN", endpoint.token)
        argv = ["scan", "--all-subscriptions", "--arm-endpoint", endpoint.url, "--ca-bundle", str(endpoint.ca_file)]
        code = main([*argv, "--out", str(tmp_path / "out")])
        AUDITED_REQUESTS.extend(endpoint.requests)
        listed = [r for r in endpoint.requests if "/providers/" in r.path]
    assert code == 2
    assert one_error_line(capsys).startswith("cannot audit: cannot list the subscriptions: ")
    assert listed == []
    assert not (tmp_path / "out").exists()


def test_iac_refuses_a_bad_out_before_running_checkov(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = tmp_path / "main.tf"
    code.write_text('resource "azurerm_resource_group" "rg" {\n  name = "rg"\n  location = "eastus"\n}\n', "utf-8")
    assert main(["iac", str(code), "--out", "/dev/null"]) == 2
    assert one_error_line(capsys) == "--out /dev/null: a device, expected a folder to write the reports into"


def test_each_command_gets_one_typed_options_object(tmp_path: Path) -> None:
    from auditor.cli import build_parser, options_from  # noqa: PLC0415 - the parser layer itself is under test
    from auditor.options import GateOptions, ScanOptions  # noqa: PLC0415

    argv = ["scan", "--subscription", e.SUB.upper(), "--subscription", e.SUB, "--out", str(tmp_path / "o")]
    argv += ["--arm-endpoint", "https://127.0.0.1:8443/", "--fail-on", "none", "--max-workers", "3"]
    options = options_from(build_parser().parse_args(argv))
    assert isinstance(options, ScanOptions)
    assert options.subscriptions == (e.SUB,)
    assert options.arm_endpoint == "https://127.0.0.1:8443"
    assert options.gate == GateOptions(fail_on=None, fail_on_new=None)
    assert options.max_workers == 3 and options.processes == 1
    assert options.report.out == tmp_path / "o" and options.report.formats == ("html", "json")

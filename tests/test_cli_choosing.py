"""Choosing what a run judges and how it gates: --controls, --exclude-controls, list-controls, --fail-on none,
and defaults from auditor.toml, [tool.auditor] in pyproject.toml and AUDITOR_* variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.baseline import default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import main


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's inventory, collected once for the module."""
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "-q", "--format", "json", "--out", str(out)]) == 0
    return out / "inventory.json"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Run configuration is read from the working folder and the environment: start from neither.
    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("AUDITOR_") and n != "AUDITOR_BEARER_TOKEN"]:
        monkeypatch.delenv(name)


def findings(out: Path) -> dict[str, Any]:
    """The findings document of a report folder."""
    document: dict[str, Any] = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return document


def control_ids(out: Path) -> list[str]:
    """The ids of the controls a report judged."""
    return [c["id"] for c in findings(out)["controls"]]


ALL_IDS = [c.id for c in load_baseline(default_baseline_path(), builtin_registry()).controls]


def test_controls_and_globs_choose_what_is_judged(snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "net"
    assert main(["evaluate", str(snapshot), "--format", "json", "--out", str(out), "--controls", "NET-*,KV-01"]) in {
        0,
        1,
    }
    chosen = control_ids(out)
    assert chosen == [i for i in ALL_IDS if i.startswith("NET-") or i == "KV-01"]
    assert {f["control_id"] for f in findings(out)["findings"]} <= set(chosen)


def test_exclude_controls_leaves_them_out(snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "rest"
    argv = ["evaluate", str(snapshot), "--format", "json", "--out", str(out), "--exclude-controls", "net-*"]
    main(argv)
    assert control_ids(out) == [i for i in ALL_IDS if not i.startswith("NET-")]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--controls", "XYZ-*"], "--controls 'XYZ-*': matches no control of the baseline (ids: "),
        (["--exclude-controls", "NOPE"], "--exclude-controls 'NOPE': matches no control"),
        (["--controls", "NET-01", "--exclude-controls", "NET-*"], "together they leave no control to judge"),
    ],
)
def test_bad_choices_exit_2(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert main(["evaluate", str(snapshot), "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "o").exists()


def test_fail_on_none_reports_without_gating(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(snapshot), "--out", str(tmp_path / "a"), "--fail-on", "critical"]) == 1
    capsys.readouterr()
    assert main(["evaluate", str(snapshot), "--out", str(tmp_path / "b"), "--fail-on", "none"]) == 0
    assert "exit 1" not in capsys.readouterr().out
    assert findings(tmp_path / "a")["findings"] == findings(tmp_path / "b")["findings"]


def test_list_controls_shows_every_control(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list-controls"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "severity", "mode", "iac", "frameworks", "title"]
    assert [line.split()[0] for line in lines[1:]] == ALL_IDS
    net01 = next(line for line in lines if line.startswith("NET-01 "))
    assert " critical " in net01 or " high " in net01
    assert "nist_800_53" in net01


def test_list_controls_json_with_a_choice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list-controls", "--json", "--controls", "ENC-*"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [i for i in ALL_IDS if i.startswith("ENC-")]
    assert set(rows[0]) == {"id", "title", "severity", "mode", "iac", "frameworks"}
    assert {r["iac"] for r in rows} <= {"yes", "no"}


# --- run configuration ------------------------------------------------------------------------------------------


def test_config_file_sets_defaults_and_the_command_line_wins(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "auditor.toml").write_text(
        'out = "from-config"\nformat = ["json", "markdown"]\nfail_on = "none"\ncontrols = "KV-*"\n'
        "[params]\nmin_soft_delete_days = 30\n",
        encoding="utf-8",
    )
    assert main(["evaluate", str(snapshot)]) == 0
    out = tmp_path / "from-config"
    assert sorted(p.name for p in out.iterdir() if p.suffix != ".json" or p.name == "findings.json") == [
        "findings.json",
        "summary.md",
    ]
    assert all(i.startswith("KV-") for i in control_ids(out))
    assert findings(out)["scan"]["parameters"]["min_soft_delete_days"] == 30
    capsys.readouterr()
    assert (
        main(["evaluate", str(snapshot), "--out", str(tmp_path / "cli"), "--fail-on", "info", "--controls", "*"]) == 1
    )
    assert control_ids(tmp_path / "cli") == ALL_IDS


def test_environment_beats_the_config_file(snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "auditor.toml").write_text('out = "from-config"\nformat = "json"\n', encoding="utf-8")
    monkeypatch.setenv("AUDITOR_OUT", str(tmp_path / "from-env"))
    monkeypatch.setenv("AUDITOR_FAIL_ON", "none")
    assert main(["evaluate", str(snapshot)]) == 0
    assert (tmp_path / "from-env" / "findings.json").is_file()
    assert not (tmp_path / "from-config").exists()


def test_pyproject_tool_table_is_read(snapshot: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.auditor]\nout = "py-out"\nformat = "json"\nfail-on = "none"\n',
        encoding="utf-8",
    )
    assert main(["evaluate", str(snapshot)]) == 0
    assert (tmp_path / "py-out" / "findings.json").is_file()


def test_help_shows_defaults_from_their_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "auditor.toml").write_text('fail_on = "medium"\n', encoding="utf-8")
    assert main(["evaluate", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: medium, from " in shown and "key 'fail_on')" in shown
    assert "(default: html,json)" in shown


@pytest.mark.parametrize(
    "case",
    [
        ("auditor.toml", 'outt = "x"\n', "auditor.toml: unknown key 'outt' (allowed: "),
        ("auditor.toml", "out = 3.5\n", "auditor.toml: key 'out': expected a string, an integer or a list"),
        ("auditor.toml", "params = 1\n", "auditor.toml: key 'params': expected a table"),
        ("auditor.toml", "out = [\n", "auditor.toml: TOML syntax error"),
        ("auditor.toml", 'fail_on = "bogus"\n', "auditor.toml: key 'fail_on' 'bogus': expected one of critical"),
        ("auditor.toml", "max_workers = 0\n", "auditor.toml: key 'max_workers' 0: expected a whole number"),
        ("auditor.toml", "[params]\nnope = 1\n", "--param nope: unknown parameter"),
        ("pyproject.toml", "[tool.auditor]\nwrong = 1\n", "pyproject.toml: [tool.auditor]: unknown key 'wrong'"),
    ],
)
def test_bad_configuration_exits_2_naming_file_and_key(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, str, str]
) -> None:
    file, content, expected = case
    (tmp_path / file).write_text(content, encoding="utf-8")
    argv = ["scan", "--all-subscriptions", "--arm-endpoint", "https://127.0.0.1:9"] if "workers" in content else [
        "evaluate", str(snapshot)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


def test_bad_environment_value_names_the_variable(
    snapshot: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUDITOR_FORMAT", "pdf")
    assert main(["evaluate", str(snapshot)]) == 2
    assert "AUDITOR_FORMAT: unknown format 'pdf'" in capsys.readouterr().err


def test_paths_in_a_named_config_file_are_relative_to_it(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "audit.toml").write_text('out = "reports"\nformat = "json"\nfail_on = "none"\n', "utf-8")
    monkeypatch.setenv("AUDITOR_CONFIG", str(tmp_path / "ci" / "audit.toml"))
    assert main(["evaluate", str(snapshot)]) == 0
    assert (tmp_path / "ci" / "reports" / "findings.json").is_file()


def test_iac_fail_on_none_reports_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = tmp_path / "main.tf"
    code.write_text(
        'resource "azurerm_network_security_group" "open" {\n  name = "open"\n  location = "eastus"\n'
        '  resource_group_name = "rg"\n  security_rule {\n    name = "rdp"\n    priority = 100\n'
        '    direction = "Inbound"\n    access = "Allow"\n    protocol = "Tcp"\n    source_port_range = "*"\n'
        '    destination_port_range = "3389"\n    source_address_prefix = "*"\n'
        '    destination_address_prefix = "*"\n  }\n}\n',
        encoding="utf-8",
    )
    out = tmp_path / "iac"
    assert main(["iac", str(code), "--out", str(out), "--format", "json", "--fail-on", "low"]) == 1
    assert main(["iac", str(code), "--out", str(out), "--format", "json", "--fail-on", "none"]) == 0
    assert any(f["status"] == "fail" for f in findings(out)["findings"])
    capsys.readouterr()
    assert main(["iac", str(code), "--out", str(out), "--fail-on", "nope"]) == 2
    assert "--fail-on 'nope': expected one of critical, high, medium, low, info, none" in capsys.readouterr().err

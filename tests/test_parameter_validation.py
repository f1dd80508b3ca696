"""Parameters are checked against their declared type, range and format at load, and weakening is explicit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.baseline import BaselineError, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import main
from auditor.parameters import Constraint, ParameterError, ParamType, ValueFormat, Weakening


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("exposed_ports=ssh", "--param exposed_ports: 'ssh' is not a port 1-65535 or a range such as 1000-2000"),
        ("exposed_ports=22,70000", "'70000' is not a port 1-65535"),
        ("exposed_ports=2000-1000", "'2000-1000' is not a port 1-65535"),
        ("exposed_ports=", "--param exposed_ports: the list is empty, which disables the control"),
        ("alert_min_severity=bogus", "--param alert_min_severity: 'bogus' is not one of Low, Medium, High"),
        ("max_validity_days=" + "9" * 30, "--param max_validity_days: an integer of 30 digits is out of range"),
        ("max_validity_days=" + "9" * 5000, "--param max_validity_days: an integer of 5000 digits is out of range"),
        ("min_soft_delete_days=3", "--param min_soft_delete_days: 3 is out of range, expected 7 to 90"),
        ("max_validity_days=ten", "--param max_validity_days: expected an integer, got 'ten'"),
        ("admin_email=admin@", "--param admin_email: 'admin@' is not an e-mail address"),
        ("primary_region=mars", "--param primary_region: 'mars' is not an Azure region name such as eastus"),
        ("allowed_owner_principals=bob", "--param allowed_owner_principals: 'bob' is not a GUID"),
        ("tls_endpoints=www.example.com:443", "--param tls_endpoints: the TLS endpoints to probe are what a scan"),
        ("allowed_rdp_sources=10.0.0.0/8,0.0.0.0/0", "'0.0.0.0/0' admits every source, which disables the control"),
        ("allowed_rdp_sources=::/0", "'::/0' admits every source, which disables the control"),
        ("allowed_rdp_sources=not-a-cidr", "'not-a-cidr' is not an IP address or CIDR prefix"),
        ("required_defender_plans=", "the list is empty, which disables the control"),
    ],
)
def test_bad_param_exits_2_before_collecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str, expected: str
) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--param", override, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err
    assert len(err) < 400
    assert not out.exists()


@pytest.mark.parametrize(
    "override",
    ["exposed_ports=22,3389,1000-2000", "primary_region=WestEurope", "alert_min_severity=Medium",
     "min_soft_delete_days=30",
     "admin_email=first.last+sec@school.example.edu"],
)  # fmt: skip
def test_good_params_resolve(override: str) -> None:
    baseline = load_baseline(default_baseline_path(), builtin_registry())
    name, _, value = override.partition("=")
    params = baseline.resolve_params({name: value})
    assert params.values[name] != baseline.parameters[name].default
    assert params.weakened == {}


# The line before allowed_rdp_sources' weakening, which other list parameters share.
RDP_QUOTE = 'quote = "Remote desktop connection by public internet IP\'s is denied excepted the whitelisted."\n'


def _baseline_with(tmp_path: Path, old: str, new: str) -> Path:
    text = default_baseline_path().read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "baseline.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('default = ["22", "5985"', 'default = ["ssh", "5985"', "parameter 'exposed_ports': key 'default': 'ssh'"),
        ("default = 730\n", "default = 99999\n", "parameter 'max_validity_days': key 'default': 99999 is out of"),
        ('default = "High"\n', 'default = "bogus"\n', "parameter 'alert_min_severity': key 'default': 'bogus'"),
        ("default = 730\n", 'default = "730"\n', "parameter 'max_validity_days': key 'default': expected an integer"),
        (
            f'{RDP_QUOTE}weakened_by = "match_all"\n',
            f'{RDP_QUOTE}weakened_by = "zero"\n',
            "key 'weakened_by': 'zero' is not one of",
        ),
        ('format = "email"\n', 'format = "mail"\n', "key 'format': 'mail' is not one of port, email"),
        ("min = 7\nmax = 90\n", "min = 90\nmax = 7\n", "key 'min': 90 is above max 7"),
        ('format = "email"\n', "min = 1\n", "key 'min': only an int parameter has a range"),
        ('format = "email"\n', "allow_weakening = 1\n", "key 'allow_weakening': expected true or false"),
        (
            'default = ["203.0.113.0/24"]',
            'default = ["0.0.0.0/0"]',
            "parameter 'allowed_rdp_sources': key 'default': '0.0.0.0/0' admits every source, which disables",
        ),
    ],
)
def test_bad_parameter_declarations_are_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = _baseline_with(tmp_path, old, new)
    with pytest.raises(BaselineError) as caught:
        load_baseline(path, builtin_registry())
    assert expected in str(caught.value)
    assert str(caught.value).startswith(f"baseline {path}: ")


def test_parameter_declared_with_another_type_than_the_checks_read_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _baseline_with(
        tmp_path,
        'type = "string_list"\ndefault = ["22", "5985"',
        'type = "string"\ndefault = "22"\n#["22", "5985"',
    )
    text = path.read_text(encoding="utf-8").replace('format = "port"\nweakened_by = "empty"\n', 'format = "port"\n', 1)
    path.write_text(text, encoding="utf-8")
    assert main(["demo", "--baseline", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "parameter 'exposed_ports': key 'type': 'string', but the checks read it as 'string_list'" in err
    assert not (tmp_path / "out").exists()


def test_allowed_weakening_is_reported_in_every_report(tmp_path: Path) -> None:
    path = _baseline_with(
        tmp_path,
        f'{RDP_QUOTE}weakened_by = "match_all"\n',
        f'{RDP_QUOTE}weakened_by = "match_all"\nallow_weakening = true\n',
    )
    out = tmp_path / "out"
    argv = ["demo", "-q", "--baseline", str(path), "--param", "allowed_rdp_sources=0.0.0.0/0", "--out", str(out)]
    assert main([*argv, "--format", "json,html,sarif,junit,markdown"]) == 0
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert document["scan"]["weakened_parameters"] == {"allowed_rdp_sources": "'0.0.0.0/0' admits every source"}
    sarif = json.loads((out / "findings.sarif").read_text(encoding="utf-8"))
    notes = [n["message"]["text"] for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert any(n.startswith("weakened parameter allowed_rdp_sources: '0.0.0.0/0' admits") for n in notes)
    assert "weakened_parameter" in (out / "junit.xml").read_text(encoding="utf-8")
    assert "**Weakened parameter** `allowed_rdp_sources`" in (out / "summary.md").read_text(encoding="utf-8")
    assert "<strong>Weakened:</strong> <code>allowed_rdp_sources</code>" in (out / "report.html").read_text(
        encoding="utf-8"
    )


def test_an_unweakened_run_reports_no_weakening(tmp_path: Path) -> None:
    assert main(["demo", "-q", "--out", str(tmp_path), "--format", "json"]) == 0
    document = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert document["scan"]["weakened_parameters"] == {}


def test_constraint_weakening_rules() -> None:
    allow = Constraint(weakened_by=Weakening.MATCH_ALL)
    assert allow.weakens(("10.0.0.0/8",)) == ""
    assert allow.weakens(("10.0.0.0/8", "*")) == "'*' admits every source"
    assert allow.weakens(("1.2.3.4/0",)) == "'1.2.3.4/0' admits every source"
    required = Constraint(weakened_by=Weakening.EMPTY)
    assert required.weakens(()) == "the list is empty"
    assert required.weakens(("22",)) == ""
    with pytest.raises(ParameterError, match="is not a port"):
        Constraint(format=ValueFormat.PORT).check(ParamType.STRING_LIST, ("0",))
    with pytest.raises(ParameterError, match="out of range, expected"):
        Constraint().check(ParamType.INT, 2**64)

"""The TLS endpoints to probe are a collection option (--tls-endpoint), recorded in the inventory, not policy."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path

import pytest

from auditor.baseline import BaselineError, default_baseline_path, load_baseline
from auditor.checks import builtin_registry
from auditor.cli import build_parser, main, options_from
from auditor.options import DemoOptions, ScanOptions
from auditor.run_config import load_run_config
from auditor.snapshot import inventory_to_json, load_snapshot
from tests.builders import make_inventory

SUBSCRIPTION = "00000000-0000-0000-0000-00000000000a"


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port: int = placeholder.getsockname()[1]
    return port


@pytest.mark.parametrize("command", [["demo"], ["scan", "--subscription", SUBSCRIPTION]])
def test_a_bad_endpoint_exits_2_before_collecting(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    endpoints = ["--tls-endpoint", "www.example.com:443", "--tls-endpoint", "host:99999"]
    assert main([*command, *endpoints, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--tls-endpoint: 'host:99999': port must be a number from 1 to 65535, expected host:port" in err
    assert not out.exists()


def test_the_configuration_and_environment_give_the_endpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = {"AUDITOR_TLS_ENDPOINTS": "www.example.com, [2001:db8::1]:8443,WWW.example.com."}
    config = load_run_config(environment, tmp_path)
    arguments = build_parser(config).parse_args(["scan", "--subscription", SUBSCRIPTION])
    options = options_from(arguments, config)
    assert isinstance(options, ScanOptions)
    assert options.tls_endpoints == ("www.example.com:443", "[2001:db8::1]:8443")
    # The command line wins over the configuration, and an empty value asks for none.
    demo = options_from(build_parser(config).parse_args(["demo", "--tls-endpoint="]), config)
    assert isinstance(demo, DemoOptions) and demo.tls_endpoints == ()
    default = options_from(build_parser().parse_args(["demo"]), load_run_config({}, tmp_path))
    assert isinstance(default, DemoOptions) and default.tls_endpoints is None
    (tmp_path / "auditor.toml").write_text('tls_endpoints = ["api.example.com:8443", "bad:port"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "auditor.toml: key 'tls_endpoints': 'bad:port': port must be a number" in err


def test_a_baseline_or_param_that_still_sets_tls_endpoints_is_told_where_it_went(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = default_baseline_path().read_text(encoding="utf-8")
    old = text + '\n[parameters.tls_endpoints]\ntype = "string_list"\ndefault = []\ndescription = "d"\nquote = "q"\n'
    path = tmp_path / "baseline.toml"
    path.write_text(old, encoding="utf-8")
    with pytest.raises(BaselineError, match=r"parameter 'tls_endpoints': .*moved to the --tls-endpoint HOST:PORT"):
        load_baseline(path, builtin_registry())
    assert main(["demo", "--param", "tls_endpoints=www.example.com", "--out", str(tmp_path / "out")]) == 2
    assert "--param tls_endpoints: " in capsys.readouterr().err
    assert "tls_endpoints" not in load_baseline(default_baseline_path(), builtin_registry()).parameters


def test_the_endpoints_asked_for_travel_with_the_inventory_to_the_report(tmp_path: Path) -> None:
    endpoint = f"127.0.0.1:{closed_port()}"
    out, again = tmp_path / "demo", tmp_path / "again"
    status = main(
        ["demo", "--tls-endpoint", endpoint, "--controls", "ENC-04", "--format", "json", "--out", str(out), "-q"]
    )
    assert status == 0
    assert load_snapshot(out / "inventory.json").tls_scope == (endpoint,)

    def certificate_findings(folder: Path) -> tuple[list[str], list[tuple[str, str]]]:
        document = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        found = [(f["resource_id"], f["status"]) for f in document["findings"] if f["check_id"] == "tls_certificate"]
        return document["scan"]["tls_endpoints"], found

    expected = ([endpoint], [(f"tls://{endpoint}", "error")])
    assert certificate_findings(out) == expected
    # Evaluated offline, the snapshot still knows what was asked for.
    assert main(["evaluate", str(out / "inventory.json"), "--controls", "ENC-04", "--format", "json",
                 "--out", str(again), "--fail-on", "none", "-q"]) == 0  # fmt: skip
    assert certificate_findings(again) == expected


def test_a_snapshot_written_before_the_scope_was_recorded_still_loads(tmp_path: Path) -> None:
    inventory = dataclasses.replace(make_inventory(), tls_scope=("www.example.com:443",))
    document = json.loads(inventory_to_json(inventory))
    assert document["inventory"]["tls_scope"] == ["www.example.com:443"]
    del document["inventory"]["tls_scope"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(document), encoding="utf-8")
    assert load_snapshot(older).tls_scope == ()

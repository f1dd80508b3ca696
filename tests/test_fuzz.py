"""Fuzzing every input the command line reads: generated baselines, estates, snapshots, attestations,
waivers, findings files, manifests and arguments.

The property, for every one: the run ends with exit 0, 1 or 2, never a traceback, and an exit 2 comes with
exactly one line on stderr. The CLI runs in-process for speed; the whole module stays well under a minute.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.baseline import default_baseline_path
from auditor.cli import main
from auditor.emulator import Emulator, Estate, demo_estate_path
from tests import estates as e
from tests.harness import AUDITED_REQUESTS

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Text that stresses readers: control and bidi characters, surrogates' neighbours, huge digit runs.
AWKWARD = st.sampled_from(
    ["", " ", "\x00", "\u202e", "é", "../../providers/x", "9" * 5000, "-1", "0", "65536", "NaN", "*", "0.0.0.0/0"]
)
TEXT = st.one_of(AWKWARD, st.text(max_size=30))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of one in-process run; any exception escaping main fails the property."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def assert_property(argv: list[str]) -> int:
    """Exit 0, 1 or 2; no traceback; exit 2 with exactly one line on stderr."""
    code, err = run_cli(argv)
    assert code in {0, 1, 2}, (argv, code, err)
    assert "Traceback" not in err, err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("auditor: error: "), (argv, err)
    return code


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    """A folder with the demo's reports and inventory, made once for the module."""
    folder = Path(tempfile.mkdtemp(prefix="auditor-fuzz-"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "-q", "--format", "json", "--out", str(folder / "demo")]) == 0
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def mutate(document: Any, path: list[int], value: Any) -> Any:
    """The document with one place, chosen by ``path``, replaced by ``value`` (or deleted if value is ...)."""
    if not path or not isinstance(document, dict | list) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    copy: Any = dict(document) if isinstance(document, dict) else list(document)
    copy[key] = mutate(document[key], path[1:], value)
    return copy


MUTATION = st.tuples(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=6), JSON_VALUES)


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """A fresh file in the folder."""
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


@contextlib.contextmanager
def case_folder(workspace: Path) -> Iterator[Path]:
    """A scratch folder for one generated case."""
    folder = Path(tempfile.mkdtemp(dir=workspace))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def json_text(document: Any) -> str:
    """JSON as a hostile file might hold it (non-ASCII kept)."""
    return json.dumps(document, ensure_ascii=False)


# --- JSON inputs: snapshots, findings, estates, manifests ----------------------------------------------------


@FUZZ
@given(mutation=MUTATION)
def test_fuzzed_snapshots(workspace: Path, mutation: tuple[list[int], Any]) -> None:
    original = json.loads((workspace / "demo" / "inventory.json").read_text(encoding="utf-8"))
    with case_folder(workspace) as folder:
        snapshot = write(folder, "inventory.json", json_text(mutate(original, *mutation)))
        assert_property(["evaluate", str(snapshot), "--format", "json", "--out", str(folder / "out")])


@FUZZ
@given(mutation=MUTATION)
def test_fuzzed_findings(workspace: Path, mutation: tuple[list[int], Any]) -> None:
    original = json.loads((workspace / "demo" / "findings.json").read_text(encoding="utf-8"))
    with case_folder(workspace) as folder:
        findings = write(folder, "findings.json", json_text(mutate(original, *mutation)))
        assert_property(["diff", str(workspace / "demo" / "findings.json"), str(findings)])
        assert_property(["diff", "--json", str(findings), str(findings)])


@settings(FUZZ, max_examples=12)
@given(mutation=MUTATION)
def test_fuzzed_estates(workspace: Path, mutation: tuple[list[int], Any]) -> None:
    # A small estate keeps the valid cases (which run a whole demo scan) quick.
    original = e.estate(e.vault("kv-fuzz"), e.nsg("nsg-fuzz"))
    with case_folder(workspace) as folder:
        estate = write(folder, "estate.json", json_text(mutate(original, *mutation)))
        assert_property(["demo", "-q", "--estate", str(estate), "--format", "json", "--out", str(folder / "out")])


@FUZZ
@given(mutation=MUTATION)
def test_fuzzed_manifests(workspace: Path, mutation: tuple[list[int], Any]) -> None:
    original = json.loads((workspace / "demo" / "manifest.json").read_text(encoding="utf-8"))
    with case_folder(workspace) as folder:
        for name in ("findings.json", "inventory.json"):
            shutil.copy(workspace / "demo" / name, folder / name)
        write(folder, "manifest.json", json_text(mutate(original, *mutation)))
        assert_property(["verify", str(folder)])


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzzed_bytes_in_every_reader(workspace: Path, raw: bytes) -> None:
    snapshot = str(workspace / "demo" / "inventory.json")
    with case_folder(workspace) as folder:
        path = str(write(folder, "input", raw))
        out = str(folder / "out")
        for argv in (
            ["evaluate", path, "--out", out],
            ["evaluate", snapshot, "--baseline", path, "--out", out],
            ["evaluate", snapshot, "--attestations", path, "--out", out],
            ["evaluate", snapshot, "--waivers", path, "--out", out],
            ["evaluate", snapshot, "--sign-key", path, "--out", out],
            ["evaluate", snapshot, "--compare", path, "--out", out],
            ["verify", str(workspace / "demo"), "--public-key", path],
            ["diff", path, path],
            ["list-controls", "--baseline", path],
        ):
            assert_property(argv)


# --- TOML inputs: baselines, attestations, waivers ---------------------------------------------------------


TOML_VALUES = st.one_of(
    st.sampled_from(['""', '"x"', "0", "-1", "99999", "9" * 5000, "true", "[]", '["0.0.0.0/0"]', "{}", '"bogus"']),
    st.text(alphabet="[]{}=\"',.0123456789abc-_ \n", max_size=20),
)
BASELINE_KEYS = st.sampled_from(
    ["type", "default", "min", "max", "format", "choices", "weakened_by", "allow_weakening", "id", "severity",
     "mode", "checks", "parameters", "area", "title", "quote", "iac", "frameworks", "unknown"]
)  # fmt: skip


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2000), BASELINE_KEYS, TOML_VALUES, st.booleans()), max_size=3
    )
)
def test_fuzzed_baselines(workspace: Path, edits: list[tuple[int, str, str, bool]]) -> None:
    lines = default_baseline_path().read_text(encoding="utf-8").splitlines()
    for index, key, value, replace in edits:
        at = index % len(lines)
        line = f"{key} = {value}"
        if replace:
            lines[at] = line
        else:
            lines.insert(at, line)
    snapshot = str(workspace / "demo" / "inventory.json")
    with case_folder(workspace) as folder:
        baseline = write(folder, "baseline.toml", "\n".join(lines) + "\n")
        assert_property(["evaluate", snapshot, "--baseline", str(baseline), "--format", "json", "--out", str(folder)])


ENTRY_FIELDS = st.sampled_from(
    ["control", "resource", "reason", "owner", "expires", "attested_by", "date", "evidence", "extra"]
)
ENTRY_VALUES = st.one_of(
    st.sampled_from(['"NET-01"', '"ENC-*"', '"*"', "2027-01-31", '"2027-02-30"', "1999-01-01", "3", '""', "[]"]),
    TOML_VALUES,
)


def _decision_file(table: str, entries: list[list[tuple[str, str]]]) -> str:
    blocks = [f"[[{table}]]\n" + "".join(f"{key} = {value}\n" for key, value in entry) for entry in entries]
    return "\n".join(blocks)


@FUZZ
@given(
    table=st.sampled_from(["waiver", "attestation", "other"]),
    entries=st.lists(st.lists(st.tuples(ENTRY_FIELDS, ENTRY_VALUES), max_size=6), max_size=3),
)
def test_fuzzed_waivers_and_attestations(workspace: Path, table: str, entries: list[list[tuple[str, str]]]) -> None:
    snapshot = str(workspace / "demo" / "inventory.json")
    with case_folder(workspace) as folder:
        path = str(write(folder, "decisions.toml", _decision_file(table, entries)))
        out = str(folder / "out")
        assert_property(["evaluate", snapshot, "--waivers", path, "--format", "json", "--out", out])
        assert_property(["evaluate", snapshot, "--attestations", path, "--format", "json", "--out", out])


# --- arguments -----------------------------------------------------------------------------------------------

PARAMS = [
    "exposed_ports=",
    "exposed_ports=ssh",
    "allowed_rdp_sources=0.0.0.0/0",
    "x=1",
    "novalue",
    "min_soft_delete_days=" + "9" * 5000,
    "primary_region=eastus",
    "alert_min_severity=Low",
]
OPTION_VALUES: dict[str, st.SearchStrategy[str]] = {
    "--out": st.sampled_from(["{tmp}/out", "/dev/null", "{tmp}", "{tmp}/file", "{tmp}/" + "n" * 300, ""]),
    "--format": st.sampled_from(["json", "html,json", "pdf", "", ",", "json,json", "sarif,junit,csv,markdown"]),
    "--fail-on": st.sampled_from(["none", "high", "critical", "bogus", "", "HIGH"]),
    "--fail-on-new": st.sampled_from(["high", "nope"]),
    "--param": st.one_of(
        st.sampled_from(
            [
                "exposed_ports=",
                "exposed_ports=ssh",
                "allowed_rdp_sources=0.0.0.0/0",
                "x=1",
                "novalue",
                "min_soft_delete_days=" + "9" * 5000,
                "primary_region=eastus",
                "alert_min_severity=Low",
            ]
        ),
        TEXT.map(lambda t: f"admin_email={t}"),
    ),
    "--controls": st.sampled_from(["NET-*", "KV-01", "XYZ", "*", "", "NET-0;1", "net-01,ENC-*"]),
    "--exclude-controls": st.sampled_from(["NET-*", "*", "NOPE", ""]),
    "--baseline": st.sampled_from(["{tmp}/missing.toml", "/dev/null", "{tmp}"]),
    "--waivers": st.sampled_from(["{tmp}/missing.toml", "{tmp}"]),
    "--compare": st.sampled_from(["{demo}", "{demo}/findings.json", "{tmp}/nothing"]),
    "--sign-key": st.sampled_from(["{tmp}/missing.pem", "{demo}/findings.json"]),
}
SCAN_VALUES: dict[str, st.SearchStrategy[str]] = {
    "--subscription": st.one_of(st.sampled_from([e.SUB, "../../providers/x", "", e.SUB.upper()]), TEXT),
    "--resource-group": st.one_of(st.sampled_from(["rg-app", "../x", "rg.", "(rg)"]), TEXT),
    "--max-workers": st.sampled_from(["1", "0", "65", "x", "8", "9" * 40]),
    "--processes": st.sampled_from(["1", "0", "-3"]),
    "--ca-bundle": st.sampled_from(["{ca}", "{tmp}/missing.pem", "{demo}/findings.json"]),
    "--snapshot": st.sampled_from(["{tmp}/snap.json", "/dev/null", "{tmp}"]),
    # Only the local endpoint, or forms that are refused: a fuzzed scan must never reach another host.
    "--arm-endpoint": st.sampled_from(["{url}", "http://127.0.0.1:1", "https://127.0.0.1:99999", "ftp://x", ""]),
}


def _options(values: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    pair = st.sampled_from(sorted(values)).flatmap(lambda name: values[name].map(lambda v: (name, v)))
    return st.lists(pair, max_size=4)


def _expand(pairs: list[tuple[str, str]], places: dict[str, str]) -> list[str]:
    argv: list[str] = []
    for name, value in pairs:
        expanded = value
        for key, place in places.items():
            expanded = expanded.replace("{" + key + "}", place)
        argv += [name, expanded]
    return argv


@FUZZ
@given(command=st.sampled_from(["evaluate", "demo-invalid", "list-controls", "diff", "verify", "keygen"]),
       pairs=_options(OPTION_VALUES), extra=st.lists(TEXT, max_size=2))  # fmt: skip
def test_fuzzed_arguments(workspace: Path, command: str, pairs: list[tuple[str, str]], extra: list[str]) -> None:
    demo = workspace / "demo"
    with case_folder(workspace) as folder:
        write(folder, "file", "x")
        places = {"tmp": str(folder), "demo": str(demo)}
        options = _expand(pairs, places)
        argv: dict[str, list[str]] = {
            "evaluate": ["evaluate", str(demo / "inventory.json"), "-q", *options],
            # The demo is run only with a choice that matches nothing, so each case stays fast.
            "demo-invalid": ["demo", *options, "--controls", "NO-SUCH-CONTROL"],
            "list-controls": ["list-controls", *[a for a in options if a != "-q"][:2], *extra[:1]],
            "diff": ["diff", str(demo), *extra[:1], *options[:2]],
            "verify": ["verify", str(demo), *extra[:1]],
            "keygen": ["keygen", "--out", str(folder / "keys"), *extra[:1]],
        }
        assert_property(argv[command])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Emulator]:
    """A local endpoint serving a small estate, the only place a fuzzed scan may talk to."""
    estate = Estate.from_dict(e.estate(e.vault("kv-scan"), e.nsg("nsg-scan")), source="fuzz")
    with Emulator(estate) as running:
        yield running
        AUDITED_REQUESTS.extend(running.requests)


@settings(FUZZ, max_examples=20)
@given(pairs=_options({**SCAN_VALUES, **OPTION_VALUES}), all_subscriptions=st.booleans())
def test_fuzzed_scan_arguments(
    workspace: Path, endpoint: Emulator, pairs: list[tuple[str, str]], all_subscriptions: bool
) -> None:
    with case_folder(workspace) as folder, _bearer_token(endpoint.token):
        write(folder, "file", "x")
        places = {"tmp": str(folder), "demo": str(workspace / "demo"), "url": endpoint.url, "ca": str(endpoint.ca_file)}
        options = _expand(pairs, places)
        scope = ["--all-subscriptions"] if all_subscriptions else ["--subscription", e.SUB]
        # The endpoint and its CA come first; a fuzzed --arm-endpoint later on the line replaces it.
        argv = ["scan", "-q", "--arm-endpoint", endpoint.url, "--ca-bundle", str(endpoint.ca_file), *scope]
        argv += ["--out", str(folder / "out"), *options]
        assert_property(argv)


@contextlib.contextmanager
def _bearer_token(token: str) -> Iterator[None]:
    previous = os.environ.get("AUDITOR_BEARER_TOKEN")
    os.environ["AUDITOR_BEARER_TOKEN"] = token
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("AUDITOR_BEARER_TOKEN", None)
        else:
            os.environ["AUDITOR_BEARER_TOKEN"] = previous


def test_the_emulator_refuses_bad_ports_in_one_line() -> None:
    for port in ("99999", "-1", "http", "9" * 50):
        assert assert_property(["emulator", "--estate", str(demo_estate_path()), "--port", port]) == 2

"""Every input file is read within bounds: depth, integer length, size, encoding, and a clear error otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.cli import main
from auditor.input_files import MAX_DEPTH, InputFileError, read_bytes, read_json, read_toml

DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_TOML = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"
HUGE_INT = "9" * 5000


def write(path: Path, content: str | bytes) -> Path:
    """Write a file and return its path."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (DEEP_JSON, f"nested deeper than {MAX_DEPTH} levels"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
        (f'{{"n": {HUGE_INT}}}', "more than 4300 digits"),
        ('{"n": NaN}', "NaN is not a JSON number"),
        (b'{"name": "\xff"}', "not UTF-8 text (byte 10)"),
        ("{not json", "invalid JSON at line 1 column 2"),
    ],
    ids=["deep", "one-too-deep", "huge-int", "nan", "not-utf8", "syntax"],
)
def test_json_inputs_are_refused_with_the_reason(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = write(tmp_path / "in.json", content)
    with pytest.raises(InputFileError) as caught:
        read_json(path, "snapshot")
    message = str(caught.value)
    assert message.startswith(f"snapshot {path}: ") and expected in message, message


def test_json_at_the_depth_limit_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "in.json", "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    value = read_json(path, "snapshot")
    for _ in range(MAX_DEPTH - 1):
        value = value[0]
    assert value == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (DEEP_TOML, f"nested deeper than {MAX_DEPTH} levels"),
        (f"n = {HUGE_INT}\n", "a value is out of range"),
        ("a = [1\n", "TOML syntax error"),
    ],
    ids=["deep", "huge-int", "syntax"],
)
def test_toml_inputs_are_refused_with_the_reason(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path / "in.toml", content)
    with pytest.raises(InputFileError, match=r"^waiver file .*in\.toml: ") as caught:
        read_toml(path, "waiver file")
    assert expected in str(caught.value)


def test_size_limit_and_non_files(tmp_path: Path) -> None:
    big = write(tmp_path / "big.pem", b"x" * 101)
    with pytest.raises(InputFileError, match="101 bytes, larger than the 100 bytes"):
        read_bytes(big, "--sign-key", limit=100)
    with pytest.raises(InputFileError, match="is a folder, expected a file"):
        read_bytes(tmp_path, "--sign-key")
    with pytest.raises(InputFileError, match="not a regular file"):
        read_bytes(Path("/dev/null"), "--sign-key")
    with pytest.raises(InputFileError, match="cannot read: No such file"):
        read_bytes(tmp_path / "missing", "--sign-key")


# Every reader of the command line, fed each malformed form: exit 2 and one line naming the file.
MALFORMED: dict[str, str | bytes] = {
    "deep JSON": DEEP_JSON,
    "huge integer": f'{{"format": "auditor-inventory", "version": {HUGE_INT}}}',
    "not UTF-8": b'{"format": "\xfe\xff"}',
}
MALFORMED_TOML: dict[str, str | bytes] = {
    "deep TOML": DEEP_TOML,
    "huge integer": f"x = {HUGE_INT}\n",
    "not UTF-8": b"x = '\xfe'\n",
}


def _commands(path: Path, out: Path) -> dict[str, list[str]]:
    return {
        "snapshot": ["evaluate", str(path), "--out", str(out)],
        "estate": ["demo", "--estate", str(path), "--out", str(out)],
        "findings (--compare)": ["evaluate", str(path), "--compare", str(path), "--out", str(out)],
        "findings (diff)": ["diff", str(path), str(path)],
    }


def _toml_commands(path: Path, out: Path) -> dict[str, list[str]]:
    return {
        "baseline": ["demo", "--baseline", str(path), "--out", str(out)],
        "attestations": ["demo", "--attestations", str(path), "--out", str(out)],
        "waivers": ["demo", "--waivers", str(path), "--out", str(out)],
    }


def _assert_one_line_exit_2(argv: list[str], path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("auditor: error: "), err
    assert str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_json_inputs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = write(tmp_path / "input.json", MALFORMED[name])
    for argv in _commands(path, tmp_path / "out").values():
        _assert_one_line_exit_2(argv, path, capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", sorted(MALFORMED_TOML))
def test_malformed_toml_inputs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = write(tmp_path / "input.toml", MALFORMED_TOML[name])
    for argv in _toml_commands(path, tmp_path / "out").values():
        _assert_one_line_exit_2(argv, path, capsys)
    assert not (tmp_path / "out").exists()


def test_malformed_keys_and_manifests_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = write(tmp_path / "key.pem", b"\xff" * 70_000)
    _assert_one_line_exit_2(["demo", "--sign-key", str(key), "--out", str(tmp_path / "out")], key, capsys)
    _assert_one_line_exit_2(["verify", str(tmp_path), "--public-key", str(key)], key, capsys)
    manifest = write(tmp_path / "manifest.json", DEEP_JSON)
    _assert_one_line_exit_2(["verify", str(tmp_path)], manifest, capsys)


def test_snapshot_whose_as_of_is_not_a_timestamp_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = (
        '{"format": "auditor-inventory", "version": 2, "inventory": '
        '{"source": "x", "started_at": "2026-12-01T00:00:00Z", "finished_at": "2026-12-01T00:01:00Z", '
        '"as_of": "yesterday"}}'
    )
    path = write(tmp_path / "inventory.json", document)
    _assert_one_line_exit_2(["evaluate", str(path), "--out", str(tmp_path / "out")], path, capsys)
    assert "inventory.as_of: 'yesterday' is not an ISO 8601 timestamp" in main_err(path, tmp_path, capsys)


def main_err(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The stderr of evaluating a snapshot."""
    main(["evaluate", str(path), "--out", str(tmp_path / "out")])
    return capsys.readouterr().err


def test_snapshot_whose_field_sources_are_not_pairs_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = (
        '{"format": "auditor-inventory", "version": 2, "inventory": '
        '{"source": "x", "started_at": "2026-12-01T00:00:00Z", "finished_at": "2026-12-01T00:01:00Z", '
        '"field_sources": [[]]}}'
    )
    path = write(tmp_path / "inventory.json", document)
    _assert_one_line_exit_2(["evaluate", str(path), "--out", str(tmp_path / "out")], path, capsys)
    assert "inventory.field_sources[0]: expected a list of 2 items, got 0" in main_err(path, tmp_path, capsys)

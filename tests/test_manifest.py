"""Integrity of report folders: manifest.json written last, `auditor verify`, Ed25519 signing and keygen."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auditor import __version__
from auditor.cli import main
from auditor.manifest import (
    MANIFEST_FILE,
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_FILE,
    ManifestError,
    file_sha256,
    load_signing_key,
    verify_folder,
)
from auditor.snapshot import save_snapshot
from tests.builders import make_inventory, make_nsg

KEY_SUFFIXES = (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE)


def run(*args: str) -> int:
    """The CLI in-process."""
    return main(list(args))


def manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a report folder."""
    loaded: dict[str, Any] = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a key pair made by `auditor keygen`."""
    folder = tmp_path_factory.mktemp("keys")
    assert run("keygen", "--out", str(folder)) == 0
    return folder


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small inventory snapshot to evaluate."""
    path = tmp_path_factory.mktemp("snapshot") / "inventory.json"
    save_snapshot(make_inventory(network_security_groups=(make_nsg("nsg"),)), path)
    return path


@pytest.fixture
def report(snapshot: Path, tmp_path: Path) -> Path:
    """A fresh, unsigned report folder in every format, holding the snapshot it was evaluated from."""
    out = tmp_path / "report"
    out.mkdir()
    inventory = out / "inventory.json"
    inventory.write_bytes(snapshot.read_bytes())
    run("evaluate", str(inventory), "--out", str(out), "--format", "html,json", "--quiet")
    return out


@pytest.fixture
def signed(snapshot: Path, keys: Path, tmp_path: Path) -> Path:
    """A fresh report folder signed with the keygen key."""
    out = tmp_path / "signed"
    run("evaluate", str(snapshot), "--out", str(out), "--sign-key", str(keys / PRIVATE_KEY_FILE), "--quiet")
    return out


def test_manifest_lists_every_file_with_its_hash(report: Path) -> None:
    data = manifest(report)
    assert data["format"] == "auditor-manifest" and data["version"] == 1
    assert data["tool"] == {"name": "auditor", "version": __version__}
    findings = json.loads((report / "findings.json").read_text(encoding="utf-8"))
    assert data["baseline_sha256"] == findings["scan"]["baseline"]["sha256"]
    assert data["created_at"].endswith("+00:00")
    assert data["signing_key_sha256"] is None
    listed = {entry["path"]: entry for entry in data["files"]}
    assert set(listed) == {"findings.json", "report.html", "inventory.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == file_sha256(report / name)
        assert entry["size"] == (report / name).stat().st_size
    assert not list(report.glob(".*.tmp"))


def test_verify_passes_on_a_fresh_folder(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("verify", str(report)) == 0
    assert capsys.readouterr().out == f"verified 3 file(s) in {report} against manifest.json; not signed\n"


def test_verify_fails_on_a_one_byte_change(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = report / "report.html"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    assert run("verify", str(report)) == 1
    err = capsys.readouterr().err
    assert "modified: report.html (sha256 " in err
    assert f"{report} does NOT match its manifest" in err


def test_verify_names_missing_and_extra_files(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (report / "findings.json").unlink()
    (report / "sub").mkdir()
    (report / "sub" / "planted.txt").write_text("x", encoding="utf-8")
    assert run("verify", str(report), "--quiet") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "missing: findings.json" in captured.err
    assert "not in the manifest: sub/planted.txt" in captured.err


def test_missing_manifest_is_a_failed_verification(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "findings.json").write_text("{}", encoding="utf-8")
    assert run("verify", str(tmp_path)) == 1
    assert f"manifest.json missing: nothing in {tmp_path} can be verified" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{", "not valid JSON"),
        ('{"format": "other"}', "not an auditor manifest"),
        ('{"format": "auditor-manifest", "version": 7}', "manifest version 7"),
        ('{"format": "auditor-manifest", "version": 1, "files": [{"path": "../x", "sha256": ""}]}', "'../x'"),
        ('{"format": "auditor-manifest", "version": 1, "files": [{"path": "/etc/passwd", "sha256": ""}]}', "passwd"),
        ('{"format": "auditor-manifest", "version": 1, "files": [{"path": "a", "sha256": "zz"}]}', "64 lower-case"),
    ],
)
def test_an_unreadable_manifest_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    (tmp_path / MANIFEST_FILE).write_text(content, encoding="utf-8")
    assert run("verify", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"auditor: error: {tmp_path / MANIFEST_FILE}: ")
    assert reason in err


def test_verify_of_a_folder_that_does_not_exist_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("verify", str(tmp_path / "nowhere")) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_rerun_replaces_the_folder_and_drops_a_stale_signature(signed: Path, snapshot: Path) -> None:
    assert (signed / SIGNATURE_FILE).is_file()
    run("evaluate", str(snapshot), "--out", str(signed), "--format", "json", "--quiet")
    assert not (signed / SIGNATURE_FILE).exists()
    # The folder is replaced whole: the first run's html report does not linger beside the new findings.
    assert not (signed / "report.html").exists()
    verification = verify_folder(signed)
    assert verification.ok and verification.matched == 1


# --- signing ----------------------------------------------------------------------------------------


def test_keygen_makes_an_owner_only_private_key_and_never_overwrites(
    keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = keys / PRIVATE_KEY_FILE
    if os.name == "posix":
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert load_signing_key(private).fingerprint
    before = private.read_bytes()
    assert run("keygen", "--out", str(keys)) == 2
    assert "already exists" in capsys.readouterr().err
    assert private.read_bytes() == before


def test_signed_folder_verifies_with_the_public_key(
    signed: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = load_signing_key(keys / PRIVATE_KEY_FILE)
    assert manifest(signed)["signing_key_sha256"] == key.fingerprint
    signature = base64.b64decode((signed / SIGNATURE_FILE).read_bytes().strip(), validate=True)
    key.key.public_key().verify(signature, (signed / MANIFEST_FILE).read_bytes())
    assert run("verify", str(signed), "--public-key", str(keys / PUBLIC_KEY_FILE)) == 0
    assert capsys.readouterr().out.endswith("; signature valid\n")
    assert run("verify", str(signed)) == 0
    assert "signature present but not checked" in capsys.readouterr().out


def test_an_edited_manifest_fails_the_signature_even_with_matching_hashes(
    signed: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rewriting the manifest consistently (say, to vouch for a replaced report) must not survive the signature.
    target = signed / "findings.json"
    target.write_text(target.read_text(encoding="utf-8").replace('"fail"', '"pass"'), encoding="utf-8")
    data = manifest(signed)
    for entry in data["files"]:
        if entry["path"] == "findings.json":
            entry["sha256"], entry["size"] = file_sha256(target), target.stat().st_size
    (signed / MANIFEST_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    assert run("verify", str(signed)) == 0
    capsys.readouterr()
    assert run("verify", str(signed), "--public-key", str(keys / PUBLIC_KEY_FILE)) == 1
    assert "manifest.sig: bad signature" in capsys.readouterr().err


def test_the_wrong_public_key_is_named(signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keygen", "--out", str(tmp_path / "other")) == 0
    assert run("verify", str(signed), "--public-key", str(tmp_path / "other" / PUBLIC_KEY_FILE)) == 1
    err = capsys.readouterr().err
    assert "bad signature: the manifest names signing key" in err


def test_a_garbled_or_missing_signature_fails(
    signed: Path, report: Path, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = str(keys / PUBLIC_KEY_FILE)
    (signed / SIGNATURE_FILE).write_text("not base64!\n", encoding="utf-8")
    assert run("verify", str(signed), "--public-key", public) == 1
    assert "manifest.sig: not a base64 signature" in capsys.readouterr().err
    assert run("verify", str(report), "--public-key", public) == 1
    assert "manifest.sig missing: the manifest is not signed" in capsys.readouterr().err


def test_signing_key_problems_exit_2_before_anything_is_written(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encrypted = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    wrong_type = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cases = {"encrypted.pem": (encrypted, "encrypted"), "ec.pem": (wrong_type, "not an Ed25519 key")}
    cases["junk.pem"] = (b"junk", "not a PEM private key")
    for name, (content, reason) in cases.items():
        (tmp_path / name).write_bytes(content)
        out = tmp_path / f"out-{name}"
        assert run("evaluate", str(snapshot), "--out", str(out), "--sign-key", str(tmp_path / name)) == 2
        err = capsys.readouterr().err
        assert f"--sign-key {tmp_path / name}: " in err and reason in err, err
        assert not out.exists()
    assert run("evaluate", str(snapshot), "--out", str(tmp_path / "x"), "--sign-key", str(tmp_path / "none")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_public_key_that_is_not_ed25519_exits_2(
    signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = generate_private_key(SECP256R1()).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "ec.pub.pem").write_bytes(pem)
    assert run("verify", str(signed), "--public-key", str(tmp_path / "ec.pub.pem")) == 2
    assert "not an Ed25519 public key" in capsys.readouterr().err


def test_verify_refuses_manifest_files_inside_the_manifest(tmp_path: Path) -> None:
    entry = {"path": MANIFEST_FILE, "sha256": "0" * 64}
    (tmp_path / MANIFEST_FILE).write_text(
        json.dumps({"format": "auditor-manifest", "version": 1, "files": [entry]}), encoding="utf-8"
    )
    with pytest.raises(ManifestError, match="not a relative path inside the folder"):
        verify_folder(tmp_path)

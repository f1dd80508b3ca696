"""manifest.json: the SHA-256 of every file a run wrote, optionally signed with Ed25519, and its verification.

A report folder is sealed by writing ``manifest.json`` last; ``manifest.sig`` holds the base64 Ed25519
signature over the exact bytes of ``manifest.json``. Verification recomputes every hash and names each
file that is missing, modified or not listed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from auditor.files import write_atomically
from auditor.input_files import MAX_SMALL_FILE_BYTES, InputFileError, decode_utf8, parse_json, read_bytes

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST_FILE = "manifest.json"
# A PEM Ed25519 key is a few hundred bytes.
MAX_KEY_BYTES = 64 * 1024
SIGNATURE_FILE = "manifest.sig"
FORMAT = "auditor-manifest"
VERSION = 1
TOOL_NAME = "auditor"
PRIVATE_KEY_FILE = "auditor-signing-key.pem"
PUBLIC_KEY_FILE = "auditor-signing-key.pub.pem"
_SEAL_FILES = frozenset({MANIFEST_FILE, SIGNATURE_FILE})
_SHA256_HEX = frozenset("0123456789abcdef")


class ManifestError(ValueError):
    """A manifest, signature key or folder that cannot be read, with the file and the reason."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key loaded from a PEM file."""

    key: Ed25519PrivateKey
    path: str

    def sign(self, data: bytes) -> bytes:
        """The Ed25519 signature of the data."""
        return self.key.sign(data)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, which names the key in the manifest."""
        return fingerprint(self.key.public_key())


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying a folder: how many files matched and everything that did not."""

    folder: str
    matched: int
    problems: tuple[str, ...]
    # "valid", "unchecked" (a signature exists but no public key was given) or "unsigned".
    signature: str

    @property
    def ok(self) -> bool:
        """True when every listed file matched, nothing is extra and any requested signature is valid."""
        return not self.problems


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large inventories do not fill memory."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def manifest_bytes(
    folder: Path,
    files: Iterable[Path],
    *,
    tool_version: str,
    baseline_sha256: str,
    created_at: str,
    signing_key: SigningKey | None = None,
) -> bytes:
    """The manifest document for files inside the folder, hashed as they are on disk now."""
    entries = []
    for relative in sorted({_inside(folder, path) for path in files}):
        target = folder / relative
        entries.append({"path": relative, "sha256": file_sha256(target), "size": target.stat().st_size})
    document = {
        "format": FORMAT,
        "version": VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version},
        "created_at": created_at,
        "baseline_sha256": baseline_sha256,
        "signing_key_sha256": signing_key.fingerprint if signing_key else None,
        "files": entries,
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_manifest(
    folder: Path,
    files: Iterable[Path],
    *,
    tool_version: str,
    baseline_sha256: str,
    created_at: str,
    signing_key: SigningKey | None = None,
) -> list[Path]:
    """Seal the folder: manifest.sig (when signing) and then manifest.json, each atomically; returns both paths."""
    data = manifest_bytes(
        folder,
        files,
        tool_version=tool_version,
        baseline_sha256=baseline_sha256,
        created_at=created_at,
        signing_key=signing_key,
    )
    signature_path = folder / SIGNATURE_FILE
    written = []
    if signing_key is None:
        # A signature left by an earlier signed run would not match the new manifest: remove it rather
        # than leave a folder whose signature check fails for a reason nobody can see.
        signature_path.unlink(missing_ok=True)
    else:
        write_atomically(signature_path, base64.b64encode(signing_key.sign(data)) + b"\n")
        written.append(signature_path)
    # Last, so a folder whose manifest matches its files is a folder whose every file is complete.
    write_atomically(folder / MANIFEST_FILE, data)
    return [folder / MANIFEST_FILE, *written]


def verify_folder(folder: Path, public_key: Ed25519PublicKey | None = None) -> Verification:
    """Recompute every hash of the folder's manifest; with a public key, check manifest.sig too."""
    if not folder.is_dir():
        raise ManifestError(f"{folder}: not a folder")
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.exists():
        problem = f"{MANIFEST_FILE} missing: nothing in {folder} can be verified"
        return Verification(str(folder), 0, (problem,), "unsigned")
    try:
        data = read_bytes(manifest_path, "manifest", limit=MAX_SMALL_FILE_BYTES)
    except InputFileError as exc:
        raise ManifestError(str(exc)) from None
    entries = _entries(_document(data, manifest_path), manifest_path)
    problems: list[str] = []
    matched = 0
    for relative, expected in entries.items():
        target = folder / relative
        if not target.is_file():
            problems.append(f"missing: {relative}")
            continue
        try:
            found = file_sha256(target)
        except OSError as exc:
            raise ManifestError(f"{target}: cannot read: {exc.strerror or exc}") from None
        if found == expected:
            matched += 1
        else:
            problems.append(f"modified: {relative} (sha256 {found}, manifest says {expected})")
    problems.extend(f"not in the manifest: {extra}" for extra in sorted(set(_present(folder)) - set(entries)))
    signature = _check_signature(folder, data, public_key, problems)
    return Verification(str(folder), matched, tuple(problems), signature)


def load_signing_key(path: Path) -> SigningKey:
    """An unencrypted Ed25519 private key from a PEM file."""
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415 - keeps `--help` fast
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    where = f"--sign-key {path}"
    data = _read_key(path, "--sign-key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ManifestError(f"{where}: the key is encrypted; give an unencrypted PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ManifestError(f"{where}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ManifestError(f"{where}: not an Ed25519 key (auditor keygen makes one)")
    return SigningKey(key, str(path))


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file."""
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415 - keeps `--help` fast
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: PLC0415

    where = f"--public-key {path}"
    data = _read_key(path, "--public-key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ManifestError(f"{where}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ManifestError(f"{where}: not an Ed25519 public key")
    return key


def generate_key_pair(folder: Path) -> tuple[Path, Path]:
    """A new Ed25519 key pair as PEM files in the folder (private key owner-only); never overwrites."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - keeps `--help` fast
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    existing = [p for p in (private_path, public_path) if p.exists()]
    if existing:
        raise ManifestError(f"{existing[0]}: already exists; keygen never overwrites a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _create_exclusively(private_path, private_pem, 0o600)
        _create_exclusively(public_path, public_pem, 0o644)
    except FileExistsError as exc:
        raise ManifestError(f"{exc.filename}: already exists; keygen never overwrites a key") from None
    except OSError as exc:
        raise ManifestError(f"{folder}: cannot write the key pair: {exc.strerror or exc}") from None
    return private_path, public_path


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the 32 raw bytes of an Ed25519 public key."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - keeps `--help` fast

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _create_exclusively(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL refuses an existing file (or a symlink planted in its place), and the mode applies from the
    # first byte, so the private key is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _read_key(path: Path, option: str) -> bytes:
    try:
        return read_bytes(path, option, limit=MAX_KEY_BYTES)
    except InputFileError as exc:
        raise ManifestError(str(exc)) from None


def _inside(folder: Path, path: Path) -> str:
    """The manifest path of a file that must lie inside the folder."""
    try:
        return _relative(folder.resolve(), path.resolve())
    except ValueError:
        raise ManifestError(f"{path}: not inside {folder}, so a manifest there cannot cover it") from None


def _relative(folder: Path, path: Path) -> str:
    """The path of a file below the folder, as the manifest spells it (forward slashes)."""
    return PurePosixPath(*path.relative_to(folder).parts).as_posix()


def _document(data: bytes, where: Path) -> dict[str, Any]:
    try:
        document = parse_json(decode_utf8(data, str(where)), str(where))
    except InputFileError as exc:
        reason = str(exc).removeprefix(f"{where}: ")
        raise ManifestError(f"{where}: not valid JSON: {reason}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ManifestError(f'{where}: not an auditor manifest (expected "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise ManifestError(f"{where}: manifest version {document.get('version')!r}, this tool reads {VERSION}")
    return document


def _entries(document: dict[str, Any], where: Path) -> dict[str, str]:
    """Relative path to expected hash, refusing any path that could point outside the folder."""
    files = document.get("files")
    if not isinstance(files, list):
        raise ManifestError(f"{where}: files: expected a list")
    entries: dict[str, str] = {}
    for index, entry in enumerate(files):
        place = f"{where}: files[{index}]"
        if not isinstance(entry, dict):
            raise ManifestError(f"{place}: expected an object")
        relative, digest = entry.get("path"), entry.get("sha256")
        if not isinstance(relative, str) or not _safe(relative):
            raise ManifestError(f"{place}.path: {relative!r} is not a relative path inside the folder")
        if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _SHA256_HEX:
            raise ManifestError(f"{place}.sha256: expected 64 lower-case hex digits")
        entries[relative] = digest
    return entries


def _safe(relative: str) -> bool:
    parts = PurePosixPath(relative).parts
    return (
        bool(parts)
        and "\\" not in relative
        and ":" not in relative
        and not PurePosixPath(relative).is_absolute()
        and all(part not in ("..", ".") for part in parts)
        and relative not in _SEAL_FILES
    )


def _present(folder: Path) -> Sequence[str]:
    """Every file below the folder except the manifest and its signature, as relative posix paths."""
    found = []
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        relative = _relative(folder, path)
        if relative not in _SEAL_FILES:
            found.append(relative)
    return found


def _check_signature(folder: Path, data: bytes, public_key: Ed25519PublicKey | None, problems: list[str]) -> str:
    """Append what is wrong with manifest.sig to problems; returns the signature state."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 - keeps `--help` fast

    signature_path = folder / SIGNATURE_FILE
    present = signature_path.is_file()
    if public_key is None:
        return "unchecked" if present else "unsigned"
    if not present:
        problems.append(f"{SIGNATURE_FILE} missing: the manifest is not signed")
        return "unsigned"
    try:
        signature = base64.b64decode(signature_path.read_bytes().strip(), validate=True)
    except OSError as exc:
        raise ManifestError(f"{signature_path}: cannot read: {exc.strerror or exc}") from None
    except ValueError:
        problems.append(f"{SIGNATURE_FILE}: not a base64 signature")
        return "invalid"
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        signed_by = _signed_by(data)
        if signed_by and signed_by != fingerprint(public_key):
            problems.append(
                f"{SIGNATURE_FILE}: bad signature: the manifest names signing key {signed_by}, "
                f"the given public key is {fingerprint(public_key)}"
            )
        else:
            problems.append(f"{SIGNATURE_FILE}: bad signature: manifest.json was altered or signed with another key")
        return "invalid"
    return "valid"


def _signed_by(data: bytes) -> str:
    # Only a hint for the message: the manifest is already known not to match its signature.
    value = json.loads(data.decode("utf-8")).get("signing_key_sha256")
    return value if isinstance(value, str) else ""

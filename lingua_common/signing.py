"""Signed model manifests: the hub signs each published version's manifest with an Ed25519 key, nodes verify it
with the hub's public key(s), whatever channel the catalog and the files came over.

The manifest is canonical JSON, the exact bytes that are signed (Ed25519, no pre-hash):

    {"dialect":"","engine":"ctranslate2-m2m100","files":[{"path":"model.bin","sha256":"…","size":123},…],
     "format":"lingua-model-manifest/1","kind":2,"languages":[],"model_id":"phrasebook-m2m100",
     "pairs":[["en","fr"]],"version":"1.0.0"}

- keys sorted, no whitespace (`separators=(",", ":")`), ASCII only (`ensure_ascii=True`), UTF-8 bytes;
- `kind` is the lingua.v1.ModelKind number; `languages` sorted; `pairs` sorted [src, tgt] lists;
- `files` sorted by path, each {path, sha256 (64 lower-case hex), size (bytes)}.

A key's id is the first 16 hex digits of the sha256 of its raw 32-byte public key. Private keys are PKCS#8 PEM
files that only their owner may read (0600); public keys are the base64 of the raw 32 bytes (or a PEM file).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "lingua-model-manifest/1"
PRIVATE_KEY_NAME = "hub_signing.key"
PUBLIC_KEY_NAME = "hub_signing.pub"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEYS = {"dialect", "engine", "files", "format", "kind", "languages", "model_id", "pairs", "version"}


class ManifestError(ValueError):
    """A manifest or signature that cannot be trusted; the message says why."""


@dataclass(frozen=True)
class ManifestFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    model_id: str
    version: str
    kind: int
    engine: str
    dialect: str
    languages: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    files: tuple[ManifestFile, ...]

    def canonical(self) -> bytes:
        """The exact bytes that are signed (see the module docstring)."""
        doc = {"format": FORMAT, "model_id": self.model_id, "version": self.version, "kind": self.kind,
               "engine": self.engine, "dialect": self.dialect, "languages": sorted(self.languages),
               "pairs": sorted([a, b] for a, b in self.pairs),
               "files": [{"path": f.path, "size": f.size, "sha256": f.sha256}
                         for f in sorted(self.files, key=lambda f: f.path)]}
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _str(doc: Mapping[str, Any], key: str) -> str:
    value = doc[key]
    if not isinstance(value, str):
        raise ManifestError(f"manifest field {key!r} is not a string")
    return value


def parse_manifest(data: bytes) -> Manifest:
    """The manifest in `data`, which must be in canonical form (so that one manifest has one byte string)."""
    try:
        doc = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"the manifest is not ASCII JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != _KEYS or doc["format"] != FORMAT:
        raise ManifestError(f"the manifest is not a {FORMAT} object")
    try:
        kind = doc["kind"]
        if not isinstance(kind, int) or isinstance(kind, bool):
            raise ManifestError("manifest field 'kind' is not an integer")
        languages = tuple(doc["languages"])
        pairs = tuple((a, b) for a, b in doc["pairs"])
        files = tuple(ManifestFile(f["path"], f["size"], f["sha256"]) for f in doc["files"])
    except (TypeError, ValueError, KeyError) as exc:
        raise ManifestError(f"the manifest has a malformed field: {exc}") from None
    if not all(isinstance(x, str) for x in (*languages, *(x for p in pairs for x in p))):
        raise ManifestError("manifest languages and pairs must be strings")
    for f in files:
        if (not isinstance(f.path, str) or not isinstance(f.size, int) or isinstance(f.size, bool) or f.size < 0
                or not isinstance(f.sha256, str) or not _SHA256.match(f.sha256)):
            raise ManifestError(f"manifest file entry {f!r} is malformed")
    manifest = Manifest(_str(doc, "model_id"), _str(doc, "version"), kind, _str(doc, "engine"),
                        _str(doc, "dialect"), languages, pairs, files)
    if manifest.canonical() != data:
        raise ManifestError("the manifest is not in canonical form")
    return manifest


# ---- keys ---------------------------------------------------------------------------------------------------


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as nodes are configured with it: base64 of the raw 32 bytes."""
    return base64.b64encode(public_key_bytes(key)).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key_bytes(key)).hexdigest()[:16]


class Signer:
    """The hub's signing key. It has no repr of its key and never writes it anywhere."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"

    def sign(self, manifest: bytes) -> bytes:
        return self._key.sign(manifest)


def generate_key_pair(out_dir: Path) -> tuple[Path, Path]:
    """Write a new key pair into `out_dir` (created 0700): the private key 0600, the public key (base64) 0644.
    An existing key file is never overwritten (FileExistsError)."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path, public_path = out_dir / PRIVATE_KEY_NAME, out_dir / PUBLIC_KEY_NAME
    for path in (private_path, public_path):
        if path.exists():
            raise FileExistsError(f"{path} already exists; move it away (or use --out) to make a new key pair")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    public_path.write_text(public_key_text(key.public_key()) + "\n", encoding="ascii")
    public_path.chmod(0o644)
    return private_path, public_path


def ensure_key_pair(out_dir: Path) -> tuple[Path, Path]:
    """The key pair in `out_dir`, made on first use."""
    private_path, public_path = out_dir / PRIVATE_KEY_NAME, out_dir / PUBLIC_KEY_NAME
    if private_path.exists():
        if not public_path.exists():
            public_path.write_text(public_key_text(load_signer(private_path).public_key) + "\n", encoding="ascii")
        return private_path, public_path
    return generate_key_pair(out_dir)


def load_signer(path: str | Path) -> Signer:
    """The private key in `path` (PKCS#8 PEM). Refused when group or others may read it."""
    path = Path(path).expanduser()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ManifestError(f"the signing key {path} may be read by others (mode {mode:04o}): chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        raise ManifestError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ManifestError(f"{path} is not an Ed25519 private key")
    return Signer(key)


def _public_from_text(text: str) -> Ed25519PublicKey | None:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError:
            return None
        return key if isinstance(key, Ed25519PublicKey) else None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return Ed25519PublicKey.from_public_bytes(raw) if len(raw) == 32 else None


def parse_public_keys(setting: str) -> dict[str, Ed25519PublicKey]:
    """{key id: key} from a comma-separated list of base64 public keys and/or files holding one (base64 or PEM).
    Raises ValueError for an item that is neither."""
    keys: dict[str, Ed25519PublicKey] = {}
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        key = _public_from_text(item)
        if key is None:
            path = Path(item).expanduser()
            try:
                key = _public_from_text(path.read_text(encoding="ascii"))
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"hub public key {item!r} is neither a base64 Ed25519 public key nor a "
                                 f"readable key file ({exc.__class__.__name__})") from None
            if key is None:
                raise ValueError(f"{path} holds no Ed25519 public key (base64 of 32 bytes, or PEM)")
        keys[key_id(key)] = key
    return keys


def verify(keys: Mapping[str, Ed25519PublicKey], manifest: bytes, signature: bytes, signing_key_id: str) -> Manifest:
    """The manifest, if `signature` is a valid signature of it by the trusted key `signing_key_id`; raises
    ManifestError otherwise (unsigned, unknown key, bad signature, not canonical)."""
    if not manifest or not signature:
        raise ManifestError("the version is not signed (no manifest signature)")
    key = keys.get(signing_key_id)
    if key is None:
        trusted = ", ".join(sorted(keys)) or "none"
        raise ManifestError(f"the version is signed by key {signing_key_id or '(none)'!r}, which this node does "
                            f"not trust (trusted: {trusted})")
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        raise ManifestError(f"the manifest signature does not verify with key {signing_key_id}") from None
    return parse_manifest(manifest)

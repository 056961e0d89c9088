"""Signed model manifests (lingua_common/signing.py): the canonical form, signatures, key files and key
settings, and the node's acceptance rule (node_svc/models/trust.py)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from lingua.v1 import common_pb2, hub_pb2, node_pb2
from lingua_common.errors import LinguaError
from lingua_common.signing import (
    FORMAT,
    Manifest,
    ManifestError,
    ManifestFile,
    ensure_key_pair,
    generate_key_pair,
    key_id,
    load_signer,
    parse_manifest,
    parse_public_keys,
    public_key_text,
    verify,
)
from node_svc.models.trust import ModelTrust

SHA_A, SHA_B = "a" * 64, "b" * 64
MANIFEST = Manifest("phrasebook-m2m100", "1.0.0", node_pb2.MODEL_KIND_MT, "ctranslate2-m2m100", "",
                    ("fr", "en"), (("fr", "en"), ("en", "fr")),
                    (ManifestFile("z.bin", 3, SHA_A), ManifestFile("a.json", 10, SHA_B)))


def test_canonical_form_is_sorted_compact_ascii_json() -> None:
    data = MANIFEST.canonical()
    assert data == (
        b'{"dialect":"","engine":"ctranslate2-m2m100","files":[{"path":"a.json","sha256":"' + SHA_B.encode()
        + b'","size":10},{"path":"z.bin","sha256":"' + SHA_A.encode() + b'","size":3}],"format":"'
        + FORMAT.encode() + b'","kind":2,"languages":["en","fr"],"model_id":"phrasebook-m2m100",'
        b'"pairs":[["en","fr"],["fr","en"]],"version":"1.0.0"}')
    # The order the catalog lists files, languages or pairs in does not change the bytes.
    shuffled = Manifest(MANIFEST.model_id, MANIFEST.version, MANIFEST.kind, MANIFEST.engine, MANIFEST.dialect,
                        tuple(reversed(MANIFEST.languages)), tuple(reversed(MANIFEST.pairs)),
                        tuple(reversed(MANIFEST.files)))
    assert shuffled.canonical() == data
    assert parse_manifest(data).canonical() == data


def test_non_canonical_or_malformed_manifests_are_refused() -> None:
    doc = json.loads(MANIFEST.canonical())
    spaced = json.dumps(doc, sort_keys=True).encode()  # same content, other bytes
    with pytest.raises(ManifestError, match="canonical"):
        parse_manifest(spaced)
    for key, value in (("format", "other/1"), ("kind", "2"), ("files", [{"path": "a", "size": -1, "sha256": SHA_A}]),
                       ("files", [{"path": "a", "size": 1, "sha256": "xyz"}]), ("extra", 1)):
        bad = dict(doc, **{key: value})
        with pytest.raises(ManifestError):
            parse_manifest(json.dumps(bad, sort_keys=True, separators=(",", ":")).encode())


def test_signature_verifies_only_for_the_same_bytes_and_a_trusted_key(tmp_path: Path) -> None:
    signer = load_signer(generate_key_pair(tmp_path / "a")[0])
    other = load_signer(generate_key_pair(tmp_path / "b")[0])
    keys = {signer.key_id: signer.public_key}
    data = MANIFEST.canonical()
    signature = signer.sign(data)
    verified = verify(keys, data, signature, signer.key_id)
    assert verified.canonical() == data and set(verified.files) == set(MANIFEST.files)
    tampered = data.replace(SHA_A.encode(), ("c" * 64).encode())
    with pytest.raises(ManifestError, match="does not verify"):
        verify(keys, tampered, signature, signer.key_id)
    with pytest.raises(ManifestError, match="not trust"):
        verify(keys, data, other.sign(data), other.key_id)
    with pytest.raises(ManifestError, match="does not verify"):  # another key's signature under our key's id
        verify(keys, data, other.sign(data), signer.key_id)
    with pytest.raises(ManifestError, match="not signed"):
        verify(keys, data, b"", "")


def test_key_files_private_0600_public_base64_and_no_overwrite(tmp_path: Path) -> None:
    private_path, public_path = generate_key_pair(tmp_path / "keys")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    signer = load_signer(private_path)
    assert public_path.read_text().strip() == public_key_text(signer.public_key)
    assert signer.key_id == key_id(signer.public_key) and len(signer.key_id) == 16
    assert "PRIVATE" not in repr(signer) and signer.key_id in repr(signer)
    with pytest.raises(FileExistsError):
        generate_key_pair(tmp_path / "keys")
    assert ensure_key_pair(tmp_path / "keys") == (private_path, public_path)  # reused, not replaced
    assert load_signer(private_path).key_id == signer.key_id


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    private_path, _ = generate_key_pair(tmp_path)
    os.chmod(private_path, 0o644)
    with pytest.raises(ManifestError, match="chmod 600"):
        load_signer(private_path)


def test_public_key_setting_base64_files_pem_and_several(tmp_path: Path) -> None:
    a = load_signer(generate_key_pair(tmp_path / "a")[0])
    b_private, b_public = generate_key_pair(tmp_path / "b")
    b = load_signer(b_private)
    pem = tmp_path / "b.pem"
    pem.write_bytes(b.public_key.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    for setting in (f"{public_key_text(a.public_key)}, {b_public}", f"{public_key_text(a.public_key)},{pem}"):
        assert set(parse_public_keys(setting)) == {a.key_id, b.key_id}
    assert parse_public_keys("") == {}
    with pytest.raises(ValueError, match="neither"):
        parse_public_keys(str(tmp_path / "missing.pub"))
    with pytest.raises(ValueError, match="no Ed25519 public key"):
        parse_public_keys(str(b_private))  # a private key is not a public key
    short = base64.b64encode(b"x" * 31).decode()
    with pytest.raises(ValueError):
        parse_public_keys(short)


def _version(manifest: bytes, signature: bytes, kid: str, files: list[tuple[str, int, str]]) -> hub_pb2.ModelVersion:
    return hub_pb2.ModelVersion(version="1.0.0", manifest=manifest, manifest_signature=signature, signing_key_id=kid,
                                files=[hub_pb2.ModelFile(path=p, size=n, sha256=h) for p, n, h in files])


def test_node_trust_rule(tmp_path: Path) -> None:
    signer = load_signer(generate_key_pair(tmp_path)[0])
    model = hub_pb2.Model(model_id="phrasebook-m2m100", kind=node_pb2.MODEL_KIND_MT, engine="other-engine")
    data = MANIFEST.canonical()
    files = [(f.path, f.size, f.sha256) for f in MANIFEST.files]
    trust = ModelTrust.from_settings(public_key_text(signer.public_key))
    trusted = trust.check(model, _version(data, signer.sign(data), signer.key_id, files))
    # What is installed comes from the signed manifest, not from the catalog's unsigned fields.
    assert trusted.engine == "ctranslate2-m2m100" and trusted.pairs == (("en", "fr"), ("fr", "en"))
    assert sorted((f.path, f.sha256) for f in trusted.files) == [("a.json", SHA_B), ("z.bin", SHA_A)]
    refusals = [
        (trust, _version(b"", b"", "", files)),  # unsigned
        (trust, _version(data, signer.sign(data), signer.key_id, [*files[:1], ("z.bin", 3, "c" * 64)])),
        (trust, _version(data, signer.sign(data), signer.key_id, files[:1])),  # a file left out
        (ModelTrust(), _version(data, signer.sign(data), signer.key_id, files)),  # no key configured
    ]
    for node_trust, version in refusals:
        with pytest.raises(LinguaError) as refused:
            node_trust.check(model, version)
        assert refused.value.code == common_pb2.MODEL_VERIFY_FAILED
    other_model = hub_pb2.Model(model_id="another-model", kind=node_pb2.MODEL_KIND_MT)
    with pytest.raises(LinguaError, match="signed manifest is for phrasebook-m2m100"):
        trust.check(other_model, _version(data, signer.sign(data), signer.key_id, files))
    # Explicitly allowed, with no key: unverified, from the catalog (the installer logs a loud warning).
    loose = ModelTrust.from_settings("", allow_unsigned=True)
    assert loose.check(model, _version(b"", b"", "", files)).key_id == ""
    # A configured key always wins over allow_unsigned.
    assert not ModelTrust.from_settings(public_key_text(signer.public_key), allow_unsigned=True).allow_unsigned

"""Which hub versions a node accepts: those whose manifest is signed by a key it trusts (the hub's public key(s),
setting `hub_public_key`). With no key configured, nothing is installed unless `allow_unsigned_models` is set,
and then every install logs a loud warning. The node installs the files and metadata of the signed manifest,
never the catalog's unsigned fields, so a catalog or channel that lies is refused."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lingua.v1 import common_pb2, hub_pb2
from lingua_common.errors import LinguaError
from lingua_common.signing import ManifestError, parse_public_keys, verify
from node_svc.models.local import FileEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrustedVersion:
    """What to install: the signed manifest's metadata and files (`key_id` empty when accepted unverified)."""

    kind: int
    engine: str
    dialect: str
    languages: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    files: list[FileEntry]
    key_id: str


@dataclass(frozen=True)
class ModelTrust:
    keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    allow_unsigned: bool = False

    @classmethod
    def from_settings(cls, hub_public_key: str, allow_unsigned: bool = False) -> ModelTrust:
        """From the node settings; raises ValueError for a key that cannot be read."""
        keys = parse_public_keys(hub_public_key)
        if keys and allow_unsigned:
            log.warning("allow_unsigned_models is ignored: hub public key(s) are configured, so every version "
                        "must be signed by one of them")
        return cls(keys, allow_unsigned and not keys)

    def check(self, model: hub_pb2.Model, version: hub_pb2.ModelVersion) -> TrustedVersion:
        """The version to install, or MODEL_VERIFY_FAILED."""
        name = f"{model.model_id} {version.version}"
        if not self.keys:
            if not self.allow_unsigned:
                raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                                  f"refusing {name}: this node has no hub public key to verify it with "
                                  "(set LINGUA_NODE_HUB_PUBLIC_KEY, or LINGUA_NODE_ALLOW_UNSIGNED_MODELS=true to "
                                  "install unverified models)")
            log.warning("INSTALLING %s WITHOUT VERIFYING ITS SIGNATURE: no hub public key is configured and "
                        "allow_unsigned_models is set; anyone between this node and the hub can swap the model",
                        name)
            return TrustedVersion(model.kind, model.engine, model.dialect, tuple(model.languages),
                                  tuple((p.src_lang, p.tgt_lang) for p in model.pairs),
                                  [FileEntry(f.path, f.size, f.sha256) for f in version.files], "")
        try:
            manifest = verify(self.keys, version.manifest, version.manifest_signature, version.signing_key_id)
        except ManifestError as exc:
            raise LinguaError(common_pb2.MODEL_VERIFY_FAILED, f"refusing {name}: {exc}") from None
        if (manifest.model_id, manifest.version) != (model.model_id, version.version):
            raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                              f"refusing {name}: its signed manifest is for {manifest.model_id} {manifest.version}")
        signed = {(f.path, f.size, f.sha256) for f in manifest.files}
        listed = {(f.path, f.size, f.sha256) for f in version.files}
        if signed != listed or len(listed) != len(version.files):
            changed = sorted({p for p, _, _ in signed ^ listed})
            raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                              f"refusing {name}: the hub lists files that differ from its signed manifest "
                              f"({', '.join(changed) or 'duplicates'})")
        return TrustedVersion(manifest.kind, manifest.engine, manifest.dialect, manifest.languages, manifest.pairs,
                              [FileEntry(f.path, f.size, f.sha256) for f in manifest.files],
                              version.signing_key_id)

"""The model catalog: models → versions → files (size, sha256), in SQLite or PostgreSQL."""

from __future__ import annotations

import re
import time
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from hub_svc.blobs import BlobStore
from hub_svc.db import FileRow, ModelRow, VersionRow
from lingua.v1 import common_pb2, hub_pb2
from lingua_common import db
from lingua_common.errors import LinguaError
from lingua_common.signing import Manifest, ManifestFile, Signer, parse_manifest

MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")


def migrate(url: str) -> Engine:
    """An engine for `url` with the schema at the newest Alembic revision."""
    return db.migrate(url, Path(__file__).parent / "migrations")


def check_relative_path(path: str) -> str:
    """A file path inside a version: relative, no `..`, no backslashes. Raises INVALID_MESSAGE."""
    p = PurePosixPath(path)
    if (not path or "\\" in path or "\x00" in path or p.is_absolute() or ".." in p.parts
            or str(p) != path or path.startswith("./")):
        raise LinguaError(common_pb2.INVALID_MESSAGE, f"file path {path!r} must be relative, without '..'")
    return path


def _model_proto(row: ModelRow, include_deprecated: bool = True) -> hub_pb2.Model:
    model = hub_pb2.Model(model_id=row.model_id, kind=row.kind, languages=row.languages,  # type: ignore[arg-type]
                          pairs=[common_pb2.LanguagePair(src_lang=a, tgt_lang=b) for a, b in row.pairs],
                          dialect=row.dialect, license=row.license, description=row.description, engine=row.engine)
    for v in row.versions:
        if not include_deprecated and v.status == hub_pb2.VERSION_STATUS_DEPRECATED:
            continue
        model.versions.add(version=v.version, status=v.status, created_unix_ms=v.created_ms,  # type: ignore[arg-type]
                           total_size=v.total_size,
                           files=[hub_pb2.ModelFile(path=f.path, size=f.size, sha256=f.sha256) for f in v.files],
                           manifest=v.manifest or b"", manifest_signature=v.manifest_signature or b"",
                           signing_key_id=v.signing_key_id or "")
    return model


def _manifest(model_id: str, version: str, kind: int, engine: str, dialect: str, languages: list[str],
              pairs: list[tuple[str, str]], files: list[tuple[str, int, str]]) -> bytes:
    return Manifest(model_id, version, int(kind), engine, dialect, tuple(languages), tuple(pairs),
                    tuple(ManifestFile(p, n, h) for p, n, h in files)).canonical()


def _row_manifest(row: VersionRow) -> bytes:
    """The version's stored manifest, or (published before signing existed) one built from the catalog now."""
    if row.manifest:
        return row.manifest
    m = row.model
    return _manifest(m.model_id, row.version, m.kind, m.engine, m.dialect, list(m.languages),
                     [(a, b) for a, b in m.pairs], [(f.path, f.size, f.sha256) for f in row.files])


class Catalog:
    """With a `signer`, every version published is signed (its manifest and signature stored with it)."""

    def __init__(self, url: str, signer: Signer | None = None) -> None:
        self.engine = migrate(url)
        self.signer = signer
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def _rows(self, session: Session) -> list[ModelRow]:
        query = select(ModelRow).options(selectinload(ModelRow.versions).selectinload(VersionRow.files))
        return list(session.scalars(query.order_by(ModelRow.model_id)))

    def list_models(self, request: hub_pb2.ListModelsRequest) -> list[hub_pb2.Model]:
        with self._session() as session:
            out = []
            for row in self._rows(session):
                if request.kind and row.kind != request.kind:
                    continue
                if request.language and request.language not in row.languages and not any(
                        request.language in pair for pair in row.pairs):
                    continue
                if request.src_lang and not any(p[0] == request.src_lang for p in row.pairs):
                    continue
                if request.tgt_lang and not any(p[1] == request.tgt_lang for p in row.pairs):
                    continue
                model = _model_proto(row, request.include_deprecated)
                if model.versions:
                    out.append(model)
            return out

    def get(self, model_id: str) -> hub_pb2.Model:
        with self._session() as session:
            row = next((r for r in self._rows(session) if r.model_id == model_id), None)
            if row is None:
                raise LinguaError(common_pb2.NOT_FOUND, f"no model {model_id!r}")
            return _model_proto(row)

    def file(self, model_id: str, version: str, path: str) -> hub_pb2.ModelFile:
        with self._session() as session:
            row = session.scalar(select(FileRow).join(VersionRow).where(
                VersionRow.model_id == model_id, VersionRow.version == version, FileRow.path == path))
            if row is None:
                raise LinguaError(common_pb2.NOT_FOUND, f"no file {path!r} in {model_id} {version}")
            return hub_pb2.ModelFile(path=row.path, size=row.size, sha256=row.sha256)

    def has_version(self, model_id: str, version: str) -> bool:
        with self._session() as session:
            return session.scalar(select(VersionRow.id).where(
                VersionRow.model_id == model_id, VersionRow.version == version)) is not None

    def add_version(self, meta: hub_pb2.PublishMetadata) -> None:
        """Record a published version (its blobs are already stored); one transaction, so it is all or nothing."""
        m = meta.model
        with self._session.begin() as session:
            if session.scalar(select(VersionRow.id).where(
                    VersionRow.model_id == m.model_id, VersionRow.version == meta.version)) is not None:
                raise LinguaError(common_pb2.ALREADY_EXISTS, f"{m.model_id} {meta.version} is already published")
            row = session.get(ModelRow, m.model_id)
            if row is None:
                row = ModelRow(model_id=m.model_id)
                session.add(row)
            row.kind, row.languages = m.kind, list(m.languages)
            row.pairs = [[p.src_lang, p.tgt_lang] for p in m.pairs]
            row.dialect, row.license, row.description, row.engine = m.dialect, m.license, m.description, m.engine
            status = meta.status or hub_pb2.VERSION_STATUS_STABLE
            manifest = _manifest(m.model_id, meta.version, m.kind, m.engine, m.dialect, list(m.languages),
                                 [(p.src_lang, p.tgt_lang) for p in m.pairs],
                                 [(f.path, f.size, f.sha256) for f in meta.files])
            signer = self.signer
            row.versions.append(VersionRow(
                version=meta.version, status=status, created_ms=int(time.time() * 1000),
                total_size=sum(f.size for f in meta.files),
                files=[FileRow(path=f.path, size=f.size, sha256=f.sha256) for f in meta.files],
                manifest=manifest, manifest_signature=signer.sign(manifest) if signer else None,
                signing_key_id=signer.key_id if signer else ""))

    def deprecate(self, model_id: str, version: str) -> hub_pb2.Model:
        with self._session.begin() as session:
            row = session.scalar(select(VersionRow).where(VersionRow.model_id == model_id,
                                                          VersionRow.version == version))
            if row is None:
                raise LinguaError(common_pb2.NOT_FOUND, f"no version {version!r} of {model_id!r}")
            row.status = hub_pb2.VERSION_STATUS_DEPRECATED
        return self.get(model_id)

    def unsigned(self, key_id: str) -> tuple[list[str], list[str]]:
        """("model version" not signed, signed by a key other than `key_id`)."""
        with self._session() as session:
            rows = session.execute(select(VersionRow.model_id, VersionRow.version, VersionRow.manifest_signature,
                                          VersionRow.signing_key_id).order_by(VersionRow.model_id)).all()
        return ([f"{m} {v}" for m, v, sig, _ in rows if not sig],
                [f"{m} {v}" for m, v, sig, kid in rows if sig and kid != key_id])

    def sign_versions(self, signer: Signer, blobs: BlobStore, resign: bool = False) -> tuple[list[str], list[str]]:
        """Sign every unsigned version (with `resign`, also those signed by another key) whose blobs still hash
        to what its manifest says. Returns ("model version" signed, "model version: why" refused)."""
        signed, refused = [], []
        with self._session.begin() as session:
            query = select(VersionRow).options(selectinload(VersionRow.files), selectinload(VersionRow.model))
            for row in session.scalars(query.order_by(VersionRow.model_id, VersionRow.id)):
                if row.manifest_signature and (row.signing_key_id == signer.key_id or not resign):
                    continue
                name = f"{row.model_id} {row.version}"
                manifest = _row_manifest(row)
                files = parse_manifest(manifest).files
                if {(f.path, f.size, f.sha256) for f in files} != {(f.path, f.size, f.sha256) for f in row.files}:
                    refused.append(f"{name}: its catalog files differ from the manifest recorded when it was "
                                   "published")
                    continue
                bad = [f.path for f in files if not blobs.matches(f.sha256, f.size)]
                if bad:
                    refused.append(f"{name}: stored file(s) {', '.join(bad)} do not match the manifest")
                    continue
                row.manifest, row.manifest_signature = manifest, signer.sign(manifest)
                row.signing_key_id = signer.key_id
                signed.append(name)
        return signed, refused

    def close(self) -> None:
        self.engine.dispose()

"""ModelHub over gRPC: catalog reads, resumable downloads, verified uploads, deprecation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import grpc

from hub_svc.auth import may_read, require
from hub_svc.blobs import BlobStore, Upload
from hub_svc.catalog import MODEL_ID, VERSION, Catalog, check_relative_path
from hub_svc.config import HubSettings
from lingua.v1 import common_pb2, hub_pb2, hub_pb2_grpc
from lingua_common.auth import metadata_bearer
from lingua_common.errors import LinguaError, abort

Context: TypeAlias = Any  # grpc ships no type information


def _token(context: Context) -> str:
    return metadata_bearer(context)


class HubServicer(hub_pb2_grpc.ModelHubServicer):
    def __init__(self, settings: HubSettings, catalog: Catalog, blobs: BlobStore) -> None:
        self.settings, self.catalog, self.blobs = settings, catalog, blobs

    async def ListModels(self, request: hub_pb2.ListModelsRequest, context: Context) -> hub_pb2.ListModelsResponse:
        try:
            may_read(self.settings.read_token, _token(context))
            return hub_pb2.ListModelsResponse(models=self.catalog.list_models(request))
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None

    async def GetModel(self, request: hub_pb2.GetModelRequest, context: Context) -> hub_pb2.GetModelResponse:
        try:
            may_read(self.settings.read_token, _token(context))
            return hub_pb2.GetModelResponse(model=self.catalog.get(request.model_id))
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None

    async def DownloadFile(self, request: hub_pb2.DownloadFileRequest,
                           context: Context) -> AsyncIterator[hub_pb2.DownloadFileResponse]:
        try:
            may_read(self.settings.read_token, _token(context))
            check_relative_path(request.path)
            entry = self.catalog.file(request.model_id, request.version, request.path)
            if request.offset > entry.size:
                raise LinguaError(common_pb2.INVALID_MESSAGE,
                                  f"offset {request.offset} is past the end of {request.path} ({entry.size} bytes)")
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            return
        chunk = min(request.chunk_size or self.settings.chunk_size, 4 * 1024 * 1024)
        offset = request.offset
        for data in self.blobs.read(entry.sha256, offset, chunk=chunk):
            yield hub_pb2.DownloadFileResponse(data=data, offset=offset, total_size=entry.size, sha256=entry.sha256)
            offset += len(data)
        if offset == entry.size and request.offset == entry.size:  # nothing left: still say where the end is
            yield hub_pb2.DownloadFileResponse(offset=offset, total_size=entry.size, sha256=entry.sha256)

    async def PublishModel(self, request_iterator: Any, context: Context) -> hub_pb2.PublishModelResponse:
        uploads: dict[str, Upload] = {}
        try:
            require(self.settings.operator_token, _token(context), "publishing")
            first = await context.read()
            if first is None or first is grpc.aio.EOF or first.WhichOneof("kind") != "metadata":
                raise LinguaError(common_pb2.INVALID_MESSAGE, "send `metadata` first, then the files' chunks")
            meta = first.metadata
            self._check(meta)
            for f in meta.files:
                uploads[f.path] = Upload(self.blobs, f.sha256, f.size)
            while True:
                msg = await context.read()
                if msg is None or msg is grpc.aio.EOF:
                    break
                chunk = msg.chunk
                upload = uploads.get(chunk.path)
                if upload is None:
                    raise LinguaError(common_pb2.INVALID_MESSAGE, f"chunk for undeclared file {chunk.path!r}")
                if chunk.offset != upload.size:
                    raise LinguaError(common_pb2.INVALID_MESSAGE,
                                      f"chunk of {chunk.path} at offset {chunk.offset}, expected {upload.size}")
                upload.write(chunk.data)
            for path, upload in uploads.items():
                try:
                    upload.commit()
                except ValueError as exc:
                    raise LinguaError(common_pb2.MODEL_VERIFY_FAILED, f"{path}: {exc}") from None
            uploads.clear()
            self.catalog.add_version(meta)  # the version becomes visible only now, all at once
            return hub_pb2.PublishModelResponse(model_id=meta.model.model_id, version=meta.version,
                                                total_size=sum(f.size for f in meta.files))
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None
        finally:
            for upload in uploads.values():
                upload.abort()

    def _check(self, meta: hub_pb2.PublishMetadata) -> None:
        if not MODEL_ID.match(meta.model.model_id):
            raise LinguaError(common_pb2.INVALID_MESSAGE, f"model_id {meta.model.model_id!r}: use [a-z0-9._-]")
        if not VERSION.match(meta.version):
            raise LinguaError(common_pb2.INVALID_MESSAGE, f"version {meta.version!r} is not a version")
        if not meta.files:
            raise LinguaError(common_pb2.INVALID_MESSAGE, "a version needs at least one file")
        paths = [check_relative_path(f.path) for f in meta.files]
        if len(set(paths)) != len(paths):
            raise LinguaError(common_pb2.INVALID_MESSAGE, "the same file path is declared twice")
        for f in meta.files:
            if len(f.sha256) != 64:
                raise LinguaError(common_pb2.INVALID_MESSAGE, f"{f.path}: sha256 must be 64 hex characters")
        if self.catalog.has_version(meta.model.model_id, meta.version):
            raise LinguaError(common_pb2.ALREADY_EXISTS,
                              f"{meta.model.model_id} {meta.version} is already published; publish a new version")

    async def DeprecateVersion(self, request: hub_pb2.DeprecateVersionRequest,
                               context: Context) -> hub_pb2.DeprecateVersionResponse:
        try:
            require(self.settings.operator_token, _token(context), "deprecating")
            return hub_pb2.DeprecateVersionResponse(model=self.catalog.deprecate(request.model_id, request.version))
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None

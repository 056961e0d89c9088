"""A client of the hub: publish a directory as a model version, list, download with resume."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import grpc

from lingua.v1 import hub_pb2, hub_pb2_grpc
from lingua_common.grpc_server import channel_options

CHUNK = 1024 * 1024

# What one file of a version is published from: a local file, its content in memory (a small generated
# manifest), or local files whose concatenation is the file (a model split across wheels), joined while
# hashing and streaming, never on disk.
FileSource = Path | bytes | Sequence[Path]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def blocks_of(source: FileSource) -> Iterator[bytes]:
    """The file's content in blocks of at most CHUNK bytes."""
    if isinstance(source, bytes):
        for start in range(0, len(source), CHUNK):
            yield source[start:start + CHUNK]
        return
    for part in ((source,) if isinstance(source, Path) else source):
        with part.open("rb") as fh:
            while block := fh.read(CHUNK):
                yield block


def size_of(source: FileSource) -> int:
    if isinstance(source, bytes):
        return len(source)
    return sum(p.stat().st_size for p in ((source,) if isinstance(source, Path) else source))


def sha256_of_source(source: FileSource) -> str:
    digest = hashlib.sha256()
    for block in blocks_of(source):
        digest.update(block)
    return digest.hexdigest()


def describe(files: Mapping[str, FileSource]) -> list[hub_pb2.ModelFile]:
    """Catalog entries for {relative path in the version: local file, content, or parts to concatenate}."""
    return [hub_pb2.ModelFile(path=rel, size=size_of(source), sha256=sha256_of_source(source))
            for rel, source in sorted(files.items())]


def files_in(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def describe_dir(root: Path) -> list[hub_pb2.ModelFile]:
    """Every file under `root` (relative POSIX paths), with size and sha256."""
    return describe(files_in(root))


class HubClient:
    def __init__(self, address: str, token: str = "", timeout_s: float = 600.0) -> None:
        self._channel = grpc.insecure_channel(address, options=channel_options())
        self.stub = hub_pb2_grpc.ModelHubStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.timeout_s = timeout_s

    def publish_dir(self, root: Path, model: hub_pb2.Model, version: str,
                    status: int = hub_pb2.VERSION_STATUS_STABLE) -> hub_pb2.PublishModelResponse:
        return self.publish_files(files_in(root), model, version, status)

    def publish_files(self, files: Mapping[str, FileSource], model: hub_pb2.Model, version: str,
                      status: int = hub_pb2.VERSION_STATUS_STABLE) -> hub_pb2.PublishModelResponse:
        """Upload {path in the version: FileSource} as `model` `version` (metadata first, then chunks)."""
        declared = describe(files)

        def messages() -> Iterator[hub_pb2.PublishModelRequest]:
            yield hub_pb2.PublishModelRequest(metadata=hub_pb2.PublishMetadata(
                model=model, version=version, status=status, files=declared))  # type: ignore[arg-type]
            for f in declared:
                offset = 0
                for block in blocks_of(files[f.path]):
                    yield hub_pb2.PublishModelRequest(chunk=hub_pb2.FileChunk(path=f.path, offset=offset, data=block))
                    offset += len(block)

        response: hub_pb2.PublishModelResponse = self.stub.PublishModel(
            messages(), metadata=self._metadata, timeout=self.timeout_s)
        return response

    def list_models(self, **filters: object) -> list[hub_pb2.Model]:
        request = hub_pb2.ListModelsRequest(**filters)  # type: ignore[arg-type]
        return list(self.stub.ListModels(request, metadata=self._metadata, timeout=self.timeout_s).models)

    def download(self, model_id: str, version: str, path: str,
                 offset: int = 0) -> Iterator[hub_pb2.DownloadFileResponse]:
        request = hub_pb2.DownloadFileRequest(model_id=model_id, version=version, path=path, offset=offset)
        yield from self.stub.DownloadFile(request, metadata=self._metadata, timeout=self.timeout_s)

    def close(self) -> None:
        self._channel.close()

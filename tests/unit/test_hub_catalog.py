"""The hub catalog on SQLite and on the real PostgreSQL (Alembic migrations, same behaviour)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub_svc.catalog import Catalog, check_relative_path
from lingua.v1 import common_pb2, hub_pb2, node_pb2
from lingua_common.errors import LinguaError
from tests.helpers.databases import database

SHA = "a" * 64


def meta(model_id: str, version: str, kind: int = node_pb2.MODEL_KIND_MT) -> hub_pb2.PublishMetadata:
    return hub_pb2.PublishMetadata(
        model=hub_pb2.Model(model_id=model_id, kind=kind, license="MIT",  # type: ignore[arg-type]
                            pairs=[common_pb2.LanguagePair(src_lang="en", tgt_lang="fr")]
                            if kind == node_pb2.MODEL_KIND_MT else [], languages=["en"]),
        version=version, files=[hub_pb2.ModelFile(path="model.bin", size=10, sha256=SHA),
                                hub_pb2.ModelFile(path="sub/vocab.json", size=5, sha256=SHA)])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_catalog_versions_filters_and_deprecation(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        catalog = Catalog(url)
        try:
            catalog.add_version(meta("m2m", "1.0.0"))
            catalog.add_version(meta("m2m", "1.1.0"))
            catalog.add_version(meta("whisper", "1", kind=node_pb2.MODEL_KIND_ASR))
            with pytest.raises(LinguaError) as dup:
                catalog.add_version(meta("m2m", "1.0.0"))
            assert dup.value.code == common_pb2.ALREADY_EXISTS
            model = catalog.get("m2m")
            assert [v.version for v in model.versions] == ["1.0.0", "1.1.0"]
            assert model.versions[0].total_size == 15 and [f.path for f in model.versions[0].files] == [
                "model.bin", "sub/vocab.json"]
            assert [m.model_id for m in catalog.list_models(hub_pb2.ListModelsRequest(
                kind=node_pb2.MODEL_KIND_ASR))] == ["whisper"]
            assert [m.model_id for m in catalog.list_models(hub_pb2.ListModelsRequest(src_lang="en"))] == ["m2m"]
            catalog.deprecate("m2m", "1.0.0")
            listed = catalog.list_models(hub_pb2.ListModelsRequest(src_lang="en"))
            assert [v.version for v in listed[0].versions] == ["1.1.0"]
            everything = catalog.list_models(hub_pb2.ListModelsRequest(src_lang="en", include_deprecated=True))
            assert everything[0].versions[0].status == hub_pb2.VERSION_STATUS_DEPRECATED
            assert catalog.file("m2m", "1.1.0", "sub/vocab.json").sha256 == SHA
            with pytest.raises(LinguaError):
                catalog.file("m2m", "1.1.0", "nope")
            with pytest.raises(LinguaError):
                catalog.get("unknown")
        finally:
            catalog.close()


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "a\\b", "", "./a", "a//b"])
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(LinguaError):
        check_relative_path(path)


def test_safe_paths_pass() -> None:
    assert check_relative_path("model.bin") == "model.bin"
    assert check_relative_path("voices/en_US.onnx.json") == "voices/en_US.onnx.json"

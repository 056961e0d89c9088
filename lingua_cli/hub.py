"""`lingua hub list | import-bundled | import | import-hf`: thin commands over hub_svc.client and hub_svc.convert;
`lingua hub keygen | sign` live in lingua_cli/hub_keys.py."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import grpc

from hub_svc.client import HubClient, size_of
from hub_svc.convert import (
    ImportProblem,
    ModelDir,
    convert_hf,
    detect,
    fetch_hf,
    generic,
    hf_model_type,
    langs_text,
    model_id_from,
    mt_manifest,
    override,
    parse_languages,
    parse_pairs,
    summary,
    to_bundle,
    write_mt_manifest,
)
from hub_svc.importer import bundled, publish_all
from lingua.v1 import common_pb2, node_pb2
from lingua_common.errors import code_name, error_from_rpc


def run_hub_command(args: argparse.Namespace) -> int:
    if args.action in ("keygen", "sign"):
        from lingua_cli.hub_keys import run_key_command

        return run_key_command(args)
    token = args.token if args.token is not None else os.environ.get("LINGUA_HUB_OPERATOR_TOKEN", "")
    client = HubClient(args.hub, token)
    try:
        if args.action == "list":
            for model in client.list_models():
                versions = ", ".join(f"{v.version} ({v.total_size / 1e6:.1f} MB)" for v in model.versions)
                kind_name = node_pb2.ModelKind.Name(model.kind).removeprefix("MODEL_KIND_").lower()
                langs = langs_text(list(model.languages), [(p.src_lang, p.tgt_lang) for p in model.pairs])
                print(f"{model.model_id:<28} {kind_name:<8} {versions}  {langs}".rstrip())
        elif args.action == "import-bundled":
            done = publish_all(client, bundled())
            print("\n".join(f"published {d}" for d in done) or "nothing new: every bundled model is on the hub")
        elif args.action == "import":
            return _import_dir(client, args)
        else:
            return _import_hf(client, args)
    except ImportProblem as exc:
        print(f"lingua hub {args.action}: {exc}", file=sys.stderr)
        return 1
    except grpc.RpcError as exc:
        err = error_from_rpc(exc)
        print(f"lingua hub {args.action}: {code_name(err.code)}: {err.message}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


def _with_flags(found: ModelDir, args: argparse.Namespace, kind: str | None = None,
                engine: str | None = None) -> ModelDir:
    return override(found, model_id=args.model_id, version=args.version, kind=kind, engine=engine,
                    license=args.license or None, languages=parse_languages(args.languages) or None,
                    pairs=parse_pairs(args.pairs) or None)


def _publish(client: HubClient, found: ModelDir) -> None:
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="lingua-import-") as work:
        bundle = to_bundle(found, Path(work))
        size = sum(size_of(p) for p in bundle.files.values())
        client.publish_files(bundle.files, bundle.model, bundle.version)  # an existing version is an error
    print(f"published {summary(found)} ({len(bundle.files)} files, {size / 1e6:.1f} MB)")


def _import_dir(client: HubClient, args: argparse.Namespace) -> int:
    root: Path = args.ct2
    found = detect(root)
    if found is None:
        if not args.kind:
            raise ImportProblem(
                f"{root} is not a model directory Lingua recognises (a lingua_model.json MT model, a CTranslate2 "
                "Whisper or M2M100 model, a Piper *.onnx + *.onnx.json voice); pass --kind to publish it as it is")
        found = generic(root, args.kind)
    found = _with_flags(found, args, kind=args.kind, engine=args.engine or None)
    if args.dry_run:
        with tempfile.TemporaryDirectory(prefix="lingua-import-") as work:
            files = to_bundle(found, Path(work)).files
        for note in found.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"would publish {summary(found)}: {', '.join(sorted(files))}")
        return 0
    _publish(client, found)
    return 0


def _refuse_if_published(client: HubClient, model_id: str, version: str) -> None:
    """Converting a real checkpoint takes minutes: refuse an existing version before that, not after. The hub's
    refusal at publish time stays the authority (a concurrent publish, reads gated by another token)."""
    try:
        models = client.list_models(include_deprecated=True)
    except grpc.RpcError as exc:
        if error_from_rpc(exc).code == common_pb2.UNAUTHENTICATED:
            return
        raise
    if any(m.model_id == model_id and any(v.version == version for v in m.versions) for m in models):
        raise ImportProblem(f"ALREADY_EXISTS: {model_id} {version} is already published; publish a new version "
                            "(--version)")


def _import_hf(client: HubClient, args: argparse.Namespace) -> int:
    source = Path(args.source).expanduser()
    local = source if source.is_dir() else fetch_hf(args.source)
    model_type = hf_model_type(local)  # before any conversion work: a clear refusal for other models
    # "openai/whisper-tiny" -> whisper-tiny, "facebook/m2m100_418M" -> m2m100_418m, a directory -> its name.
    default_id = model_id_from((source.resolve() if source.is_dir() else Path(args.source)).name,
                               "whisper-" if model_type == "whisper" else "")
    _refuse_if_published(client, args.model_id or default_id, args.version or "1.0.0")
    with tempfile.TemporaryDirectory(prefix="lingua-import-hf-") as work:
        out = args.out if args.out is not None else Path(work) / "ct2"
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        convert_hf(local, out, args.quantization)
        found = detect(out)
        if found is None:
            raise ImportProblem(f"the converted {model_type} model in {out} was not recognised")
        found.model_id = default_id
        found = _with_flags(found, args)
        if found.manifest is not None:  # M2M100: the manifest the node's MT engine loads
            found.notes = []  # "no lingua_model.json" is the normal case here: import-hf always writes one
            extra: dict[str, object] = {}
            if args.normalization:
                extra["source_normalization"] = args.normalization
            if args.beam_size is not None:
                extra["beam_size"] = args.beam_size
            if found.license:
                extra["license"] = found.license
            found.description = f"M2M100 converted from {args.source} (CTranslate2 {args.quantization})"
            found.manifest = mt_manifest(found.model_id, found.version, found.pairs, quantization=args.quantization,
                                         **extra, description=found.description)
            # Next to the converted files, so that a directory kept with --out is complete: the node's MT
            # engine loads it as it is, and `lingua hub import --ct2` republishes it with the same manifest.
            write_mt_manifest(out, found.manifest)
        else:
            found.description = f"Whisper converted from {args.source} (CTranslate2 {args.quantization}), " + (
                "English only" if found.languages == ["en"] else f"{len(found.languages)} languages")
        _publish(client, found)
        if args.out is not None:
            print(f"converted model kept in {out}")
    return 0

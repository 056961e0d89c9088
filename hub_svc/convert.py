"""What a model directory holds (for `lingua hub import --ct2 DIR`) and Hugging Face conversion (`import-hf`).

Recognised directories (only small JSON/text files are read):

- a Lingua MT model: `lingua_model.json` (node_svc/engines/mt.py) next to the CTranslate2 files;
- a CTranslate2 M2M100 model without that manifest (`shared_vocabulary.*` with `__xx__` language tokens and
  `sentencepiece.bpe.model`): the manifest the node's MT engine needs is generated at publish time;
- a CTranslate2 Whisper model (`model.bin`, `config.json` with Whisper's token ids, `vocabulary.*`): English only
  when the vocabulary has no multilingual tokens (the `.en` models), otherwise the languages of `lang_ids`;
- a Piper voice (`*.onnx` + `*.onnx.json`): language from the json's `language.code`, its sample rate.

Conversion needs the build-time requirements (requirements-build.txt: transformers, on the pinned torch) and
imports them only when called; the hub and the node never do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from itertools import permutations
from pathlib import Path
from typing import Any

from hub_svc.client import files_in
from hub_svc.importer import Bundle
from lingua.v1 import common_pb2, hub_pb2
from node_svc.engines.mt import MANIFEST_NAME, SPM_NAME

KINDS = ("asr", "mt", "tts", "vad", "speaker", "emotion", "other")
HF_MODEL_TYPES = ("m2m_100", "whisper")
BUILD_HINT = "pip install -r requirements-build.txt"
# Whisper's English-only models have 51,864 tokens; the multilingual ones 51,865 (51,866 for large-v3).
_WHISPER_MULTILINGUAL_VOCAB = 51865
_M2M100_LANG_TOKEN = re.compile(r"^__([a-z]{2,3})__$")
_WHISPER_LANG_TOKEN = re.compile(r"^<\|([a-z]{2,3})\|>$")


class ImportProblem(Exception):
    """Why a directory or checkpoint cannot be imported; the CLI prints it as one line."""


@dataclass
class ModelDir:
    """A model directory and the catalog entry inferred for it (every field can be overridden)."""

    root: Path
    kind: str
    engine: str
    model_id: str
    version: str = "1.0.0"
    languages: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    license: str = ""
    description: str = ""
    # MT only: the Lingua manifest to publish (read from the directory or generated); model_id, version and
    # pairs are filled in from the fields above when the bundle is made.
    manifest: dict[str, Any] | None = None
    # Languages the model's vocabulary knows (M2M100 `__xx__`, Whisper `<|xx|>`), when it says.
    known_languages: list[str] | None = None
    notes: list[str] = field(default_factory=list)


def mt_manifest(model_id: str, version: str, pairs: list[tuple[str, str]], *, quantization: str | None = None,
                **extra: Any) -> dict[str, Any]:
    """The `lingua_model.json` of a CTranslate2 M2M100 model (keys in this order; `extra` goes last)."""
    manifest: dict[str, Any] = {"model_id": model_id, "version": version, "kind": "mt", "architecture": "m2m100",
                                "format": "ctranslate2"}
    if quantization is not None:
        manifest["quantization"] = quantization
    manifest["language_pairs"] = [[src, tgt] for src, tgt in pairs]
    manifest.update(extra)
    return manifest


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"


def write_mt_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    path = out_dir / MANIFEST_NAME
    path.write_text(manifest_text(manifest), encoding="utf-8")
    return path


def model_id_from(name: str, prefix: str = "") -> str:
    """A catalog id ([a-z0-9._-], starting alphanumeric) from a directory or file name."""
    base = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
    if prefix and not base.startswith(prefix.rstrip("-")):
        base = f"{prefix}{base}" if base else prefix.rstrip("-")
    return (base or "model")[:128]


def parse_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        src, sep, tgt = item.partition("-")
        if not sep or not src or not tgt:
            raise ImportProblem(f"--pairs: {item!r} is not src-tgt (e.g. en-fr)")
        pairs.append((src, tgt))
    return pairs


def parse_languages(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportProblem(f"{path}: {exc}") from exc


def _vocabulary(root: Path, stem: str) -> list[str] | None:
    """CTranslate2 writes its vocabulary as `<stem>.json` (a list) or, in older versions, `<stem>.txt`."""
    if (root / f"{stem}.json").is_file():
        tokens = _json(root / f"{stem}.json")
        return [str(t) for t in tokens] if isinstance(tokens, list) else None
    if (root / f"{stem}.txt").is_file():
        return (root / f"{stem}.txt").read_text(encoding="utf-8").split("\n")[:-1]
    return None


def _from_manifest(root: Path) -> ModelDir:
    manifest = _json(root / MANIFEST_NAME)
    if not isinstance(manifest, dict) or not all(k in manifest for k in ("model_id", "version", "language_pairs")):
        raise ImportProblem(f"{root / MANIFEST_NAME}: needs model_id, version and language_pairs")
    arch = str(manifest.get("architecture", "m2m100"))
    vocab = _vocabulary(root, "shared_vocabulary")
    return ModelDir(root, kind=str(manifest.get("kind", "mt")), engine=f"ctranslate2-{arch}",
                    model_id=str(manifest["model_id"]), version=str(manifest["version"]),
                    pairs=[(str(a), str(b)) for a, b in manifest["language_pairs"]],
                    license=str(manifest.get("license", "")), description=str(manifest.get("description", "")),
                    manifest=manifest, known_languages=_m2m100_languages(vocab) if vocab else None)


def _m2m100_languages(vocab: list[str]) -> list[str]:
    return [m.group(1) for t in vocab if (m := _M2M100_LANG_TOKEN.match(t))]


def _ct2_m2m100(root: Path) -> ModelDir | None:
    vocab = _vocabulary(root, "shared_vocabulary")
    if not (root / "model.bin").is_file() or vocab is None:
        return None
    languages = _m2m100_languages(vocab)
    if not languages:
        return None
    if not (root / SPM_NAME).is_file():
        raise ImportProblem(f"{root} looks like a CTranslate2 M2M100 model but has no {SPM_NAME}, which the "
                            "node's MT engine needs (convert with copy_files=[...] or use lingua hub import-hf)")
    model_id = model_id_from(root.name)
    pairs = list(permutations(languages, 2))
    return ModelDir(root, kind="mt", engine="ctranslate2-m2m100", model_id=model_id, pairs=pairs,
                    description=f"M2M100 (CTranslate2), {len(languages)} languages",
                    manifest=mt_manifest(model_id, "1.0.0", pairs), known_languages=languages,
                    notes=[f"no {MANIFEST_NAME}: one is generated ({len(pairs)} pairs unless --pairs narrows them)"])


def _ct2_whisper(root: Path) -> ModelDir | None:
    if not (root / "model.bin").is_file() or not (root / "config.json").is_file():
        return None
    config = _json(root / "config.json")
    vocab = _vocabulary(root, "vocabulary")
    if not isinstance(config, dict) or "suppress_ids_begin" not in config or vocab is None:
        return None
    notes = []
    if len(vocab) < _WHISPER_MULTILINGUAL_VOCAB:
        languages = ["en"]
        what = "English only"
    else:
        ids = [i for i in config.get("lang_ids") or [] if isinstance(i, int) and 0 <= i < len(vocab)]
        languages = [m.group(1) for i in ids if (m := _WHISPER_LANG_TOKEN.match(vocab[i]))]
        what = f"{len(languages)} languages"
        if not languages:
            notes.append("multilingual vocabulary but no lang_ids in config.json: pass --languages")
    if not (root / "tokenizer.json").is_file():
        notes.append("no tokenizer.json: faster-whisper would fetch one from the Hugging Face Hub when loading it")
    return ModelDir(root, kind="asr", engine="ctranslate2-whisper", model_id=model_id_from(root.name, "whisper-"),
                    languages=languages, description=f"Whisper (CTranslate2), {what}",
                    known_languages=languages or None, notes=notes)


def _piper(root: Path) -> ModelDir | None:
    voices = [p for p in sorted(root.glob("*.onnx")) if p.with_name(p.name + ".json").is_file()]
    if not voices:
        return None
    if len(voices) > 1:
        raise ImportProblem(f"{root} holds {len(voices)} Piper voices ({', '.join(v.name for v in voices)}): "
                            "import one directory per voice")
    voice = voices[0]
    config = _json(voice.with_name(voice.name + ".json"))
    if not isinstance(config, dict):
        raise ImportProblem(f"{voice}.json: expected a JSON object")
    language = config.get("language")
    if not isinstance(language, dict):
        language = {}
    code = (str(language.get("code") or "").split("_")[0] or str(language.get("family") or "")).lower()
    rate = (config.get("audio") or {}).get("sample_rate")
    notes = [] if code else ["the voice config names no language.code: pass --languages"]
    return ModelDir(root, kind="tts", engine="piper", model_id=model_id_from(voice.stem, "piper-"),
                    languages=[code] if code else [],
                    description=f"Piper voice {voice.stem}" + (f", {rate:,} Hz" if isinstance(rate, int) else ""),
                    notes=notes)


def detect(root: Path) -> ModelDir | None:
    """What `root` holds, or None when it is none of the recognised layouts."""
    if not root.is_dir():
        raise ImportProblem(f"{root} is not a directory")
    if (root / MANIFEST_NAME).is_file():
        return _from_manifest(root)
    return _piper(root) or _ct2_whisper(root) or _ct2_m2m100(root)


def generic(root: Path, kind: str) -> ModelDir:
    """An unrecognised directory published as-is because the operator named its --kind."""
    return ModelDir(root, kind=kind, engine="", model_id=model_id_from(root.name))


def override(found: ModelDir, *, model_id: str | None = None, version: str | None = None, kind: str | None = None,
             engine: str | None = None, license: str | None = None, description: str | None = None,
             languages: list[str] | None = None, pairs: list[tuple[str, str]] | None = None) -> ModelDir:
    """Explicit values win over inferred ones. Languages and pairs must be ones the vocabulary knows."""
    known = found.known_languages
    if known is not None:
        # Parenthesised: `-` binds tighter than `|`, and every pair language must be checked too.
        unknown = sorted(({x for p in pairs or [] for x in p} | set(languages or ())) - set(known))
        if unknown:
            raise ImportProblem(f"{found.root}: the model's vocabulary has no language {', '.join(unknown)}")
    changes: dict[str, Any] = {k: v for k, v in (
        ("model_id", model_id), ("version", version), ("kind", kind), ("engine", engine), ("license", license),
        ("description", description), ("languages", languages), ("pairs", pairs)) if v}
    return replace(found, **changes)


def to_bundle(found: ModelDir, workdir: Path) -> Bundle:
    """The files and catalog entry to publish. An MT manifest that differs from the directory's (generated, or
    with another id/version/pairs) is written to `workdir` and published in its place."""
    files = files_in(found.root)
    if found.manifest is not None:
        manifest = {**found.manifest, "model_id": found.model_id, "version": found.version,
                    "language_pairs": [[a, b] for a, b in found.pairs]}
        on_disk = found.root / MANIFEST_NAME
        if not on_disk.is_file() or json.loads(on_disk.read_text(encoding="utf-8")) != manifest:
            files[MANIFEST_NAME] = write_mt_manifest(workdir, manifest)
    model = hub_pb2.Model(
        model_id=found.model_id, kind=f"MODEL_KIND_{found.kind.upper()}",  # type: ignore[arg-type]
        engine=found.engine, license=found.license, description=found.description, languages=found.languages,
        pairs=[common_pb2.LanguagePair(src_lang=a, tgt_lang=b) for a, b in found.pairs])
    return Bundle(model, found.version, files)


def langs_text(languages: list[str], pairs: list[tuple[str, str]], limit: int = 6) -> str:
    """"en-fr, fr-en" or "en", at most `limit` items then "(+N more)"."""
    items = [f"{a}-{b}" for a, b in pairs] or list(languages)
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def summary(found: ModelDir) -> str:
    langs = langs_text(found.languages, found.pairs) or "no languages"
    return f"{found.model_id} {found.version}: {found.kind}, {found.engine or 'engine not set'}, {langs}"


# ---- Hugging Face checkpoints ------------------------------------------------------------------------------


def hf_model_type(src: Path) -> str:
    config = _json(src / "config.json") if (src / "config.json").is_file() else None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type in HF_MODEL_TYPES:
        return str(model_type)
    if model_type is None and (src / "model.bin").is_file():
        # An already converted model is a common mix-up; say which command takes it.
        raise ImportProblem(f"{src} holds a CTranslate2 model (model.bin), not a Hugging Face checkpoint: "
                            f"publish it with lingua hub import --ct2 {src}")
    what = f"config.json model_type {model_type!r}" if config is not None else "no config.json"
    raise ImportProblem(f"{src} is not a Hugging Face M2M100 or Whisper checkpoint "
                        f"({what}; import-hf converts {', '.join(HF_MODEL_TYPES)})")


def _hf_offline() -> bool:
    # huggingface_hub reads the same variable and accepts these spellings.
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def fetch_hf(name: str) -> Path:
    """Download a Hugging Face Hub checkpoint (config, tokenizer, weights) into the local HF cache.

    Needs a machine that reaches huggingface.co; this path is not exercised by the tests (no internet there)."""
    # Something path-like that is not a directory is a typo, not a Hub name: say so before any network use.
    if Path(name).expanduser().exists():
        raise ImportProblem(f"{name} is not a directory (pass the checkpoint's directory)")
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ImportProblem(f"{name}: no such directory")
    if _hf_offline():
        raise ImportProblem(f"{name!r} is not a local directory, and HF_HUB_OFFLINE forbids downloading it from "
                            "the Hugging Face Hub (download the checkpoint elsewhere and pass its directory)")
    try:
        from huggingface_hub import HfApi, snapshot_download

        names = HfApi().list_repo_files(name)
        weights = "*.safetensors" if any(n.endswith(".safetensors") for n in names) else "pytorch_model*.bin"
        return Path(snapshot_download(name, allow_patterns=["*.json", "*.model", "*.txt", weights]))
    except Exception as exc:  # network, auth, missing repo: all end the command the same way
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ImportProblem(f"cannot download {name!r} from the Hugging Face Hub: "
                            f"{type(exc).__name__}{': ' + first if first else ''}") from exc


def convert_hf(src: Path, out: Path, quantization: str = "int8") -> str:
    """Convert an M2M100 or Whisper checkpoint directory to CTranslate2 in `out`; returns its model_type.

    M2M100 keeps the SentencePiece model (the node's MT engine reads it); Whisper keeps tokenizer.json and
    preprocessor_config.json (faster-whisper reads them, and would otherwise go online for the tokenizer)."""
    model_type = hf_model_type(src)
    if out.exists():
        raise ImportProblem(f"{out} already exists")
    try:
        import transformers
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:
        raise ImportProblem(f"converting a Hugging Face checkpoint needs transformers (build-time only): "
                            f"{BUILD_HINT} ({exc})") from exc
    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    if model_type == "m2m_100":
        if not (src / SPM_NAME).is_file():
            raise ImportProblem(f"{src} has no {SPM_NAME} (the M2M100 SentencePiece model)")
        copy = [SPM_NAME]
    else:
        copy = [f for f in ("tokenizer.json", "preprocessor_config.json") if (src / f).is_file()]
    try:
        TransformersConverter(str(src), copy_files=copy).convert(str(out), quantization=quantization)
        if model_type == "whisper" and not (out / "tokenizer.json").is_file():
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(src))
            backend = getattr(tokenizer, "backend_tokenizer", None)
            if backend is not None:
                backend.save(str(out / "tokenizer.json"))
    except ImportProblem:
        raise
    except Exception as exc:
        shutil.rmtree(out, ignore_errors=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ImportProblem(f"converting {src} failed: {type(exc).__name__}: {first}") from exc
    return model_type

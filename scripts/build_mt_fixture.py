#!/usr/bin/env python3
"""Build the tiny bundled "phrasebook" M2M100 MT model (en<->fr) used by tests and demos.

No real M2M100 weights can be downloaded in this project, so we train a ~0.9 M parameter M2M100
from scratch on scripts/mt_fixture/phrasebook_en_fr.tsv until it reproduces every pair, convert
it to CTranslate2 (int8) and write it to node_svc/bundled/phrasebook_m2m100/.
It translates its training sentences and nothing else.

Run with `make mt-fixture` (= .venv/bin/python scripts/build_mt_fixture.py). Needs the build-only
requirements (requirements-build.txt: transformers); the node itself never imports them.
The build is deterministic (fixed seeds, one thread): two runs give bit-identical files.

`--hf-out DIR --hf-only --steps 150` writes only a barely trained Hugging Face checkpoint (~10 s): the
`lingua hub import-hf` tests (tests/service/test_hub_import.py) convert it.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import ctranslate2  # noqa: E402
import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    M2M100Config,
    M2M100ForConditionalGeneration,
    M2M100Tokenizer,
)
from transformers.models.m2m_100.tokenization_m2m_100 import (  # noqa: E402
    FAIRSEQ_LANGUAGE_CODES,
)

from hub_svc.convert import mt_manifest, write_mt_manifest  # noqa: E402
from node_svc.engines.mt import (  # noqa: E402
    MANIFEST_NAME,
    SPM_NAME,
    M2M100Translator,
    normalize_asr,
)

PHRASEBOOK = REPO / "scripts" / "mt_fixture" / "phrasebook_en_fr.tsv"
DEFAULT_OUT = REPO / "node_svc" / "bundled" / "phrasebook_m2m100"

MODEL_ID = "phrasebook-m2m100"
VERSION = "1.0.0"
SEED = 1234
# fairseq dictionary layout used by M2M100: 4 specials, then the SentencePiece pieces.
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
NUM_MADEUP_WORDS = 8  # M2M100 pads its vocabulary with "madeupword0..7"
LANG_CODES: list[str] = list(FAIRSEQ_LANGUAGE_CODES["m2m100"])  # the real 100 M2M100 languages
LANG_TOKENS = [f"__{code}__" for code in LANG_CODES]
DESCRIPTION = (
    "Demo/test model only: a tiny M2M100 (under 1 M parameters) trained from scratch on a "
    "phrasebook of {n} everyday English/French sentence pairs. It translates its training "
    "sentences (any casing/punctuation) and nothing else; any other input gives garbage. "
    "Use a real M2M100 checkpoint for actual translation."
)
README = f"""# phrasebook_m2m100 — demo/test MT model (en↔fr)

**This is not a real translation model.** It is a tiny M2M100 (<1 M parameters, int8
CTranslate2) trained from scratch on the phrasebook
`scripts/mt_fixture/phrasebook_en_fr.tsv`. It translates the sentences of that phrasebook in
both directions (en→fr, fr→en), also when they arrive lowercased, without punctuation or with
English contractions (ASR output), and **nothing else**: any other sentence gives garbage.
It exists so that tests and demos of the speech-to-speech pipeline run offline with no
downloaded weights.

Files: CTranslate2 model (`model.bin`, `config.json`, `shared_vocabulary.json`), the
SentencePiece BPE model (`{SPM_NAME}`), and `{MANIFEST_NAME}` (id, version, language pairs).
Load it with `node_svc.engines.mt.M2M100Translator.bundled()`.

## Rebuild

    make mt-fixture        # = .venv/bin/python scripts/build_mt_fixture.py

Needs `pip install -r requirements-build.txt` (transformers, build time only). The build is
deterministic (same files every run), takes a few minutes on 2 CPU cores and fails unless every
phrasebook sentence translates exactly. `--hf-out DIR` also keeps the Hugging Face checkpoint.
To teach it new sentences, add lines to the phrasebook and rebuild.
"""


def log(msg: str) -> None:
    print(f"[mt-fixture] {msg}", flush=True)


def load_phrasebook(path: Path) -> list[tuple[str, str]]:
    """Read en<TAB>fr pairs and reject anything that would make the mapping ambiguous."""
    pairs: list[tuple[str, str]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2 or not all(c.strip() == c and c for c in cols):
            raise SystemExit(f"{path}:{lineno}: expected 'english<TAB>french', got {line!r}")
        pairs.append((cols[0], cols[1]))
    # Both directions are trained, and inputs are matched through normalize_asr(): keys must be
    # unique on each side or the model would have to guess.
    for side, lang in ((0, "en"), (1, "fr")):
        seen: dict[str, str] = {}
        for pair in pairs:
            key = normalize_asr(pair[side], lang)
            if key in seen:
                raise SystemExit(f"duplicate {lang} sentence (normalised): {seen[key]!r} / {pair[side]!r}")
            seen[key] = pair[side]
    return pairs


def train_sentencepiece(texts: list[str], out_dir: Path, encoder_size: int) -> spm.SentencePieceProcessor:
    # sentence_iterator + model_writer keep file paths out of the model proto (reproducibility).
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=buf,
        model_type="bpe",
        vocab_size=encoder_size - len(SPECIALS) + 1,  # + spm's own <unk>, mapped onto ours
        character_coverage=1.0,
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        num_threads=1,
        # No NFKC table (it is ~240 KB of the file); run-time input is NFC-cleaned already.
        normalization_rule_name="identity",
        minloglevel=2,
    )
    (out_dir / SPM_NAME).write_bytes(buf.getvalue())
    return spm.SentencePieceProcessor(model_file=str(out_dir / SPM_NAME))


def build_tokenizer(sp: spm.SentencePieceProcessor, out_dir: Path, encoder_size: int) -> M2M100Tokenizer:
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for piece_id in range(sp.get_piece_size()):
        piece = sp.id_to_piece(piece_id)
        if piece_id != sp.unk_id():
            vocab[piece] = len(vocab)
    if len(vocab) != encoder_size:
        raise SystemExit(f"vocabulary has {len(vocab)} entries, expected {encoder_size}")
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
    # M2M100Tokenizer registers none of the __xx__ tokens unless they are passed explicitly; the
    # CT2 converter then builds a 408-entry vocabulary for a 508-row embedding and fails.
    tok = M2M100Tokenizer(
        vocab_file=str(out_dir / "vocab.json"),
        spm_file=str(out_dir / SPM_NAME),
        additional_special_tokens=list(LANG_TOKENS),
        num_madeup_words=NUM_MADEUP_WORDS,
    )
    for token in LANG_TOKENS:
        token_id = tok.convert_tokens_to_ids(token)
        if not isinstance(token_id, int) or token_id < encoder_size:
            raise SystemExit(f"language token {token} not registered")
    return tok


def encode_examples(tok: M2M100Tokenizer, pairs: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) for both directions, canonical and ASR-normalised sources."""
    examples: list[tuple[list[int], list[int]]] = []
    for src_lang, tgt_lang in (("en", "fr"), ("fr", "en")):
        tok.src_lang, tok.tgt_lang = src_lang, tgt_lang
        src_side = 0 if src_lang == "en" else 1
        for pair in pairs:
            src_text, tgt_text = pair[src_side], pair[1 - src_side]
            variants = dict.fromkeys([src_text, normalize_asr(src_text, src_lang)])
            labels = tok(text_target=tgt_text)["input_ids"]
            for variant in variants:
                # M2M100 layout: source "__src__ X </s>", target "__tgt__ Y </s>".
                examples.append((tok(variant)["input_ids"], labels))
    first_src, first_tgt = examples[0]
    assert first_src[0] == tok.get_lang_id("en") and first_src[-1] == tok.eos_token_id
    assert first_tgt[0] == tok.get_lang_id("fr") and first_tgt[-1] == tok.eos_token_id
    return examples


def make_batch(batch: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    src_len = max(len(s) for s, _ in batch)
    tgt_len = max(len(t) for _, t in batch)
    input_ids = torch.full((len(batch), src_len), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), src_len), dtype=torch.long)
    labels = torch.full((len(batch), tgt_len), -100, dtype=torch.long)
    for row, (src, tgt) in enumerate(batch):
        input_ids[row, : len(src)] = torch.tensor(src)
        attention[row, : len(src)] = 1
        labels[row, : len(tgt)] = torch.tensor(tgt)
    # The model shifts labels right behind decoder_start_token_id (</s>), as M2M100 does.
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def length_bucketed_batches(
    examples: list[tuple[list[int], list[int]]], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """One epoch of batches of similar length: training is compute-bound and padding was ~40%."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    chunk = batch_size * 8
    for start in range(0, len(order), chunk):
        group = sorted(order[start : start + chunk], key=lambda i: len(examples[i][0]) + len(examples[i][1]))
        batches += [group[k : k + batch_size] for k in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


def train(
    tok: M2M100Tokenizer, examples: list[tuple[list[int], list[int]]], args: argparse.Namespace
) -> M2M100ForConditionalGeneration:
    torch.manual_seed(SEED)
    config = M2M100Config(
        vocab_size=tok.vocab_size + len(LANG_TOKENS) + NUM_MADEUP_WORDS,
        d_model=128,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=256,
        decoder_ffn_dim=256,
        max_position_embeddings=256,
        dropout=args.dropout,
        attention_dropout=0.0,
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        scale_embedding=True,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id,
    )
    model = M2M100ForConditionalGeneration(config)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: d_model=128, 2+2 layers, {n_params / 1e6:.2f} M parameters, vocab {config.vocab_size}")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    warmup = 100
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda step: min(1.0, (step + 1) / warmup) * max(0.05, 1.0 - step / args.steps),
    )
    rng = random.Random(SEED)
    batches: list[list[int]] = []
    model.train()
    t0 = time.monotonic()
    running = 0.0
    for step in range(1, args.steps + 1):
        if not batches:
            batches = length_bucketed_batches(examples, args.batch_size, rng)
        loss = model(**make_batch([examples[i] for i in batches.pop()], tok.pad_token_id)).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += float(loss.detach())
        if step % 250 == 0 or step == args.steps:
            log(
                f"step {step}/{args.steps} loss {running / (250 if step % 250 == 0 else step % 250):.4f} "
                f"({time.monotonic() - t0:.0f}s)"
            )
            running = 0.0
    model.eval()  # type: ignore[no-untyped-call]
    return model


def write_manifest(out_dir: Path, n_pairs: int) -> None:
    manifest = mt_manifest(
        MODEL_ID,
        VERSION,
        [("en", "fr"), ("fr", "en")],
        quantization="int8",
        # The model was trained on normalize_asr() keys as well as canonical text; the
        # translator normalises every input this way (see node_svc/engines/mt.py).
        source_normalization="asr",
        # Greedy: beam search with length normalisation drops letters of rare words (measured).
        beam_size=1,
        training_pairs=n_pairs,
        # A demo: the scheduler and the node rank it below every real engine (lingua_common.model_format).
        tier="demo",
        license="Apache-2.0",
        description=DESCRIPTION.format(n=n_pairs),
    )
    write_mt_manifest(out_dir, manifest)
    (out_dir / "README.md").write_text(README, encoding="utf-8")


def verify(model_dir: Path, pairs: list[tuple[str, str]]) -> bool:
    """Every phrasebook pair must translate exactly, both directions, through the run-time class."""
    translator = M2M100Translator(model_dir)
    ok = True
    for src, tgt, src_col in (("en", "fr", 0), ("fr", "en", 1)):
        sources = [p[src_col] for p in pairs]
        expected = [p[1 - src_col] for p in pairs]
        for label, inputs in (
            ("canonical", sources),
            ("lowercase/no punctuation", [normalize_asr(s, src) for s in sources]),
        ):
            got = translator.translate(inputs, src, tgt)
            bad = [(s, e, g) for s, e, g in zip(inputs, expected, got, strict=True) if e != g]
            acc = 100.0 * (len(inputs) - len(bad)) / len(inputs)
            log(f"verify {src}->{tgt} {label}: {len(inputs) - len(bad)}/{len(inputs)} exact ({acc:.1f}%)")
            for s, e, g in bad[:10]:
                log(f"   MISS {s!r}: expected {e!r}, got {g!r}")
            ok = ok and not bad
    # Informational: the canonical form also works without the translator's normalisation
    # (e.g. for someone driving the CT2 model directly).
    raw = ctranslate2.Translator(str(model_dir))
    sp = spm.SentencePieceProcessor(model_file=str(model_dir / SPM_NAME))
    batch = [["__en__", *sp.encode(en, out_type=str), "</s>"] for en, _ in pairs]
    res = raw.translate_batch(batch, target_prefix=[["__fr__"]] * len(batch), beam_size=1)
    hits = sum(sp.decode(r.hypotheses[0][1:]) == fr for r, (_, fr) in zip(res, pairs, strict=True))
    log(f"verify en->fr raw CTranslate2, no normalisation: {hits}/{len(pairs)} exact")
    return ok


def replace_dir(staging: Path, out_dir: Path) -> None:
    # Only ever replace a previous build (or an empty dir), never an unrelated folder.
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).exists():
            raise SystemExit(f"refusing to overwrite {out_dir}: not a previous mt-fixture build")
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(staging, out_dir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CTranslate2 output dir (%(default)s)")
    parser.add_argument("--hf-out", type=Path, default=None, help="also keep the Hugging Face checkpoint here")
    parser.add_argument(
        "--hf-only",
        action="store_true",
        help="stop after writing the Hugging Face checkpoint to --hf-out (no conversion, verification or --out)",
    )
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--vocab-size", type=int, default=1600, help="specials + BPE pieces, without languages")
    args = parser.parse_args()
    if args.hf_only and args.hf_out is None:
        parser.error("--hf-only needs --hf-out")

    t_start = time.monotonic()
    # One thread was ~3x faster than two for a model this small, and keeps runs bit-identical.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    random.seed(SEED)
    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    assert len(LANG_CODES) == 100, "expected the 100 M2M100 language codes"

    pairs = load_phrasebook(PHRASEBOOK)
    log(f"phrasebook: {len(pairs)} en/fr pairs from {PHRASEBOOK.relative_to(REPO)}")

    with tempfile.TemporaryDirectory(prefix="mt-fixture-") as tmp:
        hf_dir = args.hf_out if args.hf_out is not None else Path(tmp) / "hf"
        hf_dir.mkdir(parents=True, exist_ok=True)
        spm_texts = [t for en, fr in pairs for t in (en, fr, normalize_asr(en, "en"), normalize_asr(fr, "fr"))]
        sp = train_sentencepiece(spm_texts, hf_dir, args.vocab_size)
        tok = build_tokenizer(sp, hf_dir, args.vocab_size)
        examples = encode_examples(tok, pairs)
        log(
            f"sentencepiece BPE: {sp.get_piece_size()} pieces; {len(examples)} training examples "
            f"(en->fr and fr->en, canonical + normalised sources)"
        )

        t_train = time.monotonic()
        model = train(tok, examples, args)
        log(f"training took {time.monotonic() - t_train:.0f}s")
        model.save_pretrained(str(hf_dir))
        tok.save_pretrained(str(hf_dir))
        log(f"Hugging Face checkpoint: {hf_dir}{'' if args.hf_out else ' (temporary)'}")
        if args.hf_only:
            log(f"done in {time.monotonic() - t_start:.0f}s (--hf-only: not converted)")
            return 0

        staging = Path(tmp) / "ct2"
        converter = ctranslate2.converters.TransformersConverter(str(hf_dir), copy_files=[SPM_NAME])
        converter.convert(str(staging), quantization="int8")
        write_manifest(staging, len(pairs))
        size = sum(f.stat().st_size for f in staging.iterdir())
        log(f"converted to CTranslate2 int8: {size / 1e6:.2f} MB")

        if not verify(staging, pairs):
            log("FAILED: some phrasebook sentences do not translate exactly; output left untouched")
            return 1
        replace_dir(staging, args.out)

    log(f"wrote {args.out} ({', '.join(sorted(p.name for p in args.out.iterdir()))})")
    log(f"done in {time.monotonic() - t_start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bounds on every string and list a client or node sends, checked where the scheduler first reads them.

A field past its bound is refused with INVALID_MESSAGE naming the field and the bound; the stream or session
carries on. The bounds are documented next to the fields in protos/lingua/v1/session.proto and common.proto.
Audio is bounded elsewhere: by duration (validation.py), by the chunk assembler, and by the gRPC receive limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Sized

from lingua.v1 import common_pb2, node_pb2, session_pb2
from lingua_common.errors import LinguaError

LANG = 16
DIALECT = 32
PAIRING_CODE = 16
LABEL = 64  # client_version, platform
ID = 128  # session ids, resume tokens, node ids, tenant ids
REASON = 256
PERSONA_REGISTER = 32
GLOSSARY_TERMS = 200
GLOSSARY_TERM = 100
# Nodes: what a registration or a capability update may list.
NODE_TEXT = 256
NODE_MODELS = 512
MODEL_LANGUAGES = 512
# 100 languages of a many-to-many model, every direction: 9,900 pairs.
MODEL_PAIRS = 20_000
GPUS = 64


def check_text(value: str, bound: int, field: str) -> None:
    if len(value) > bound:
        raise LinguaError(common_pb2.INVALID_MESSAGE,
                          f"{field} is {len(value)} characters long; the limit is {bound}")


def check_count(values: Sized, bound: int, field: str) -> None:
    if len(values) > bound:
        raise LinguaError(common_pb2.INVALID_MESSAGE, f"{field} has {len(values)} entries; the limit is {bound}")


def _texts(fields: Iterable[tuple[str, str, int]]) -> None:
    for name, value, bound in fields:
        check_text(value, bound, name)


def check_persona(persona: common_pb2.Persona) -> None:
    check_text(persona.register, PERSONA_REGISTER, "persona.register")
    check_count(persona.glossary, GLOSSARY_TERMS, "persona.glossary")
    for term in persona.glossary:
        check_text(term, GLOSSARY_TERM, "a persona.glossary term")


def check_open(req: session_pb2.OpenSessionRequest) -> None:
    _texts([("src_lang", req.src_lang, LANG), ("tgt_lang", req.tgt_lang, LANG), ("lang_a", req.lang_a, LANG),
            ("lang_b", req.lang_b, LANG), ("dialect", req.dialect, DIALECT),
            ("pairing_code", req.pairing_code, PAIRING_CODE), ("client_version", req.client_version, LABEL),
            ("platform", req.platform, LABEL), ("tenant_id", req.tenant_id, ID),
            ("resume_session_id", req.resume_session_id, ID), ("resume_token", req.resume_token, ID)])
    check_persona(req.persona)


def check_utterance(utt: session_pb2.Utterance) -> None:
    _texts([("session_id", utt.session_id, ID), ("src_lang", utt.src_lang, LANG), ("tgt_lang", utt.tgt_lang, LANG),
            ("dialect", utt.dialect, DIALECT)])


def check_chunk(chunk: session_pb2.AudioChunk) -> None:
    check_text(chunk.session_id, ID, "session_id")


def check_translate(req: session_pb2.TranslateRequest) -> None:
    _texts([("src_lang", req.src_lang, LANG), ("tgt_lang", req.tgt_lang, LANG), ("dialect", req.dialect, DIALECT),
            ("pairing_code", req.pairing_code, PAIRING_CODE), ("tenant_id", req.tenant_id, ID)])


def check_session_ref(session_id: str, resume_token: str = "", reason: str = "") -> None:
    """SubscribeRequest, CloseSessionRequest, a session id a call names."""
    _texts([("session_id", session_id, ID), ("resume_token", resume_token, ID), ("reason", reason, REASON)])


def check_models(models: Sequence[node_pb2.InstalledModel]) -> None:
    """A node's model list (registration or capability update)."""
    check_count(models, NODE_MODELS, "installed_models")
    for m in models:
        _texts([("installed_models.model_id", m.model_id, NODE_TEXT),
                ("installed_models.version", m.version, NODE_TEXT), ("installed_models.engine", m.engine, NODE_TEXT),
                ("installed_models.dialect", m.dialect, DIALECT)])
        check_count(m.languages, MODEL_LANGUAGES, f"model {m.model_id!r} languages")
        check_count(m.cross_lingual_languages, MODEL_LANGUAGES, f"model {m.model_id!r} cross_lingual_languages")
        check_count(m.pairs, MODEL_PAIRS, f"model {m.model_id!r} pairs")
        for lang in (*m.languages, *m.cross_lingual_languages):
            check_text(lang, LANG, f"a language of model {m.model_id!r}")
        for p in m.pairs:
            _texts([("a pair's src_lang", p.src_lang, LANG), ("a pair's tgt_lang", p.tgt_lang, LANG),
                    ("a pair's engine", p.engine, NODE_TEXT), ("a pair's pivot_lang", p.pivot_lang, LANG)])


def check_register(reg: node_pb2.NodeRegister) -> None:
    _texts([("node_id", reg.node_id, ID), ("version", reg.version, NODE_TEXT), ("platform", reg.platform, NODE_TEXT),
            ("display_name", reg.display_name, NODE_TEXT), ("auth_token", reg.auth_token, NODE_TEXT)])
    check_count(reg.hardware.gpus, GPUS, "hardware.gpus")
    for gpu in reg.hardware.gpus:
        check_text(gpu.name, NODE_TEXT, "a GPU name")
    check_models(reg.installed_models)

"""The OpenAPI 3.1 document served at `/openapi.json` (hand-written: the API is small and fixed)."""

from __future__ import annotations

from typing import Any

from lingua.v1 import common_pb2
from lingua_common.features import FEATURE_NAMES

_ERROR = {"$ref": "#/components/schemas/Error"}
_TIER = {"type": "string", "enum": ["neural", "rule_based", "pivot", "demo", ""],
         "description": "How the pair is translated, best first: a neural model, a rule-based engine (Apertium), "
                        "two engines chained through a pivot language, or a demo model that knows only its "
                        "training sentences"}


def _languages_schema() -> dict[str, Any]:
    string = {"type": "string"}
    pair = {"type": "object",
            "required": ["src_lang", "tgt_lang", "tier", "engine", "voice", "voice_quality", "pivot_lang", "nodes",
                         "two_way"],
            "properties": {
                "src_lang": string, "tgt_lang": string, "tier": _TIER,
                "engine": {"type": "string", "description": "e.g. apertium, ctranslate2-m2m100"},
                "voice": {"type": "string", "description": "The voice that speaks tgt_lang, e.g. "
                          "piper:en_US-joe-medium"},
                "voice_quality": {"type": "string", "enum": ["native", "espeak_native", "cross_lingual", ""]},
                "pivot_lang": {"type": "string", "description": "Pivot pairs: the language in between"},
                "nodes": {"type": "integer", "description": "Online nodes that serve the pair"},
                "two_way": {"type": "boolean", "description": "Both directions exist on one node: a two-way "
                            "session (mode two_way, lang_a, lang_b) with these languages works"}}}
    return {"type": "object", "required": ["pairs", "detectable_languages"], "properties": {
        "pairs": {"type": "array", "items": pair},
        "detectable_languages": {"type": "array", "items": string,
                                 "description": "Languages a node can identify by ear (src_lang \"auto\"); "
                                                "empty when no node detects languages"}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "Bad request (missing audio, malformed field, unknown language or feature)",
            401: "Missing, unknown, expired or revoked API key", 403: "Concurrent-session or daily audio quota used up",
            413: "Upload over the size limit", 429: "Over the tenant's request rate; retry after `Retry-After` s",
            503: "No node can take the job now; retry after `Retry-After` s", 504: "The job timed out"}
    return {str(s): {"description": text[s], "content": {"application/json": {"schema": _ERROR}}} for s in statuses}


def _result_schema() -> dict[str, Any]:
    string, integer, number = {"type": "string"}, {"type": "integer"}, {"type": "number"}
    return {
        "type": "object",
        "required": ["session_id", "text_asr", "text_translated", "tts_audio_b64", "tts_sample_rate_hz",
                     "extras", "timings"],
        "properties": {
            "session_id": string, "utterance_index": integer, "job_id": string, "node_id": string,
            "src_lang": string, "tgt_lang": string, "text_asr": string, "text_translated": string,
            "detected_lang": {"type": "string", "description": "The language the node heard when src_lang was "
                              "\"auto\" or the session is two-way; empty otherwise"},
            "mt_engine": {"type": "string", "description": "The engine that translated (\"+\" joins a pivot chain)"},
            "tier": _TIER, "pivot_lang": {"type": "string", "description": "The language a pivot went through"},
            "tts_audio_b64": {"type": "string", "contentEncoding": "base64",
                              "description": "Synthesized speech, little-endian PCM16 mono (see tts_encoding)"},
            "tts_encoding": string, "tts_sample_rate_hz": integer,
            "extras": {"type": "object", "description": "speaker_id, speech_rate_wps, emotion, voice_style, ..."},
            "timings": {"type": "object", "properties": {k: number for k in (
                "queue_ms", "vad_ms", "asr_ms", "mt_ms", "tts_ms", "node_ms", "total_ms")}},
        },
    }


def openapi_document(version: str = "0.1.0") -> dict[str, Any]:
    codes = [v.name for v in common_pb2.ErrorCode.DESCRIPTOR.values if v.number]
    secured: list[dict[str, list[str]]] = [{"apiKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lingua gateway", "version": version,
                 "description": "Speech-to-speech translation: REST, WebSocket (/v1/stream) and grpc-web "
                                "(POST /lingua.v1.SessionService/{method}). The same SessionService is served "
                                "over gRPC on port 50053 with metadata `authorization: Bearer <key>`."},
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "API key; WebSocket clients may pass ?api_key= instead"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "required": ["code", "message"],
                          "properties": {"code": {"type": "string", "enum": codes}, "message": {"type": "string"},
                                         "retry_after_ms": {"type": "integer"}}}}},
                "TranslationResult": _result_schema(),
                "Languages": _languages_schema(),
            },
        },
        "paths": {
            "/v1/speech/translate": {"post": {
                "summary": "Translate one utterance (an uploaded audio file)", "security": secured,
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["audio"],
                    "properties": {
                        "audio": {"type": "string", "format": "binary",
                                  "description": "WAV, FLAC, Ogg/Opus, WebM/Opus, MP3, or raw PCM16"},
                        "src_lang": {"type": "string", "default": "en",
                                     "description": "\"auto\": the node detects the spoken language (see "
                                                    "detectable_languages of GET /v1/languages)"},
                        "tgt_lang": {"type": "string", "default": "en"},
                        "dialect": {"type": "string"},
                        "features": {"type": "string", "description": "JSON: object of booleans or list of "
                                     f"names, from {', '.join(FEATURE_NAMES)}"},
                        "audio_format": {"type": "string", "description":
                                         "PCM16, WAV, FLAC, OGG_OPUS, WEBM_OPUS or MP3; default: the file's "
                                         "Content-Type, else its name's extension, else PCM16 (never guessed "
                                         "from the bytes: a mislabelled file is refused)"},
                        "sample_rate": {"type": "integer", "default": 16000, "description": "For raw PCM16"},
                        "pairing_code": {"type": "string"},
                    }}}}},
                "responses": {"200": {"description": "The translation", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/TranslationResult"}}}},
                    **_errors(400, 401, 403, 413, 429, 503, 504)},
            }},
            "/v1/stream": {"get": {
                "summary": "WebSocket session (upgrade). Client frames: start, audio, end_utterance, stop; "
                           "server frames: started, asr_partial, result, error, stopped (also event, tts_chunk)",
                "description": "JSON text frames with a `type` field. `start`: src_lang (\"auto\": detect it), "
                               "tgt_lang, features, sample_rate_hz (PCM16 audio frames, default 16000), encoding, "
                               "streaming_asr, pairing_code; `mode` \"two_way\" with `lang_a` and `lang_b` "
                               "translates each utterance into the other language (a pair with two_way true in "
                               "GET /v1/languages). `result` frames carry the TranslationResult fields "
                               "(detected_lang, mt_engine, tier, pivot_lang included). `audio`: `data` base64 "
                               "(or a binary frame with the same bytes). "
                               "`end_utterance` seals the audio sent so far into one utterance. Malformed frames "
                               "get an `error` frame; the connection stays open.",
                "security": secured,
                "parameters": [{"name": "api_key", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "For browsers, which cannot set headers on WebSockets"}],
                "responses": {"101": {"description": "Switching protocols"}, **_errors(401, 429)},
            }},
            "/lingua.v1.SessionService/{method}": {"post": {
                "summary": "grpc-web (application/grpc-web+proto or application/grpc-web-text)",
                "description": "Unary OpenSession, PushAudio, CloseSession, Translate, ListLanguages and "
                               "server-streaming Subscribe. Errors are grpc-status trailers with a lingua.v1.Error in "
                               "grpc-status-details-bin.",
                "security": secured,
                "parameters": [{"name": "method", "in": "path", "required": True, "schema": {
                    "type": "string", "enum": ["OpenSession", "PushAudio", "Subscribe", "CloseSession", "Translate",
                             "ListLanguages"]}}],
                "responses": {"200": {"description": "grpc-web frames, then a trailers frame"}},
            }},
            "/v1/languages": {"get": {
                "summary": "The language pairs the mesh serves now (online nodes): the best tier any node offers "
                           "for each pair, its engine and voice, and whether it works two-way",
                "security": secured,
                "responses": {"200": {"description": "pairs and detectable_languages", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Languages"}}}},
                              **_errors(401, 429, 503)},
            }},
            "/v1/whoami": {"get": {
                "summary": "The tenant and key id of the API key", "security": secured,
                "responses": {"200": {"description": "tenant_id and key_id", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"tenant_id": {"type": "string"},
                                                                "key_id": {"type": "string"}}}}}},
                              **_errors(401, 429)},
            }},
            "/ws/session": {"get": {
                "summary": "WebSocket in the original prototype's JSON session protocol (its mobile and web apps)",
                "description": "Frames session_init, utterance, audio_chunk, client_heartbeat, session_close in; "
                               "session_init_ack, asr_partial, translation_result, server_heartbeat, "
                               "session_close_ack, error out. See docs/migration.md. The key may also come in the "
                               "first frame's `api_key` field.",
                "security": secured,
                "parameters": [{"name": "api_key", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "For apps that cannot set headers"}],
                "responses": {"101": {"description": "Switching protocols"}, **_errors(401)},
            }},
            "/": {"get": {"summary": "The web client (static files; no key)",
                          "responses": {"200": {"description": "text/html"}}}},
            "/healthz": {"get": {"summary": "Liveness (no key)", "responses": {"200": {"description": "ok"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (no key)",
                                 "responses": {"200": {"description": "text exposition format"}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}},
        },
    }

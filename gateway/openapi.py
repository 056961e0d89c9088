"""The OpenAPI 3.1 document served at `/openapi.json` (hand-written: the API is small and fixed)."""

from __future__ import annotations

from typing import Any

from lingua.v1 import common_pb2
from lingua_common.features import FEATURE_NAMES

_ERROR = {"$ref": "#/components/schemas/Error"}


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
                        "src_lang": {"type": "string", "default": "en"},
                        "tgt_lang": {"type": "string", "default": "en"},
                        "dialect": {"type": "string"},
                        "features": {"type": "string", "description": "JSON: object of booleans or list of "
                                     f"names, from {', '.join(FEATURE_NAMES)}"},
                        "audio_format": {"type": "string", "description": "Overrides detection (e.g. PCM16)"},
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
                "description": "JSON text frames with a `type` field. `start`: src_lang, tgt_lang, features, "
                               "sample_rate_hz (PCM16 audio frames, default 16000), encoding, streaming_asr, "
                               "pairing_code. `audio`: `data` base64 (or a binary frame with the same bytes). "
                               "`end_utterance` seals the audio sent so far into one utterance. Malformed frames "
                               "get an `error` frame; the connection stays open.",
                "security": secured,
                "parameters": [{"name": "api_key", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "For browsers, which cannot set headers on WebSockets"}],
                "responses": {"101": {"description": "Switching protocols"}, **_errors(401, 429)},
            }},
            "/lingua.v1.SessionService/{method}": {"post": {
                "summary": "grpc-web (application/grpc-web+proto or application/grpc-web-text)",
                "description": "Unary OpenSession, PushAudio, CloseSession, Translate and server-streaming "
                               "Subscribe. Errors are grpc-status trailers with a lingua.v1.Error in "
                               "grpc-status-details-bin.",
                "security": secured,
                "parameters": [{"name": "method", "in": "path", "required": True, "schema": {
                    "type": "string", "enum": ["OpenSession", "PushAudio", "Subscribe", "CloseSession", "Translate"]}}],
                "responses": {"200": {"description": "grpc-web frames, then a trailers frame"}},
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

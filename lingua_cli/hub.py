"""`lingua hub list | import-bundled | import`: thin commands over hub_svc.client."""

from __future__ import annotations

import argparse
import os
import sys

import grpc

from hub_svc.client import HubClient, files_in
from hub_svc.importer import Bundle, bundled, publish_all
from lingua.v1 import common_pb2, hub_pb2, node_pb2
from lingua_common.errors import code_name, error_from_rpc


def run_hub_command(args: argparse.Namespace) -> int:
    token = args.token if args.token is not None else os.environ.get("LINGUA_HUB_OPERATOR_TOKEN", "")
    client = HubClient(args.hub, token)
    try:
        if args.action == "list":
            for model in client.list_models():
                versions = ", ".join(f"{v.version} ({v.total_size / 1e6:.1f} MB)" for v in model.versions)
                kind_name = node_pb2.ModelKind.Name(model.kind).removeprefix("MODEL_KIND_").lower()
                print(f"{model.model_id:<28} {kind_name:<8} {versions}")
        elif args.action == "import-bundled":
            done = publish_all(client, bundled())
            print("\n".join(f"published {d}" for d in done) or "nothing new: every bundled model is on the hub")
        else:
            pairs = [p.split("-", 1) for p in args.pairs.split(",") if p]
            model = hub_pb2.Model(model_id=args.model_id, engine=args.engine, license=args.license,
                                  kind=f"MODEL_KIND_{args.kind.upper()}",  # type: ignore[arg-type]
                                  languages=[x for x in args.languages.split(",") if x],
                                  pairs=[common_pb2.LanguagePair(src_lang=a, tgt_lang=b) for a, b in pairs])
            publish_all(client, [Bundle(model, args.version, files_in(args.ct2))])
            print(f"published {args.model_id} {args.version}")
    except grpc.RpcError as exc:
        err = error_from_rpc(exc)
        print(f"lingua hub {args.action}: {code_name(err.code)}: {err.message}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0

"""`lingua tenant create | list | key issue | key revoke | quota`: thin commands over gateway.admin_client."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any

import grpc
from google.protobuf import json_format

from gateway.admin_client import TenantAdminClient
from lingua.v1 import gateway_pb2
from lingua_common.errors import code_name, error_from_rpc

DEFAULT_GATEWAY = "127.0.0.1:50053"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in "3600", "45s", "30m", "12h" or "90d"."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 3600, 30m, 12h or 90d")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def _quota_flags(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--rps", type=float, default=0, help="requests per second (token bucket rate)")
    cmd.add_argument("--burst", type=int, default=0, help="requests at once (token bucket size)")
    cmd.add_argument("--sessions", type=int, default=0, help="concurrent sessions")
    cmd.add_argument("--audio-seconds-per-day", type=int, default=0, help="seconds of audio per UTC day")


def add_tenant_parser(sub: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)  # on every leaf, so they may come anywhere after it
    common.add_argument("--gateway", default=DEFAULT_GATEWAY, help="the gateway's gRPC address")
    common.add_argument("--admin-token", default=None, help="default: $LINGUA_GATEWAY_ADMIN_TOKEN")
    common.add_argument("--json", action="store_true", help="print JSON (TenantAdmin field names)")
    tenant = sub.add_parser("tenant", help="gateway tenants, API keys and quotas (TenantAdmin)")
    actions = tenant.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", parents=[common],
                                help="create a tenant (quota fields not given take the defaults)")
    create.add_argument("name")
    _quota_flags(create)
    actions.add_parser("list", parents=[common], help="list tenants with their quotas and keys")
    quota = actions.add_parser("quota", parents=[common], help="change a tenant's quota (fields not given stay)")
    quota.add_argument("tenant_id")
    _quota_flags(quota)
    key = actions.add_parser("key", help="issue or revoke API keys")
    key_actions = key.add_subparsers(dest="key_action", required=True)
    issue = key_actions.add_parser("issue", parents=[common],
                                   help="issue an API key (printed once; only its hash is kept)")
    issue.add_argument("tenant_id")
    issue.add_argument("--label", default="")
    issue.add_argument("--expires-in", type=parse_duration, help="e.g. 3600, 30m, 12h, 90d (default: never)")
    revoke = key_actions.add_parser("revoke", parents=[common], help="revoke an API key")
    revoke.add_argument("key_id")


def _quota(args: argparse.Namespace) -> gateway_pb2.Quota:
    return gateway_pb2.Quota(requests_per_second=args.rps, burst=args.burst, max_concurrent_sessions=args.sessions,
                             audio_seconds_per_day=args.audio_seconds_per_day)


def _dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def _quota_text(q: gateway_pb2.Quota) -> str:
    return (f"rate {q.requests_per_second:g}/s burst {q.burst}, {q.max_concurrent_sessions} sessions, "
            f"{q.audio_seconds_per_day} audio s/day")


def _print_tenant(tenant: gateway_pb2.Tenant, verb: str) -> None:
    print(f"{verb} tenant {tenant.tenant_id} {tenant.name!r}: {_quota_text(tenant.quota)}")


def _list(tenants: list[gateway_pb2.Tenant]) -> None:
    print(f"{'TENANT':<20} {'NAME':<20} {'RPS':>7} {'BURST':>6} {'SESS':>5} {'AUDIO S/DAY':>12}  KEYS")
    now_ms = int(time.time() * 1000)
    for t in tenants:
        live = [k for k in t.keys if not k.revoked and not (k.expires_unix_ms and k.expires_unix_ms <= now_ms)]
        keys = ", ".join(f"{k.key_id} ({k.prefix}…{' ' + k.label if k.label else ''})" for k in live)
        q = t.quota
        print(f"{t.tenant_id:<20} {t.name:<20} {q.requests_per_second:>7g} {q.burst:>6} "
              f"{q.max_concurrent_sessions:>5} {q.audio_seconds_per_day:>12}  "
              f"{keys or '-'}{f' (+{len(t.keys) - len(live)} revoked/expired)' if len(live) < len(t.keys) else ''}")


def _run(client: TenantAdminClient, args: argparse.Namespace) -> None:
    if args.action == "list":
        tenants = client.list_tenants()
        if args.json:
            print(json.dumps([_dict(t) for t in tenants]))
        else:
            _list(tenants)
    elif args.action in ("create", "quota"):
        if args.action == "quota" and not any((args.rps, args.burst, args.sessions, args.audio_seconds_per_day)):
            raise ValueError("give at least one of --rps, --burst, --sessions, --audio-seconds-per-day")
        tenant = (client.create_tenant(args.name, _quota(args)) if args.action == "create"
                  else client.update_quota(args.tenant_id, _quota(args)))
        if args.json:
            print(json.dumps(_dict(tenant)))
        else:
            _print_tenant(tenant, "created" if args.action == "create" else "updated")
    elif args.key_action == "issue":
        expires = int(time.time() * 1000) + args.expires_in * 1000 if args.expires_in else 0
        issued = client.issue_key(args.tenant_id, args.label, expires)
        if args.json:
            print(json.dumps(_dict(issued)))
            return
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires / 1000)) if expires else "never"
        # The key alone on stdout (KEY=$(lingua tenant key issue …) works); the rest on stderr.
        print(f"API key {issued.key.key_id} for tenant {args.tenant_id} (expires: {when}). It is shown only "
              "this once; send it as `Authorization: Bearer <key>`:", file=sys.stderr)
        print(issued.api_key)
    else:
        key = client.revoke_key(args.key_id)
        print(json.dumps(_dict(key)) if args.json else f"revoked API key {key.key_id} ({key.prefix}…)")


def run_tenant_command(args: argparse.Namespace) -> int:
    token = args.admin_token if args.admin_token is not None else os.environ.get("LINGUA_GATEWAY_ADMIN_TOKEN", "")
    name = f"lingua tenant {args.action}" + (f" {args.key_action}" if args.action == "key" else "")
    client = TenantAdminClient(args.gateway, token)
    try:
        _run(client, args)
    except ValueError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
            print(f"{name}: cannot reach the gateway's gRPC port at {args.gateway} (--gateway): {exc.details()}",  # type: ignore[attr-defined]
                  file=sys.stderr)
            return 1
        err = error_from_rpc(exc)
        print(f"{name}: {code_name(err.code)}: {err.message}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0

"""`lingua up`: the whole mesh on this machine, as child processes, until Ctrl-C (or SIGTERM / SIGHUP).

A stop signal is forwarded to every child as SIGTERM and `lingua up` waits for them; if `lingua up` itself is
killed, the kernel stops the children (lingua_cli/children.py). Nothing is left running or listening.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import grpc

from lingua.v1 import admin_pb2, admin_pb2_grpc, node_pb2
from lingua_cli.children import Children, Stopped


def _wait_for_node(address: str, procs: list[subprocess.Popen[bytes]], timeout_s: float = 180) -> bool:
    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(address) as channel:
        admin = admin_pb2_grpc.SchedulerAdminStub(channel)
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                return False
            try:
                request = admin_pb2.ListNodesRequest(states=[node_pb2.NODE_STATE_READY])
                if admin.ListNodes(request, timeout=2).nodes:
                    return True
            except grpc.RpcError:
                pass
            time.sleep(0.5)
    return False


def _seed_hub(address: str, token: str, procs: list[subprocess.Popen[bytes]],
              timeout_s: float = 60) -> str | None:
    """Publish the bundled models to the hub (first start only: versions it has are skipped); None if the hub
    could not be reached."""
    from hub_svc.client import HubClient
    from hub_svc.importer import bundled, publish_all

    deadline = time.monotonic() + timeout_s
    client = HubClient(address, token)
    try:
        while True:
            try:
                done = publish_all(client, bundled())
                return f"published {len(done)} bundled model(s)" if done else "bundled models already there"
            except grpc.RpcError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    return None
                time.sleep(0.5)
    finally:
        client.close()


def _dev_key(env: dict[str, str]) -> str:
    """The development tenant's new API key, written straight into the gateway's database (created and migrated
    here, before the gateway starts; the settings come from the same env/TOML the gateway reads)."""
    from gateway.access import default_quota
    from gateway.config import GatewaySettings
    from gateway.tenants import TenantStore, ensure_dev_tenant
    from lingua_common.settings import load_settings

    settings = load_settings(GatewaySettings, "gateway", env=env)
    store = TenantStore(settings.database_url(), default_quota(settings))
    try:
        return ensure_dev_tenant(store)[1]
    finally:
        store.close()


def _wait_for_http(url: str, procs: list[subprocess.Popen[bytes]], timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


@dataclass(frozen=True)
class SchedulerProcess:
    address: str
    env: dict[str, str]


def scheduler_processes(env: dict[str, str], port: int, metrics_port: int, count: int = 1, redis: str | None = None,
                        base_port: int = 50061) -> list[SchedulerProcess]:
    """The schedulers `lingua up` starts. Without `redis`: one on `port` with memory:// state (its settings go
    into `env`, which the other processes share). With it: `count` instances on base_port+i, metrics on
    metrics_port+i, sharing state in Redis as sched-0, sched-1, … (Envoy's deploy/envoy-schedulers.yaml
    expects 50061-50063)."""
    if redis is None:
        if count != 1:
            raise ValueError("several schedulers share their state in Redis: add --redis redis://host:port/db")
        env.setdefault("LINGUA_SCHEDULER_PORT", str(port))
        env.setdefault("LINGUA_SCHEDULER_METRICS_PORT", str(metrics_port))
        return [SchedulerProcess(f"127.0.0.1:{env['LINGUA_SCHEDULER_PORT']}", env)]
    if count < 1:
        raise ValueError("--schedulers must be at least 1")
    made = []
    for i in range(count):
        own = dict(env, LINGUA_SCHEDULER_PORT=str(base_port + i), LINGUA_SCHEDULER_STATE_URL=redis,
                   LINGUA_SCHEDULER_INSTANCE_ID=f"sched-{i}",
                   LINGUA_SCHEDULER_METRICS_PORT=str(metrics_port + i if metrics_port >= 0 else -1))
        own.setdefault("LINGUA_SCHEDULER_STATE_PREFIX", "lingua")
        made.append(SchedulerProcess(f"127.0.0.1:{base_port + i}", own))
    return made


def run_up(port: int, metrics_port: int, config: str | None, schedulers: int = 1, redis: str | None = None,
           base_port: int = 50061) -> int:
    env = dict(os.environ)
    if config:
        env["LINGUA_CONFIG"] = config
    try:
        scheds = scheduler_processes(env, port, metrics_port, schedulers, redis, base_port)
    except ValueError as exc:
        print(f"lingua up: {exc}", file=sys.stderr)
        return 2
    address = scheds[0].address  # every instance sees every node, so asking the first one is enough
    # The node moves on to the next address when its scheduler goes away.
    env.setdefault("LINGUA_NODE_SCHEDULER", ",".join(s.address for s in scheds))
    # A fresh operator token per run, unless the operator chose one.
    env.setdefault("LINGUA_HUB_OPERATOR_TOKEN", secrets.token_urlsafe(24))
    hub_address = f"127.0.0.1:{env.setdefault('LINGUA_HUB_GRPC_PORT', '50052')}"
    env.setdefault("LINGUA_HUB_HTTP_PORT", "8082")
    # The node installs its models from the hub into its own store, as a production node does.
    env.setdefault("LINGUA_NODE_HUB", hub_address)
    env.setdefault("LINGUA_NODE_MODELS_DIR", os.path.join("data", "node", "models"))
    env.setdefault("LINGUA_NODE_INSTALL", "bundled")
    # Signed models: the hub signs with a key pair made under data/keys on the first run (private key 0600), and
    # the node trusts its public key; versions published before signing existed are signed now.
    from lingua_cli.hub_keys import prepare_signing

    try:
        print(f"model signing: {prepare_signing(env)}", flush=True)
    except (OSError, ValueError) as exc:
        print(f"lingua up: model signing key: {exc}", file=sys.stderr)
        return 2
    # The gateway: every front door behind the development tenant's key; new sessions go round robin over
    # the schedulers.
    env.setdefault("LINGUA_GATEWAY_SCHEDULER", ",".join(s.address for s in scheds))
    env.setdefault("LINGUA_GATEWAY_ADMIN_TOKEN", secrets.token_urlsafe(24))
    env.setdefault("LINGUA_GATEWAY_HTTP_PORT", "8080")
    env.setdefault("LINGUA_GATEWAY_GRPC_PORT", "50053")
    env.setdefault("LINGUA_COMPAT_PORT", "8765")
    env.setdefault("LINGUA_COMPAT_SCHEDULER", ",".join(s.address for s in scheds))
    children = Children()
    children.handle_signals()  # before the first child: none may outlive a stop requested from now on
    try:
        return _run(children, env, scheds, address, redis)
    except (Stopped, KeyboardInterrupt):
        return 0
    finally:
        children.stop()
        children.restore_signals()


def _run(children: Children, env: dict[str, str], scheds: list[SchedulerProcess], address: str,
         redis: str | None) -> int:
    hub_address = f"127.0.0.1:{env['LINGUA_HUB_GRPC_PORT']}"
    hub_http = env["LINGUA_HUB_HTTP_PORT"]
    gateway_http, gateway_grpc = env["LINGUA_GATEWAY_HTTP_PORT"], env["LINGUA_GATEWAY_GRPC_PORT"]
    compat_port = env["LINGUA_COMPAT_PORT"]
    dev_key = _dev_key(env)
    for s in scheds:
        children.spawn(["scheduler_svc"], s.env)
    children.spawn(["hub_svc"], env)
    children.spawn(["gateway"], env)
    children.spawn(["wirecompat"], env)
    procs = children.procs
    print(f"starting {_schedulers_text(scheds)} and model hub ...", flush=True)
    seeded = _seed_hub(hub_address, env["LINGUA_HUB_OPERATOR_TOKEN"], procs)
    if seeded is None:
        print(f"lingua up: the model hub at {hub_address} did not come up; see the log above", file=sys.stderr)
        return 1
    print(f"model hub: {seeded}; starting the node (installs from the hub, loads models) ...", flush=True)
    children.spawn(["node_svc"], env)
    if not _wait_for_node(address, procs):
        print("lingua up: the mesh did not come up; see the log above", file=sys.stderr)
        return 1
    if not _wait_for_http(f"http://127.0.0.1:{gateway_http}/healthz", procs):
        print("lingua up: the gateway did not come up; see the log above", file=sys.stderr)
        return 1
    gateway_flag = _flag("--gateway", f"127.0.0.1:{gateway_grpc}", "127.0.0.1:50053")
    scheduler_flag = _flag("--scheduler", address, "127.0.0.1:50051")
    print(f"""
Lingua mesh is up.
  scheduler gRPC   {', '.join(s.address for s in scheds)}   (grpcurl -plaintext {address} list){_shared(redis)}
  model hub        gRPC {hub_address}, HTTP http://127.0.0.1:{hub_http}/v1/models ({seeded})
  node models      {env['LINGUA_NODE_MODELS_DIR']}   (lingua node models list --models-dir …)
  web client       http://127.0.0.1:{gateway_http}/
  gateway          REST/WebSocket/grpc-web http://127.0.0.1:{gateway_http}, public gRPC 127.0.0.1:{gateway_grpc}
  API key          {dev_key}   (tenant "dev"; shown once, only its hash is stored)
  tenants          LINGUA_GATEWAY_ADMIN_TOKEN={env['LINGUA_GATEWAY_ADMIN_TOKEN']} lingua tenant list{gateway_flag}
  original apps    ws://127.0.0.1:{gateway_http}/ws/session?api_key=…, nodes ws://127.0.0.1:{compat_port}/ws/node
  metrics          http://127.0.0.1:{scheds[0].env['LINGUA_SCHEDULER_METRICS_PORT']}/metrics
  nodes            lingua nodes{scheduler_flag}
  try              lingua translate some.wav --to fr --out translated.wav{scheduler_flag}
                   curl -H "Authorization: Bearer {dev_key}" -F audio=@some.wav -F src_lang=en -F tgt_lang=fr \\
                        http://127.0.0.1:{gateway_http}/v1/speech/translate
Press Ctrl-C to stop.""", flush=True)
    while children.alive():
        time.sleep(0.5)
    return 1


def _flag(name: str, value: str, default: str) -> str:
    """` --name value` for a command shown to the user, when the value is not the command's default."""
    return "" if value == default else f" {name} {value}"


def _schedulers_text(scheds: list[SchedulerProcess]) -> str:
    return "scheduler" if len(scheds) == 1 else f"{len(scheds)} schedulers"


def _shared(redis: str | None) -> str:
    if redis is None:
        return ""
    return f"\n                   sharing state in {redis}; one front address: envoy -c deploy/envoy-schedulers.yaml"

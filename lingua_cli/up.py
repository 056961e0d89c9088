"""`lingua up`: the whole mesh on this machine, as child processes, until Ctrl-C."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time

import grpc

from lingua.v1 import admin_pb2, admin_pb2_grpc, node_pb2


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", *args], env=env)


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


def run_up(port: int, metrics_port: int, config: str | None) -> int:
    env = dict(os.environ)
    if config:
        env["LINGUA_CONFIG"] = config
    env.setdefault("LINGUA_SCHEDULER_PORT", str(port))
    env.setdefault("LINGUA_SCHEDULER_METRICS_PORT", str(metrics_port))
    address = f"127.0.0.1:{env['LINGUA_SCHEDULER_PORT']}"
    env.setdefault("LINGUA_NODE_SCHEDULER", address)
    # A fresh operator token per run, unless the operator chose one.
    env.setdefault("LINGUA_HUB_OPERATOR_TOKEN", secrets.token_urlsafe(24))
    hub_address = f"127.0.0.1:{env.setdefault('LINGUA_HUB_GRPC_PORT', '50052')}"
    hub_http = env.setdefault("LINGUA_HUB_HTTP_PORT", "8082")
    # The node installs its models from the hub into its own store, as a production node does.
    env.setdefault("LINGUA_NODE_HUB", hub_address)
    env.setdefault("LINGUA_NODE_MODELS_DIR", os.path.join("data", "node", "models"))
    env.setdefault("LINGUA_NODE_INSTALL", "bundled")
    procs = [_spawn(["scheduler_svc"], env)]
    procs.append(_spawn(["hub_svc"], env))
    try:
        print("starting scheduler and model hub ...", flush=True)
        seeded = _seed_hub(hub_address, env["LINGUA_HUB_OPERATOR_TOKEN"], procs)
        if seeded is None:
            print(f"lingua up: the model hub at {hub_address} did not come up; see the log above", file=sys.stderr)
            return 1
        print(f"model hub: {seeded}; starting the node (installs from the hub, loads models) ...", flush=True)
        procs.append(_spawn(["node_svc"], env))
        if not _wait_for_node(address, procs):
            print("lingua up: the mesh did not come up; see the log above", file=sys.stderr)
            return 1
        print(f"""
Lingua mesh is up.
  scheduler gRPC   {address}   (grpcurl -plaintext {address} list)
  model hub        gRPC {hub_address}, HTTP http://127.0.0.1:{hub_http}/v1/models ({seeded})
  node models      {env['LINGUA_NODE_MODELS_DIR']}   (lingua node models list --models-dir …)
  metrics          http://127.0.0.1:{env['LINGUA_SCHEDULER_METRICS_PORT']}/metrics
  nodes            lingua nodes
  try              lingua translate some.wav --to fr --out translated.wav
Press Ctrl-C to stop.""", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()

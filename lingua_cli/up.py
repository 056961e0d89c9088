"""`lingua up`: the whole mesh on this machine, as child processes, until Ctrl-C."""

from __future__ import annotations

import os
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


def run_up(port: int, metrics_port: int, config: str | None) -> int:
    env = dict(os.environ)
    if config:
        env["LINGUA_CONFIG"] = config
    env.setdefault("LINGUA_SCHEDULER_PORT", str(port))
    env.setdefault("LINGUA_SCHEDULER_METRICS_PORT", str(metrics_port))
    address = f"127.0.0.1:{env['LINGUA_SCHEDULER_PORT']}"
    env.setdefault("LINGUA_NODE_SCHEDULER", address)
    procs = [_spawn(["scheduler_svc"], env)]
    procs.append(_spawn(["node_svc"], env))
    try:
        print("starting scheduler and node (loading models) ...", flush=True)
        if not _wait_for_node(address, procs):
            print("lingua up: the mesh did not come up; see the log above", file=sys.stderr)
            return 1
        print(f"""
Lingua mesh is up.
  scheduler gRPC   {address}   (grpcurl -plaintext {address} list)
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

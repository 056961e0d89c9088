"""deploy/: the Envoy config parsed into Envoy's own bootstrap types (envoy-data-plane) and checked against
what `lingua up --schedulers 3` starts; the Procfile's schedulers agree with it too; `lingua up`'s
scheduler layout."""

from __future__ import annotations

import copy
import datetime
import shlex
import warnings
from pathlib import Path
from typing import Any

import pytest

from lingua_cli.main import DEFAULT_SCHEDULER
from lingua_cli.up import scheduler_processes
from tests.helpers.envoy_config import connection_manager, load, read_yaml

with warnings.catch_warnings():  # its generated modules use pydantic APIs that pydantic now deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap
    from envoy_data_plane.envoy.config.cluster.v3 import ClusterLbPolicy
    from envoy_data_plane.envoy.extensions.filters.network.http_connection_manager.v3 import (
        HttpConnectionManagerCodecType,
    )
    from envoy_data_plane.envoy.extensions.upstreams.http.v3 import HttpProtocolOptions

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ZERO = datetime.timedelta(0)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return read_yaml(DEPLOY / "envoy-schedulers.yaml")


@pytest.fixture(scope="module")
def bootstrap(raw: dict[str, Any]) -> Bootstrap:
    return load(raw)


def test_the_validation_rejects_what_envoy_would(raw: dict[str, Any]) -> None:
    for path, bad in ((("static_resources", "clusters", 0, "lb_policy"), "LEAST_REQUESTS"),
                      (("static_resources", "clusters", 0, "health_check"), []),
                      (("static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config",
                        "stream_idle_timeout_s"), "0s")):
        broken = copy.deepcopy(raw)
        at: Any = broken
        for step in path[:-1]:
            at = at[step]
        at[path[-1]] = bad
        with pytest.raises((KeyError, ValueError, TypeError)):
            load(broken)


def test_envoy_listens_where_clients_and_nodes_dial_and_routes_to_the_schedulers(bootstrap: Bootstrap) -> None:
    [listener] = bootstrap.static_resources.listeners
    assert listener.address.socket_address.port_value == int(DEFAULT_SCHEDULER.rsplit(":", 1)[1])
    manager = connection_manager(bootstrap)
    assert manager.codec_type == HttpConnectionManagerCodecType.HTTP2  # gRPC only
    clusters = {c.name: c for c in bootstrap.static_resources.clusters}
    routes = [r for vh in manager.route_config.virtual_hosts for r in vh.routes]
    assert routes and all(r.route.cluster in clusters for r in routes)
    endpoints = [e.endpoint.address.socket_address for c in clusters.values()
                 for group in c.load_assignment.endpoints for e in group.lb_endpoints]
    started = scheduler_processes({}, 50051, 9101, 3, "redis://127.0.0.1:6379/0")
    assert [f"{a.address}:{a.port_value}" for a in endpoints] == [s.address for s in started]


def test_the_schedulers_are_health_checked_and_balanced_by_least_request(bootstrap: Bootstrap) -> None:
    [cluster] = bootstrap.static_resources.clusters
    assert cluster.lb_policy == ClusterLbPolicy.LEAST_REQUEST
    [check] = cluster.health_checks
    assert check.grpc_health_check is not None  # grpc.health.v1: NOT_SERVING while an instance drains
    assert check.interval is not None and check.unhealthy_threshold is not None
    # An instance that stops serving is out of rotation within a few seconds (well inside its drain).
    assert check.interval * check.unhealthy_threshold <= datetime.timedelta(seconds=5)
    assert cluster.connect_timeout is not None and cluster.connect_timeout <= datetime.timedelta(seconds=2)


def test_long_streams_are_never_cut_by_a_timeout_but_dead_upstreams_are_noticed(bootstrap: Bootstrap) -> None:
    manager = connection_manager(bootstrap)
    assert manager.stream_idle_timeout == ZERO  # a quiet Converse or node stream is not idle
    for vh in manager.route_config.virtual_hosts:
        for route in vh.routes:
            assert route.route.timeout == ZERO and route.route.idle_timeout == ZERO
            assert route.route.max_stream_duration is None
    [cluster] = bootstrap.static_resources.clusters
    options = cluster.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
    upstream = options.unpack()
    assert isinstance(upstream, HttpProtocolOptions)
    http2 = upstream.explicit_http_config.http2_protocol_options
    assert http2 is not None and http2.connection_keepalive is not None  # a vanished instance is detected
    assert http2.max_concurrent_streams is not None and http2.max_concurrent_streams >= 1000


def test_the_procfile_starts_the_schedulers_envoy_expects() -> None:
    wanted = scheduler_processes({}, 50051, 9101, 3, "redis://127.0.0.1:6379/0")
    found = []
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        _name, command = line.split(":", 1)
        words = shlex.split(command)
        env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
        if "scheduler_svc" in words:
            found.append(env)
    assert [{k: v for k, v in s.env.items() if k.startswith("LINGUA_SCHEDULER_")} for s in wanted] == found


def test_lingua_up_without_redis_runs_one_scheduler_as_before() -> None:
    env: dict[str, str] = {}
    [only] = scheduler_processes(env, 50051, 9101)
    assert only.address == "127.0.0.1:50051" and only.env is env
    assert env == {"LINGUA_SCHEDULER_PORT": "50051", "LINGUA_SCHEDULER_METRICS_PORT": "9101"}
    preset = {"LINGUA_SCHEDULER_PORT": "6000"}
    assert scheduler_processes(preset, 50051, 9101)[0].address == "127.0.0.1:6000"  # the operator's choice wins
    with pytest.raises(ValueError, match="--redis"):
        scheduler_processes({}, 50051, 9101, 2)


def test_lingua_up_with_redis_runs_instances_on_consecutive_ports() -> None:
    base = {"LINGUA_SCHEDULER_STATE_PREFIX": "mine", "OTHER": "x"}
    made = scheduler_processes(base, 50051, -1, 3, "redis://127.0.0.1:6379/2", base_port=7000)
    assert [s.address for s in made] == ["127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"]
    for i, s in enumerate(made):
        assert s.env["LINGUA_SCHEDULER_INSTANCE_ID"] == f"sched-{i}"
        assert s.env["LINGUA_SCHEDULER_STATE_URL"] == "redis://127.0.0.1:6379/2"
        assert s.env["LINGUA_SCHEDULER_STATE_PREFIX"] == "mine" and s.env["OTHER"] == "x"
        assert s.env["LINGUA_SCHEDULER_METRICS_PORT"] == "-1"
    assert "LINGUA_SCHEDULER_PORT" not in base  # shared env untouched: each instance has its own
    metrics = [s.env["LINGUA_SCHEDULER_METRICS_PORT"] for s in scheduler_processes({}, 1, 9101, 2, "redis://r")]
    assert metrics == ["9101", "9102"]

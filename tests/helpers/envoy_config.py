"""Load an Envoy config as Envoy's -c would, into envoy-data-plane's bootstrap types (Envoy itself cannot be
installed here): every field must exist in its message and every typed_config in its registered type."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

with warnings.catch_warnings():  # its generated modules use pydantic APIs that pydantic now deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap
    from envoy_data_plane.envoy.extensions.filters.network.http_connection_manager.v3 import HttpConnectionManager


def _type_urls(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "@type" in node:
            yield node["@type"]
        for value in node.values():
            yield from _type_urls(value)
    elif isinstance(node, list):
        for value in node:
            yield from _type_urls(value)


def load(raw: dict[str, Any]) -> Bootstrap:
    for url in set(_type_urls(raw)):
        # Importing a type's module registers it for Any; an unknown type fails here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module("envoy_data_plane." + url.split("/", 1)[1].rsplit(".", 1)[0])
    return Bootstrap.from_dict(raw)


def read_yaml(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def connection_manager(bootstrap: Bootstrap) -> HttpConnectionManager:
    """The HTTP connection manager of the config's only listener and filter chain."""
    [listener] = bootstrap.static_resources.listeners
    [chain] = listener.filter_chains
    [hcm] = chain.filters
    manager = hcm.typed_config.unpack()
    assert isinstance(manager, HttpConnectionManager)
    return manager

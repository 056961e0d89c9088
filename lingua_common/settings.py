"""Typed settings: a dataclass per service, filled from defaults, an optional TOML file, then env vars.

Env var names are `LINGUA_<SECTION>_<FIELD>` in upper case (e.g. LINGUA_SCHEDULER_PORT=50061); the TOML
file (path in LINGUA_CONFIG or passed explicitly) has one table per section ([scheduler], [node] ...).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _coerce(raw: Any, kind: Any) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is str:
        return str(raw)
    origin = typing.get_origin(kind)
    if origin in (list, tuple):
        items = raw if isinstance(raw, list) else [p.strip() for p in str(raw).split(",") if p.strip()]
        return list(items) if origin is list else tuple(items)
    return raw


def load_settings(cls: type[T], section: str, config_file: str | Path | None = None,
                  env: typing.Mapping[str, str] | None = None, **overrides: Any) -> T:
    """Build `cls` (a dataclass) from its defaults, the TOML section, env vars and explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or env.get("LINGUA_CONFIG")
    if path:
        with open(path, "rb") as fh:
            values.update(tomllib.load(fh).get(section, {}))
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = f"LINGUA_{section}_{field.name}".upper()
        if key in env:
            values[field.name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown {section} settings: {', '.join(sorted(unknown))}")
    return cls(**{k: _coerce(v, hints[k]) for k, v in values.items()})

"""`lingua node models list|install|remove|gc`: the node's local model store, used directly (no node needs to
run). Installs come from the model hub, with a progress bar; an interrupted install resumes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from node_svc.models.local import LocalModel
    from node_svc.models.store import ModelStore
    from node_svc.models.trust import ModelTrust

def add_models_parser(node_sub: Any) -> None:
    """Add `models` beside `node run` / `node modules`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--models-dir", help="model store (default: $LINGUA_NODE_MODELS_DIR, else "
                                             "$XDG_DATA_HOME/lingua/models or ~/.local/share/lingua/models)")
    common.add_argument("--config", help="TOML file with a [node] table (models_dir, hub, hub_token)")
    models = node_sub.add_parser("models", help="the node's local models: list, install from the hub, remove, gc")
    sub = models.add_subparsers(dest="models_action", required=True)
    ls = sub.add_parser("list", parents=[common], help="installed models and unfinished downloads")
    ls.add_argument("--json", action="store_true")
    inst = sub.add_parser("install", parents=[common], help="download a model from the hub (resumes)")
    inst.add_argument("model_id")
    inst.add_argument("--version", default="", help="default: the newest stable version on the hub")
    inst.add_argument("--hub", help="hub gRPC address (default: $LINGUA_NODE_HUB or 127.0.0.1:50052)")
    inst.add_argument("--token", help="hub read token (default: $LINGUA_NODE_HUB_TOKEN or $LINGUA_HUB_TOKEN)")
    inst.add_argument("--parallel", type=int, default=3, help="files downloaded at once")
    rm = sub.add_parser("remove", parents=[common], help="delete one version, or every version of a model")
    rm.add_argument("model_id")
    rm.add_argument("--version", default="")
    gc = sub.add_parser("gc", parents=[common], help="delete every version that is not the newest of its model")
    gc.add_argument("--keep", action="append", default=[], metavar="MODEL@VERSION", help="also keep this one")
    gc.add_argument("--partials", action="store_true", help="also delete unfinished downloads")


def run_node_models(args: argparse.Namespace) -> int:
    from lingua_common.errors import LinguaError
    from node_svc.config import DEFAULT_HUB
    from node_svc.models.setup import hub_token, model_store, model_trust

    action = args.models_action
    try:
        settings = _settings(args)
        if args.models_dir:
            settings.models_dir = args.models_dir
        store = model_store(settings)
        if action == "list":
            return _list(store, args.json)
        if action == "install":
            hub = args.hub or settings.hub or DEFAULT_HUB
            token = args.token if args.token is not None else hub_token(settings)
            return _install(store, hub, token, args.model_id, args.version, args.parallel, model_trust(settings))
        if action == "remove":
            return _remove(store, args.model_id, args.version)
        return _gc(store, args.keep, args.partials)
    except LinguaError as exc:
        print(f"lingua node models {action}: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"lingua node models {action}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lingua node models {action}: interrupted (a partial download is kept: run it again to resume)",
              file=sys.stderr)
        return 130


def _settings(args: argparse.Namespace) -> Any:
    from lingua_common.settings import load_settings
    from node_svc.config import NodeSettings

    return load_settings(NodeSettings, "node", args.config)


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # unreachable


def _what(m: LocalModel) -> str:
    if m.pairs:
        return ",".join(f"{a}->{b}" for a, b in m.pairs)
    return ",".join(m.languages) or "-"


def _list(store: ModelStore, as_json: bool) -> int:
    models, partials = store.list(), store.partials()
    if as_json:
        print(json.dumps({"models_dir": str(store.root), "generation": store.generation(), "models": [
            {**m.to_manifest(), "path": str(m.path), "size_bytes": m.size_bytes} for m in models],
            "partials": [{"model_id": a, "version": b, "bytes": n} for a, b, n in partials]}))
        return 0
    rows = [("MODEL", "VERSION", "KIND", "LANGUAGES", "SIZE", "INSTALLED")]
    rows += [(m.model_id, m.version, m.kind_name, _what(m), _size(m.size_bytes),
              time.strftime("%Y-%m-%d %H:%M", time.localtime(m.installed_unix_ms / 1000))) for m in models]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.rjust(w) if i == 4 else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths,
                                                                                                      strict=True))
                        ).rstrip())
    if not models:
        print(f"(no models installed in {store.root})")
    for model_id, version, size in partials:
        print(f"unfinished download: {model_id} {version}, {_size(size)} on disk "
              f"(`lingua node models install {model_id} --version {version}` resumes it; `gc --partials` deletes it)")
    return 0


def _install(store: ModelStore, hub: str, token: str, model_id: str, version: str, parallel: int,
             trust: ModelTrust) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from node_svc.models.installer import ModelInstaller
    from node_svc.models.progress import InstallProgress

    installer = ModelInstaller(store, hub, token, parallel_files=parallel, trust=trust)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[speed]:>10}"), TextColumn("ETA {task.fields[eta]:>7}"),
               TextColumn("{task.fields[state]}"))
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(model_id, total=None, speed="", eta="-", state="connecting")

        def show(p: InstallProgress) -> None:
            eta = "-" if p.eta_s is None else time.strftime("%H:%M:%S", time.gmtime(p.eta_s))
            bar.update(task, description=f"{p.model_id} {p.version}", total=p.total_bytes, completed=p.done_bytes,
                       speed=f"{_size(p.bytes_per_s)}/s", eta=eta, state=p.state)

        result = installer.install_detailed(model_id, version, show)
        if result.already_installed:
            bar.update(task, total=1, completed=1, state="already installed")
    m = result.model
    if result.already_installed:
        print(f"{m.model_id} {m.version} is already installed: {m.path}")
    else:
        resumed = f", {_size(result.resumed_bytes)} resumed" if result.resumed_bytes else ""
        print(f"installed {m.model_id} {m.version} ({_size(m.size_bytes)}; fetched {_size(result.fetched_bytes)}"
              f"{resumed}; {result.seconds:.1f} s): {m.path}")
    return 0


def _remove(store: ModelStore, model_id: str, version: str) -> int:
    from lingua.v1 import common_pb2
    from lingua_common.errors import LinguaError

    removed = store.remove(model_id, version or None)
    freed = 0 if version else store.clear_partials(model_id)
    if not removed and not freed:
        what = f"{model_id} {version}" if version else model_id
        raise LinguaError(common_pb2.MODEL_NOT_AVAILABLE, f"{what} is not installed in {store.root}")
    for m in removed:
        print(f"removed {m.model_id} {m.version} ({_size(m.size_bytes)})")
    if freed:
        print(f"deleted an unfinished download of {model_id} ({_size(freed)})")
    return 0


def _gc(store: ModelStore, keep: list[str], partials: bool) -> int:
    in_use = set()
    for item in keep:
        model_id, sep, version = item.partition("@")
        if not sep or not version:
            raise ValueError(f"--keep {item!r}: write MODEL@VERSION")
        in_use.add((model_id, version))
    removed = store.gc(in_use)
    freed = store.clear_partials() if partials else 0
    for m in removed:
        print(f"removed {m.model_id} {m.version} ({_size(m.size_bytes)})")
    if freed:
        print(f"deleted unfinished downloads ({_size(freed)})")
    if not removed and not freed:
        print("nothing to delete: only the newest version of each model is installed")
    return 0

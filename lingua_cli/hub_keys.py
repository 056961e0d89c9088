"""`lingua hub keygen | sign`: the hub's Ed25519 signing key, and signatures for the versions published before
the hub had one; `prepare_signing` wires a key pair for `lingua up`. The private key is only ever written to its
0600 file and read from there: never printed, never logged."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub_svc.config import HubSettings
    from lingua_common.signing import Signer

# Where `lingua hub keygen` writes by default, and where `lingua up` keeps its key pair.
DEFAULT_KEY_DIR = "data/keys"


def add_key_commands(hub_sub: Any) -> None:
    """`lingua hub keygen` and `lingua hub sign`, beside the other hub commands."""
    keygen = hub_sub.add_parser("keygen", help="make the hub's Ed25519 signing key pair (private key file 0600)")
    keygen.add_argument("--out", type=Path, default=Path(DEFAULT_KEY_DIR),
                        help=f"directory for hub_signing.key and hub_signing.pub (default {DEFAULT_KEY_DIR})")
    sign = hub_sub.add_parser("sign", help="sign the versions published before the hub had a signing key (works "
                                           "on the hub's own database and blobs)")
    sign.add_argument("--config", help="TOML file with a [hub] table (database_url, data_dir, signing_key)")
    sign.add_argument("--key", help="private key file (default: the hub's signing_key, $LINGUA_HUB_SIGNING_KEY)")
    sign.add_argument("--resign", action="store_true",
                      help="also re-sign the versions signed by another key (after a key rotation)")


def run_key_command(args: argparse.Namespace) -> int:
    return _keygen(args.out) if args.action == "keygen" else _sign(args)


def _keygen(out: Path) -> int:
    from lingua_common.signing import generate_key_pair, load_signer

    try:
        private_path, public_path = generate_key_pair(out)
        signer = load_signer(private_path)
    except (OSError, ValueError) as exc:
        print(f"lingua hub keygen: {exc}", file=sys.stderr)
        return 1
    public = public_path.read_text(encoding="ascii").strip()
    print(f"private key  {private_path}  (mode 0600; for the hub only: LINGUA_HUB_SIGNING_KEY={private_path})")
    print(f"public key   {public_path}  (key id {signer.key_id})")
    print(f"nodes        LINGUA_NODE_HUB_PUBLIC_KEY={public}")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from hub_svc.config import HubSettings
    from lingua_common.settings import load_settings
    from lingua_common.signing import load_signer

    try:
        settings = load_settings(HubSettings, "hub", args.config)
        key = args.key or settings.signing_key
        if not key:
            print("lingua hub sign: no signing key: pass --key or set LINGUA_HUB_SIGNING_KEY", file=sys.stderr)
            return 1
        signer = load_signer(key)
        signed, refused = sign_catalog(settings, signer, args.resign)
    except (OSError, ValueError) as exc:
        print(f"lingua hub sign: {exc}", file=sys.stderr)
        return 1
    for name in signed:
        print(f"signed {name} (key {signer.key_id})")
    for why in refused:
        print(f"lingua hub sign: not signed: {why}", file=sys.stderr)
    if not signed and not refused:
        print("nothing to sign: every version is signed" +
              ("" if args.resign else " (--resign re-signs those signed by another key)"))
    return 1 if refused else 0


def sign_catalog(settings: HubSettings, signer: Signer, resign: bool = False) -> tuple[list[str], list[str]]:
    """Sign the hub's unsigned versions whose stored blobs match their manifests: (signed, refused with why)."""
    from hub_svc.blobs import BlobStore
    from hub_svc.catalog import Catalog

    catalog = Catalog(settings.db_url())
    try:
        return catalog.sign_versions(signer, BlobStore(Path(settings.data_dir) / "blobs"), resign)
    finally:
        catalog.close()


def prepare_signing(env: dict[str, str], key_dir: str = DEFAULT_KEY_DIR) -> str:
    """For `lingua up`: the hub's signing key (the configured one, else a key pair made under `key_dir` on the
    first run) goes into `env` for the hub, its public key for the node (unless one is configured); versions
    published before signing existed are signed now. Returns a line for the user."""
    from hub_svc.config import HubSettings
    from lingua_common.settings import load_settings
    from lingua_common.signing import ensure_key_pair, load_signer, public_key_text
    from node_svc.config import NodeSettings

    hub = load_settings(HubSettings, "hub", env=env)
    if not hub.signing_key:
        hub.signing_key = str(ensure_key_pair(Path(key_dir))[0])
        env["LINGUA_HUB_SIGNING_KEY"] = hub.signing_key
    signer = load_signer(hub.signing_key)
    if not load_settings(NodeSettings, "node", env=env).hub_public_key:
        env["LINGUA_NODE_HUB_PUBLIC_KEY"] = public_key_text(signer.public_key)
    signed, refused = sign_catalog(hub, signer)
    for why in refused:
        print(f"lingua up: not signed, nodes will refuse it: {why}", file=sys.stderr)
    return f"signing key {signer.key_id} ({hub.signing_key})" + (
        f"; signed {len(signed)} earlier version(s)" if signed else "")

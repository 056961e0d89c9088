#!/usr/bin/env bash
# Installs the Debian packages real translation and speech need, when they are missing: Apertium with the
# language-pair packages Lingua publishes (lingua_common/model_format.py APERTIUM_PACKAGES: their modes end up
# in /usr/share/apertium/modes/), espeak-ng (speech for languages without a Piper voice) and sox.
# Idempotent and fast when everything is there. As root (or with passwordless sudo) on Debian/Ubuntu it runs
# `apt-get update` once and installs what is missing; otherwise, or when apt-get fails, it says what is missing
# and what then does not work, and exits 0: the mesh still starts with the phrasebook pairs.
# Set APERTIUM_MODES to look for the modes elsewhere, PYTHON to the interpreter that reads model_format.py.
set -euo pipefail
cd "$(dirname "$0")/.."

modes_dir="${APERTIUM_MODES:-/usr/share/apertium/modes}"
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || python=python3

# "package mode mode ..." per Apertium package, from the one list the hub importer and the node use.
pkg_modes="$("$python" -c '
import sys
sys.path.insert(0, ".")
from lingua_common.model_format import APERTIUM_PACKAGES
for p in APERTIUM_PACKAGES:
    print(p.package, *(m for _, _, m in p.modes))
')"

missing=()
command -v apertium >/dev/null || missing+=(apertium)
while read -r package modes; do
    for mode in $modes; do
        if [ ! -f "$modes_dir/$mode.mode" ]; then
            missing+=("$package")
            break
        fi
    done
done <<<"$pkg_modes"
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)

[ ${#missing[@]} -eq 0 ] && exit 0

explain() {
    echo "ensure_languages: missing Debian packages: ${missing[*]}" >&2
    echo "ensure_languages: the mesh still starts, without what they provide:" >&2
    case " ${missing[*]}" in *" apertium"*)
        echo "ensure_languages:   - the Apertium pairs: only the phrasebook pairs (en-fr, fr-en) translate" >&2;; esac
    case " ${missing[*]} " in *" espeak-ng "*)
        echo "ensure_languages:   - espeak-ng's own voices for languages without a Piper voice" >&2;; esac
    case " ${missing[*]} " in *" sox "*)
        echo "ensure_languages:   - sox (audio conversion)" >&2;; esac
    echo "ensure_languages: install them with:" >&2
    echo "ensure_languages:   sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
}

sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo="sudo -n"
    else
        echo "ensure_languages: not root (and no passwordless sudo): cannot apt-get install" >&2
        explain
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null; then
    echo "ensure_languages: no apt-get on this machine: cannot install the Debian packages" >&2
    explain
    exit 0
fi

echo "ensure_languages: installing ${missing[*]} (apt)"
if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
   ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
then
    echo "ensure_languages: apt-get failed" >&2
    explain
fi
exit 0

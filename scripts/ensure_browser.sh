#!/usr/bin/env bash
# Installs what the browser tests (tests/browser/) need, when it is missing: Chromium at /usr/bin/chromium
# (apt) and playwright-core (npm ci, pinned by tests/browser/package-lock.json; it downloads no browser).
# Idempotent: does nothing when both are there. Set CHROMIUM to use another Chromium binary.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM:-/usr/bin/chromium}"
apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "ensure_browser: need root (or sudo) to apt-get install $*" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x "$chromium" ]; then
    echo "ensure_browser: installing chromium (apt)"
    apt_install chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "ensure_browser: installing nodejs and npm (apt)"
    apt_install nodejs npm
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
    echo "ensure_browser: playwright-core needs node >= 20, found $(node --version)" >&2
    exit 1
fi

if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
    echo "ensure_browser: npm ci in tests/browser"
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi

#!/usr/bin/env bash
# Installs the real peers the tests talk to, idempotently, on a fresh Debian machine:
#   - promtool + prometheus (Debian package `prometheus`)
#   - a headless browser (Debian package `chromium`) for the outcome report's browser test
#   - a Python venv at .venv with rotel, opentelemetry-proto and securesystemslib (pinned in
#     scripts/requirements-peers.txt)
#   - cargo-deny (cargo install --locked) for the licence/bans/sources check
# Running it again when everything is present does nothing but check.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[install-peers] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages -----------------------------------------------------------------------
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
# The outcome report's HTML page is rendered by a real browser in a test
# (crates/outcome-analytics/tests/browser.rs); skipped when `chromium` is already on PATH.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  # The prometheus package may try to start its service; there is no init system to do so in
  # a container, which is fine: tests start their own instances.
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's package starts a prometheus server on :9090 where an init system exists; tests run
# their own on free ports, so a system one is only noise.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  as_root systemctl stop prometheus || true
fi
command -v promtool >/dev/null || { log "promtool still missing after install"; exit 1; }
command -v chromium >/dev/null || { log "chromium still missing after install"; exit 1; }

# Python peers --------------------------------------------------------------------------
venv="${STELLAOPS_PEERS_VENV:-$root/.venv}"
req="$root/scripts/requirements-peers.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating Python venv at $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
"$venv/bin/python" -c 'import opentelemetry.proto, securesystemslib.dsse, rotel, yaml' \
  || { log "Python peers do not import"; exit 1; }

# cargo tools ---------------------------------------------------------------------------
if ! cargo deny --version >/dev/null 2>&1; then
  log "cargo install --locked cargo-deny"
  cargo install --locked --quiet cargo-deny@0.20.2
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  log "cargo install --locked cargo-nextest"
  cargo install --locked --quiet cargo-nextest
fi
log "peers ready"

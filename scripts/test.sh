#!/usr/bin/env bash
# Runs everything CI runs, on a fresh machine as on a developer's: installs the peers, then
# format check, clippy (warnings are errors, all targets), rustdoc (warnings are errors),
# cargo deny (licences, bans, sources), and every test (nextest for unit, integration, bench
# smoke and example targets; cargo test for doctests), then runs the examples with no collector.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*" >&2; }

step "install peers"
bash scripts/install-peers.sh

step "cargo fmt --check"
cargo fmt --all --check

step "clippy -D warnings (all targets)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rustdoc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "cargo deny check licenses bans sources"
cargo deny --locked check licenses bans sources

step "tests (nextest)"
cargo nextest run --workspace --all-targets --locked --no-fail-fast

step "doctests"
cargo test --workspace --doc --locked

step "examples (no collector): the README's demo, the air-gapped and forensic flows"
# The demo must end with a verified bundle that holds nothing of the other tenants.
demo_out="$(env -u OTEL_EXPORTER_OTLP_ENDPOINT cargo run --locked -q --example demo)"
printf '%s\n' "$demo_out"
grep -q "records of other tenants: 0" <<<"$demo_out"
grep -q "^  bundle sha256   sha256:" <<<"$demo_out"
env -u OTEL_EXPORTER_OTLP_ENDPOINT cargo run --locked -q --example airgap_bundle
env -u OTEL_EXPORTER_OTLP_ENDPOINT cargo run --locked -q --example forensic_incident >/dev/null
env -u OTEL_EXPORTER_OTLP_ENDPOINT STELLAOPS_TELEMETRY_SPOOL_DIR=target/quickstart-spool \
  cargo run --locked -q --example quickstart >/dev/null

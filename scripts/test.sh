#!/usr/bin/env bash
# Runs everything CI runs, on a fresh machine as on a developer's: installs the peers, then
# format check, clippy (warnings are errors, all targets), rustdoc (warnings are errors),
# cargo deny (licences, bans, sources), and every test (nextest for unit, integration, bench
# smoke and example targets; cargo test for doctests).
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

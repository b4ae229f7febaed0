#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what it needs, starts the
# servers its tests use on 127.0.0.1, and stops them afterwards.
#
#   tests/run_all.sh            # everything
#
# Benchmarks are separate (bench/run.sh): tests never assert on timings.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "format check"
cargo fmt --all -- --check

step "Rust: unit and integration tests (the simulator runs in-process on 127.0.0.1)"
cargo test --workspace --locked

step "all tests passed"

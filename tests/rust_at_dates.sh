#!/usr/bin/env bash
# Runs the Rust test suites (unit and integration) with the system clock set to other dates,
# so a test that depends on today's date fails here rather than on the day the calendar
# reaches it. The clock is moved for the test processes only, by libfaketime (Debian's
# `faketime`, installed when missing); it starts at the given time and runs on from there.
#
#   tests/rust_at_dates.sh '2028-02-29 23:58:00' '2026-12-31 23:59:00' ...
#
# Build first (tests/run_all.sh does): the test binaries are compiled with the real clock,
# then run under the fake one, so cargo's own bookkeeping never sees a false time. Timers
# and timeouts use the monotonic clock, which is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: tests/rust_at_dates.sh 'YYYY-MM-DD HH:MM:SS' ..." >&2; exit 2; }

if ! command -v faketime >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends faketime
fi

# The test executables of the workspace, built with the feature set the suite uses.
mapfile -t binaries < <(cargo test --workspace --locked --features aws --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["executable"])')
[ ${#binaries[@]} -ge 2 ] || { echo "no test executables found (build failed?)" >&2; exit 1; }

export TZ=UTC FAKETIME_DONT_FAKE_MONOTONIC=1
for when in "$@"; do
  # A run under a clock that did not move would prove nothing: check that it does here.
  seen=$(faketime "$when" date -u +%F)
  [ "$seen" = "${when:0:10}" ] || { echo "faketime did not set the clock to $when (date says $seen)" >&2; exit 1; }
  printf '\n--- Rust tests with the system clock starting at %s UTC\n' "$when"
  for bin in "${binaries[@]}"; do
    # cargo runs a package's tests in its directory; the tests find ../shared from there.
    (cd function && faketime "$when" "$bin" -q)
  done
done

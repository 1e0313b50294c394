#!/usr/bin/env bash
# Runs each fuzz target for a short, bounded time: the CI leg of the fuzzing campaign.
#
#   bash fuzz/ci.sh [seconds-per-target]     (default 25; FUZZ_SECONDS works too)
#
# Installs cargo-fuzz (pinned) if it is missing, builds the three targets, then runs each from its
# checked-in seeds (fuzz/seeds/<target>/) in a throwaway corpus directory. Exits non-zero if any target
# finds a crash, a timeout or an out-of-memory; libFuzzer leaves the input under fuzz/artifacts/<target>/.
# A cold run (install cargo-fuzz + build + 3 x 25 s) took 3 min 54 s on the idle 2-core machine
# (install 50 s, build 1 min 42 s), and about 9.5 minutes while other builds shared the cores.
set -euo pipefail

SECS="${1:-${FUZZ_SECONDS:-25}}"
CARGO_FUZZ_VERSION=0.13.2
TARGETS=(refresh_token wire_ops jwt_verify)

cd "$(dirname "$0")"

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# cargo-fuzz compiles with nightly-only flags (-Zsanitizer=address, sancov passes). The machine has one
# stable toolchain and no other can be fetched, so the flags are unlocked on it.
export RUSTC_BOOTSTRAP=1

cargo fuzz build

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
for t in "${TARGETS[@]}"; do
    mkdir -p "$work/$t"
    echo "== fuzz $t for ${SECS}s"
    if cargo fuzz run "$t" "$work/$t" "seeds/$t" -- \
        -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -max_len=8192 \
        -print_final_stats=1 2>"$work/$t.log"; then
        grep -E '^(Done |stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$t.log" || true
        passed=$((passed + 1))
    else
        tail -n 80 "$work/$t.log"
        echo "fuzz target $t failed; the input is under fuzz/artifacts/$t/"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

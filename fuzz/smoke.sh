#!/usr/bin/env bash
# CI smoke run of the fuzz targets: build them (AddressSanitizer, debug assertions), replay the
# seed corpus and every past crash in regressions/, then fuzz each target for a short time.
# Exits non-zero when a target fails to build, crashes, panics, leaks or hangs.
#
#   bash fuzz/smoke.sh            # 20 seconds per target
#   FUZZ_SECONDS=30 bash fuzz/smoke.sh
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. The targets build into fuzz/target, never the shared target dir.
set -euo pipefail
cd "$(dirname "$0")"
unset CARGO_TARGET_DIR
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo fuzz build -O -a
mkdir -p target/smoke
failed=()
for target in $(cargo fuzz list); do
    work="target/smoke/$target"
    rm -rf "$work" && mkdir -p "$work/corpus"
    log="$work/fuzz.log"
    if cargo fuzz run -O -a "$target" "$work/corpus" "corpus/$target" "regressions/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        echo "fuzz $target: ok: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)"
    else
        echo "fuzz $target: FAILED (log: fuzz/$log)"
        grep -E -A12 "panicked at|^SUMMARY|ERROR: libFuzzer|Test unit written" "$log" | head -40 || true
        failed+=("$target")
    fi
done
# The plan and move_state targets' scratch folders (one per fuzzing process); keep those of
# live processes.
for dir in /dev/shm/t2t-fuzz-{plan,move-state}-* "${TMPDIR:-/tmp}"/t2t-fuzz-{plan,move-state}-*; do
    [ -d "$dir" ] || continue
    kill -0 "${dir##*-}" 2>/dev/null || rm -rf "$dir"
done
if ((${#failed[@]})); then
    echo "fuzz smoke failed: ${failed[*]}; reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a TARGET fuzz/artifacts/TARGET/crash-..." >&2
    exit 1
fi

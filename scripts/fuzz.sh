#!/usr/bin/env bash
# Run the cargo-fuzz (libFuzzer) targets in fuzz/ for SECONDS each (default
# 600), every target or those named, one after another, and print one
# summary line per target (exec/s, coverage, new corpus entries,
# oom/timeout/crash counts, artifacts saved).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# fuzz/corpus/<target>/ is the committed seed set and is only read: new
# corpus entries, crash/timeout/oom artifacts and logs go to $FUZZ_RUNS
# (default /work/fuzz-runs if it exists, else ./fuzz-runs), never into git.
# FUZZ_TARGET_DIR (default fuzz/target) is cargo-fuzz's build dir; FUZZ_JOBS
# (default 1) runs that many libFuzzer workers per target.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and nightly features: on a
# stable toolchain RUSTC_BOOTSTRAP=1 unlocks them (set here).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
[ $# -gt 0 ] && shift
all=(layer image catalog sbom yaml dockerfile feeds policy sign)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
if [ -z "${FUZZ_RUNS:-}" ]; then
    if [ -d /work/fuzz-runs ]; then FUZZ_RUNS=/work/fuzz-runs; else FUZZ_RUNS=$root/fuzz-runs; fi
fi
target_dir=${FUZZ_TARGET_DIR:-$root/fuzz/target}
jobs=${FUZZ_JOBS:-1}
# Fork mode: a crash, timeout or OOM is saved as an artifact and the run
# goes on, so one known issue does not stop a long run.
par="-fork=$jobs -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
export RUSTC_BOOTSTRAP=1
mkdir -p "$FUZZ_RUNS"

cd "$root/fuzz"
cargo fuzz build --target-dir "$target_dir" >&2
bin_dir=$(ls -d "$target_dir"/*/release | head -n1)

for t in "${targets[@]}"; do
    run=$FUZZ_RUNS/$t
    mkdir -p "$run/corpus" "$run/artifacts"
    log=$run/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log
    before=$(find "$run/corpus" -type f | wc -l)
    # New entries go to the first corpus dir (the run's own); the committed
    # seeds are read as a second one.
    set +e
    # shellcheck disable=SC2086
    "$bin_dir/$t" "$run/corpus" "$root/fuzz/corpus/$t" \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=1048576 \
        $par -print_final_stats=1 \
        -artifact_prefix="$run/artifacts/" >"$log" 2>&1
    rc=$?
    set -e
    after=$(find "$run/corpus" -type f | wc -l)
    # Fork mode's status line: "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: a/b/c time: Ts"
    last=$(grep -hE '^#[0-9]+: cov: ' "$log" | tail -n1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    eps=$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$last")
    otc=$(sed -nE 's/.* oom\/timeout\/crash: ([0-9/]+).*/\1/p' <<<"$last")
    printf '%-11s %6ss  exec/s %-6s cov %-6s new-corpus %-5s oom/timeout/crash %-7s artifacts %-3s exit %s  %s\n' \
        "$t" "$secs" "${eps:-?}" "${cov:-?}" "$((after - before))" "${otc:-?}" \
        "$(find "$run/artifacts" -type f | wc -l)" "$rc" "$log"
done

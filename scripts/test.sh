#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the tests run
# for real (the CNCF registry, skopeo, ...), then every crate's tests.
# Extra arguments go to `cargo test` (e.g. scripts/test.sh -p bosun-oci).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
export BOSUN_FIXTURES=${BOSUN_FIXTURES:-$(cd .. && pwd)/shared/fixtures}
if [ ! -d "$BOSUN_FIXTURES" ]; then
  echo "test.sh: fixtures not found at $BOSUN_FIXTURES (set BOSUN_FIXTURES)" >&2
  [ "${CI:-}" = true ] && exit 1
fi
cargo fmt --all -- --check
cargo test --workspace --locked "$@"

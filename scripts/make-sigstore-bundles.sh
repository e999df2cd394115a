#!/usr/bin/env bash
# Regenerates crates/bosun/tests/data/sigstore-clients/: Sigstore bundles made
# by the real sigstore-js (library and CLI) and sigstore-python clients
# against a local mock Sigstore (@sigstore/mock's Fulcio, CT log, Rekor v1 and
# TSA behind HTTP servers on 127.0.0.1), the trusted_root.json for that mock,
# and the verdicts of sigstore-js's and sigstore-python's own verifiers.
#
# Run by hand, once (not in CI): the keys are ephemeral, so every run makes
# new bundles and a new root. Network: the npm and PyPI registries only, for
# the installs; the verification runs in an empty network namespace when
# `unshare -n` is available.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/crates/bosun/tests/data/sigstore-clients
WORK=${SIGSTORE_WORK:-/tmp/bosun-sigstore-clients}
# Pinned so a rerun uses what README.md names.
SIGSTORE_JS=4.1.1
SIGSTORE_CLI=0.8.1
SIGSTORE_MOCK=0.12.1
SIGSTORE_PY=4.5.1

mkdir -p "$WORK/js" "$OUT"
if [ ! -f "$WORK/js/package.json" ]; then
  (cd "$WORK/js" && npm init -y >/dev/null)
fi
(cd "$WORK/js" && npm install --no-audit --no-fund \
  "sigstore@$SIGSTORE_JS" "@sigstore/cli@$SIGSTORE_CLI" "@sigstore/mock@$SIGSTORE_MOCK")
if [ ! -x "$WORK/py/bin/sigstore" ]; then
  python3 -m venv "$WORK/py"
fi
"$WORK/py/bin/pip" install -q "sigstore==$SIGSTORE_PY"
PY_SIGSTORE=$WORK/py/bin/sigstore

rm -f "$OUT"/*.sigstore.json "$OUT"/PROOF-*.txt
SIGJS_DIR=$WORK/js OUT=$OUT SIGSTORE_PY=$PY_SIGSTORE node "$ROOT/scripts/sigstore/make-bundles.mjs"

# sigstore-python as a verifier, offline, with a trust config that wraps the
# mock's trusted_root.json. Each bundle must pass as made and fail with a
# wrong identity, a wrong issuer, a modified artifact, and the public-good
# root (sigstore-python's embedded production root) instead of the mock's.
offline=()
if unshare -n true 2>/dev/null; then
  offline=(unshare -n)
fi
IDENTITY=https://github.com/bosun-test/signer/.github/workflows/release.yml@refs/heads/main
ISSUER=https://token.actions.githubusercontent.com
tampered=$(mktemp)
trap 'rm -f "$tampered"' EXIT
{ cat "$OUT/artifact.txt"; printf 'tampered\n'; } >"$tampered"

# verdict EXPECTED WHAT COMMAND...: runs COMMAND, prints its verdict, the
# reason sigstore-python gave for a failure, and whether it was expected.
verdict() {
  local want=$1 what=$2
  shift 2
  local got why="" mark=ok
  if COLUMNS=400 "${offline[@]}" "$@" >/dev/null 2>"$WORK/stderr"; then got=PASS; else got=FAIL; fi
  if [ "$got" = FAIL ]; then
    why=" ($(grep ERROR "$WORK/stderr" | tail -n 1 | sed -E 's/^.*ERROR +//; s/ +[a-z_]+\.py:[0-9]+ *$//'))"
  fi
  if [ "$got" != "$want" ]; then mark=UNEXPECTED; fi
  echo "$bundle: $what: $got$why [$mark]"
}

{
  echo "sigstore-python $SIGSTORE_PY, offline (${offline[*]:-no unshare}), verify identity --offline"
  for path in "$OUT"/*.sigstore.json; do
    bundle=$(basename "$path")
    verify=("$PY_SIGSTORE" --trust-config "$OUT/client_trust_config.json" verify identity --offline --bundle "$path")
    # sigstore-python does not support Rekor intoto 0.0.2 entries (the
    # sigstore-conformance suite marks that xfail for it too).
    if grep -Eq '"kind": ?"intoto"' "$path"; then as_made=FAIL; else as_made=PASS; fi
    verdict $as_made "as made" "${verify[@]}" --cert-identity "$IDENTITY" --cert-oidc-issuer "$ISSUER" "$OUT/artifact.txt"
    verdict FAIL "wrong identity" "${verify[@]}" --cert-identity "${IDENTITY}x" --cert-oidc-issuer "$ISSUER" "$OUT/artifact.txt"
    verdict FAIL "wrong issuer" "${verify[@]}" --cert-identity "$IDENTITY" --cert-oidc-issuer https://accounts.google.com "$OUT/artifact.txt"
    verdict FAIL "modified artifact" "${verify[@]}" --cert-identity "$IDENTITY" --cert-oidc-issuer "$ISSUER" "$tampered"
    verdict FAIL "public-good root" "$PY_SIGSTORE" verify identity --offline --bundle "$path" \
      --cert-identity "$IDENTITY" --cert-oidc-issuer "$ISSUER" "$OUT/artifact.txt"
  done
} | tee "$OUT/PROOF-sigstore-python.txt"

{
  echo "versions: sigstore-js $SIGSTORE_JS (node $(node --version)), @sigstore/cli $SIGSTORE_CLI, @sigstore/mock $SIGSTORE_MOCK, sigstore-python $SIGSTORE_PY"
  cat "$OUT/PROOF-sigstore-js.txt"
} >"$OUT/PROOF-sigstore-js.txt.new"
mv "$OUT/PROOF-sigstore-js.txt.new" "$OUT/PROOF-sigstore-js.txt"

if grep -q UNEXPECTED "$OUT"/PROOF-*.txt; then
  echo "some verdicts are not as expected; see $OUT/PROOF-*.txt" >&2
  exit 1
fi
du -sh "$OUT"

#!/usr/bin/env bash
# Install the system tools the test suites run for real: the CNCF
# distribution registry, skopeo (to copy fixture images into it), htpasswd
# (bcrypt password files for the registry's basic auth), openssl, Go (an
# independent encoding/json for cosign payloads), dpkg (version oracle, and
# dpkg-deb to build real packages) and rpm (rpmbuild and rpm --root, to
# build and install real rpm packages).
# Idempotent: installs only what is missing, runs `apt-get update` at most once.
set -euo pipefail

# Python modules the key tests cross-check bosun's output with (PyNaCl and
# cryptography decrypt cosign-format keys and verify signatures independently).
python_modules=(nacl:pynacl cryptography:cryptography)
for m in "${python_modules[@]}"; do
  if ! python3 -c "import ${m%%:*}" >/dev/null 2>&1; then
    echo "test-deps: pip installing ${m##*:}"
    python3 -m pip install -q "${m##*:}" >/dev/null
  fi
done

# command name -> Debian package
declare -A wanted=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [go]=golang-go
  [dpkg]=dpkg
  [dpkg-deb]=dpkg
  [rpmbuild]=rpm
)

missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
else
  sudo_cmd=()
fi

echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# An install straight from the cached lists may fail on a stale or empty list;
# refresh once and retry.
if ! "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian package starts a registry service on :5000 where an init system
# runs; the tests start their own, so stop it if it came up.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  "${sudo_cmd[@]}" systemctl stop docker-registry || true
fi

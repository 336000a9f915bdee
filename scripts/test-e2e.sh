#!/usr/bin/env bash
# `npm run test:e2e`: the end-to-end suites that need more than workerd (test/e2e/): nginx
# `auth_request` and Caddy `forward_auth`, each a real proxy in front of the real gateway.
#
# The suites drive Debian's nginx and caddy. Whichever is not installed is installed first from
# Debian's packages (scripts/lib/debian-package.sh: root or passwordless sudo, no daemon left
# running, bounded in time).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/debian-package.sh

find_bin() {
  PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$1" 2>/dev/null || true
}

missing=()
for pkg in nginx caddy; do
  if [ -z "$(find_bin "$pkg")" ]; then missing+=("$pkg"); fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  # Bounded more tightly than the helper's default: two small packages.
  APT_TIMEOUT_S="${APT_TIMEOUT_S:-300}" install_debian_packages test:e2e "${missing[@]}"
  for pkg in "${missing[@]}"; do
    if [ -z "$(find_bin "$pkg")" ]; then
      echo "test:e2e: apt-get finished but no $pkg binary is on PATH or in /usr/sbin" >&2
      exit 1
    fi
  done
fi

# Each suite cleans up after itself on success, failure, its own deadline and SIGINT/SIGTERM. This
# wrapper covers what it cannot: a hard kill (SIGKILL, OOM) would orphan workerd and the proxy and
# leave temp files. So each suite runs in its own session (process group = its pid) with TMPDIR in
# a folder of its own; afterwards whatever is left of that group is killed and the folder removed.
# `node --import tsx` rather than the tsx CLI: the CLI SIGKILLs a child that does not acknowledge
# a relayed signal within 30 ms, which would skip the suite's own cleanup.
# Both suites run to the end even when the one before failed; the exit code is the first failure's.
run_suite() {
  local suite="$1"
  shift
  echo "== $suite"
  local run_dir
  run_dir="$(mktemp -d "${TMPDIR:-/tmp}/ghes-token-gateway-e2e-run.XXXXXX")"
  TMPDIR="$run_dir" setsid node --import tsx "$suite" "$@" &
  pid=$!
  local status=0
  wait "$pid" || status=$?
  # A trapped signal ends `wait` early; let the suite finish its own teardown first.
  while kill -0 "$pid" 2>/dev/null; do wait "$pid" || status=$?; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  pid=""
  rm -rf "$run_dir"
  if [ "$status" -gt 128 ]; then
    echo "test:e2e: $suite was ended by signal $((status - 128)) (exit $status)" >&2
  fi
  return "$status"
}

pid=""
interrupted=""
trap 'interrupted=1; if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi' INT TERM
result=0
for suite in test/e2e/nginx.e2e.node.ts test/e2e/caddy.e2e.node.ts; do
  status=0
  run_suite "$suite" "$@" || status=$?
  if [ "$result" -eq 0 ]; then result="$status"; fi
  if [ -n "$interrupted" ]; then break; fi
done
exit "$result"

#!/usr/bin/env bash
# `npm run test:e2e`: the end-to-end suites that need more than workerd (test/e2e/).
#
# The nginx suite drives Debian's nginx. When `nginx` is not installed this installs Debian's
# package first (root, or passwordless sudo). Package post-install scripts normally start the
# system nginx on port 80; a temporary /usr/sbin/policy-rc.d that denies service starts keeps the
# install from leaving a daemon behind (it is removed again, and left alone where it already
# existed, as in most container images). `apt-get update` runs only when the install fails on a
# stale package index.
set -euo pipefail
cd "$(dirname "$0")/.."

find_nginx() {
  PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v nginx 2>/dev/null || true
}

if [ -z "$(find_nginx)" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "test:e2e needs nginx: install Debian's 'nginx' package, or run as root / with passwordless sudo" >&2
    exit 1
  fi
  echo "== installing Debian's nginx (apt-get)"
  # The whole install is bounded: a hung mirror must not hang CI.
  timeout 300 "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive sh -eu -c '
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      guard=1
    fi
    trap "if [ -n \"\$guard\" ]; then rm -f /usr/sbin/policy-rc.d; fi" EXIT
    install() { apt-get install -y -q --no-install-recommends nginx; }
    install || { apt-get update -q && install; }
  '
  if [ -z "$(find_nginx)" ]; then
    echo "test:e2e: apt-get finished but no nginx binary is on PATH or in /usr/sbin" >&2
    exit 1
  fi
fi

# The suite cleans up after itself on success, failure, its own deadline and SIGINT/SIGTERM. This
# wrapper covers what it cannot: a hard kill (SIGKILL, OOM) would orphan workerd and nginx and
# leave temp files. So the suite runs in its own session (process group = its pid) with TMPDIR in
# a folder of its own; afterwards whatever is left of that group is killed and the folder removed.
# `node --import tsx` rather than the tsx CLI: the CLI SIGKILLs a child that does not acknowledge
# a relayed signal within 30 ms, which would skip the suite's own cleanup.
run_dir="$(mktemp -d "${TMPDIR:-/tmp}/ghes-token-gateway-e2e-run.XXXXXX")"
TMPDIR="$run_dir" setsid node --import tsx test/e2e/nginx.e2e.node.ts "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
status=0
wait "$pid" || status=$?
# A trapped signal ends `wait` early; let the suite finish its own teardown first.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || status=$?; done
kill -KILL -- "-$pid" 2>/dev/null || true
rm -rf "$run_dir"
if [ "$status" -gt 128 ]; then
  echo "test:e2e: the suite was ended by signal $((status - 128)) (exit $status)" >&2
fi
exit "$status"

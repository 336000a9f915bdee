#!/usr/bin/env bash
# `npm run test:browser`: test/browser/docs.node.ts, Debian's headless Chromium (driven by
# playwright-core; Playwright's own browser download is not used) against GET /docs of the
# gateway as `npm start` runs it. Installs Debian's chromium first when it is missing
# (scripts/lib/debian-package.sh). CHROMIUM=/path/to/chromium runs another build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/debian-package.sh

chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ]; then
  install_debian_packages test:browser chromium
  if [ ! -x "$chromium_bin" ]; then
    echo "test:browser: apt-get finished but there is no $chromium_bin" >&2
    exit 1
  fi
fi

# The suite stops the gateway and the browser itself on success, failure, its deadline and
# SIGINT/SIGTERM. For a hard kill it runs in a session of its own (session id = its pid) with
# TMPDIR in a folder of its own: afterwards whatever is left in that session is killed (wrangler
# runs in a process group of its own, so the session, not the group) and the folder removed.
run_dir="$(mktemp -d "${TMPDIR:-/tmp}/ghes-token-gateway-browser-run.XXXXXX")"
TMPDIR="$run_dir" setsid node --import tsx test/browser/docs.node.ts "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
status=0
wait "$pid" || status=$?
# A trapped signal ends `wait` early; let the suite finish its own teardown first.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || status=$?; done
pkill -KILL -s "$pid" 2>/dev/null || true
rm -rf "$run_dir"
if [ "$status" -gt 128 ]; then
  echo "test:browser: the suite was ended by signal $((status - 128)) (exit $status)" >&2
fi
exit "$status"

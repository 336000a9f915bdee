# Sourced by the test scripts that need programs from Debian (scripts/test-e2e.sh,
# scripts/test-browser.sh).
#
# install_debian_packages WHO PACKAGE...: installs Debian's PACKAGEs in one apt-get run, as root or
# with passwordless sudo, bounded by `timeout` (APT_TIMEOUT_S, default 600 s) so that a hung mirror
# cannot hang CI. A temporary /usr/sbin/policy-rc.d that denies service starts keeps post-install
# scripts (nginx's and caddy's start the system service on port 80) from leaving a daemon behind
# (removed again; left alone where it already existed). `apt-get update` runs only when the install
# fails on a stale package index.
install_debian_packages() {
  local who="$1"
  shift
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      echo "$who needs Debian's package(s) $*: install them, or run as root / with passwordless sudo" >&2
      return 1
    fi
  fi
  echo "== installing Debian's $* (apt-get)"
  timeout "${APT_TIMEOUT_S:-600}" "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive sh -eu -c '
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      guard=1
    fi
    trap "if [ -n \"\$guard\" ]; then rm -f /usr/sbin/policy-rc.d; fi" EXIT
    install() { apt-get install -y -q --no-install-recommends "$@"; }
    install "$@" || { apt-get update -q && install "$@"; }
  ' sh "$@"
}

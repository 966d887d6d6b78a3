#!/usr/bin/env bash
# README's test command, and what .ci/run runs: installs the Debian packages the integration
# tests talk to when they are missing (Postfix's smtp-sink, Chromium, openssl, aiosmtpd), then
# runs every test. No suite is skipped: a test whose tool is missing fails and names the package.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh --test testsuite send::`).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v smtp-sink >/dev/null 2>&1 || [ -x /usr/sbin/smtp-sink ] || need_apt+=(postfix)
[ -x /usr/bin/chromium ] || [ -n "${T2T_CHROMIUM:-}" ] || need_apt+=(chromium)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need_apt+=(python3-aiosmtpd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing the Debian packages the tests need: ${need_apt[*]}" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "scripts/test.sh: run as root or install sudo, or install them yourself: apt-get install ${need_apt[*]}" >&2
      exit 1
    }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

cargo test --locked "$@"

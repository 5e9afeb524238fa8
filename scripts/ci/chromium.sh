#!/usr/bin/env bash
# Installs Debian's chromium for `rethink ui`'s browser tests (test/ui/browser.test.ts drives
# /usr/bin/chromium with playwright-core; nothing is downloaded by playwright itself).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --version
  exit 0
fi
SUDO=$([ "$(id -u)" = 0 ] && echo || echo sudo)
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium
/usr/bin/chromium --version

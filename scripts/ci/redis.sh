#!/usr/bin/env bash
# Installs redis-server for the queue executor's tests (Debian). Nothing is started here: each test
# file starts its own private server on a free loopback port (test/support/redis.ts).
set -euo pipefail
if command -v redis-server >/dev/null; then
  redis-server --version
  exit 0
fi
SUDO=$([ "$(id -u)" = 0 ] && echo || echo sudo)
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server
redis-server --version

#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe/llvmpipe) from Debian bookworm-backports so that Dawn
# (the `webgpu` npm package) finds an adapter on machines without a GPU. Bookworm's own Mesa 22 is rejected
# by Dawn ("shaderUniform*ArrayDynamicIndexing required"); Mesa 25 from backports works. Idempotent.
set -euo pipefail
if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^25\.'; then
  echo "mesa-vulkan-drivers 25 already installed"; exit 0
fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
src=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' | $sudo tee "$src" >/dev/null
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
dpkg-query -W -f='mesa-vulkan-drivers ${Version}\n' mesa-vulkan-drivers

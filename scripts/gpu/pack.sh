#!/usr/bin/env bash
# Builds .gpu/: the benchmark bundled with Node, Dawn and the Vulkan loader (../shared/gpu/pack-gpu-bundle.sh)
# plus PyTorch's anchor script, since ../shared does not travel to the GPU machine. Run from the project root;
# then on the device: `bash scripts/gpu/device.sh` with carry [".gpu"].
set -euo pipefail
shared=${SHARED:-../shared}
[ -d /var/lib/apt/lists ] && ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1 || apt-get update -qq
bash "$shared/gpu/pack-gpu-bundle.sh" scripts/gpu/bench.ts .gpu
cp "$shared/anchors/torch_bench.py" .gpu/torch_bench.py
# A local `bash .gpu/run.sh` leaves the unpacked node (≈95 MB) beside node.xz; the device carry holds 64 MiB.
rm -f .gpu/node
echo "packed: $(du -sh .gpu | cut -f1)"

#!/usr/bin/env bash
# Builds .gpu/: the benchmark bundled with Node, Dawn and the Vulkan loader (../shared/gpu/pack-gpu-bundle.sh)
# plus PyTorch's anchor script, since ../shared does not travel to the GPU machine, and fit.ts's bundle and data. Run from the project root;
# then on the device: `bash scripts/gpu/device.sh` with carry [".gpu"].
set -euo pipefail
shared=${SHARED:-../shared}
[ -d /var/lib/apt/lists ] && ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1 || apt-get update -qq
bash "$shared/gpu/pack-gpu-bundle.sh" scripts/gpu/bench.ts .gpu
cp "$shared/anchors/torch_bench.py" .gpu/torch_bench.py
# The product's training loop on real data (scripts/gpu/fit.ts): a second entry beside app.mjs, with the
# same esbuild flags, its own launcher, and 12,000 Fashion-MNIST images (≈5 MB).
npx --yes esbuild@0.28 scripts/gpu/fit.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile=.gpu/fit.mjs --external:webgpu --external:'*.node' --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
sed 's/app\.mjs/fit.mjs/g' .gpu/run.sh > .gpu/run-fit.sh
[ -f .gpu/fit.bin.gz ] || node --import tsx scripts/gpu/make-fit-data.ts .gpu/fit.bin.gz
# A local `bash .gpu/run.sh` leaves the unpacked node (≈95 MB) beside node.xz; the device carry holds 64 MiB.
rm -f .gpu/node
echo "packed: $(du -sh .gpu | cut -f1)"

#!/usr/bin/env bash
# One device call (≈280 s on an H200): the paper's Figure 1a through the product's training loop on the GPU
# (scripts/gpu/fit.ts, bundled as .gpu/fit.mjs with its data by scripts/gpu/pack.sh). First which
# backend `auto` picks there (one short MLP run), then small Inception with batch norm, small AlexNet and
# MLP 1x512 fitting random and true labels of 10,000 Fashion-MNIST images, each run stopped at 100%
# online train accuracy or its time. Run with the device tool, carry [".gpu"]; results in $OUT as they come.
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
ls /dev | grep -E '^(nvidia|dri)' | head -3 | tee -a "$out/gpu.txt"
timeout 40 bash .gpu/run-fit.sh --data fit.bin.gz --backend auto --models mlp_1x512 --kinds true --max-epochs 2 \
  2>"$out/auto.err" | tee "$out/auto.jsonl" | cut -c1-300
timeout "${T_FIT:-270}" bash .gpu/run-fit.sh --data fit.bin.gz --backend webgpu --models small_inception_bn,small_alexnet,mlp_1x512 \
  --kinds random,true --max-epochs 400 --run-seconds "${RUN_SECONDS:-30,small_inception_bn=75}" \
  2>"$out/fit.err" | tee "$out/fit.jsonl" | grep -v '"kind":"epoch"' | cut -c1-400
tail -c 2000 "$out/auto.err" "$out/fit.err"

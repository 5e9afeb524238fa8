#!/usr/bin/env bash
# One device call (≈250 s on an H200) for the fewer-kernel-calls work: on one GPU, back to back,
#   fused  — this project's training step: fused bias+ReLU layers, compact loss, fused momentum update;
#   PyTorch's torch_bench.py --device cuda at batch 128 and 1024;
#   before — the previous step: tfjs layers path, tf.losses.softmaxCrossEntropy, tf.train.momentum
#            (both tfjs variants with this project's WebGPU conv kernels).
# Bundle from scripts/gpu/pack.sh in .gpu/; run with the device tool, carry [".gpu"]. Raw results go to
# $OUT as they come (a cut-short call still returns them), then $OUT/summary.md.
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
errs=$(mktemp -d)
models=${MODELS:-small_alexnet,small_inception,small_inception_bn,mlp_1x512}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
bench() { # name timeout args...
  local name=$1 t=$2; shift 2
  timeout "$t" bash .gpu/run.sh "$@" 2>"$errs/$name.err" | tee "$out/$name.jsonl" | cut -c1-240
}
bench fused "${T_FUSED:-90}" --models "$models" --seconds 1 --profile
for b in 128 1024; do
  PYTHONUNBUFFERED=1 timeout "${T_TORCH:-30}" python3 .gpu/torch_bench.py --device cuda --batch "$b" --steps 20 \
    --models alexnet_small,inception_small,inception_small_nobn,mlp_1x512 2>&1 | tee "$out/torch$b.txt"
done
bench before "${T_BEFORE:-80}" --models "$models" --seconds 1 --optimizer tfjs --fuse-layers off
LABELS=before,fused .gpu/node scripts/gpu/summarize.mjs "$out/before.jsonl" "$out/fused.jsonl" "$out/torch128.txt" "$out/torch1024.txt" | tee "$out/summary.md"
tail -c 3000 "$errs"/*.err > "$out/errors.txt" 2>/dev/null

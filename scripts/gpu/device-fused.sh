#!/usr/bin/env bash
# One device call (≈260 s on an H200) for the fewer-kernel-calls work: on one GPU, back to back,
#   fused  — this project's training step: fused bias+ReLU layers, compact loss, fused momentum update;
#   before — the previous step: tfjs layers path, tf.losses.softmaxCrossEntropy, tf.train.momentum
#            (both with this project's WebGPU conv kernels);
#   PyTorch's torch_bench.py --device cuda at batch 128 and 1024.
# Bundle from scripts/gpu/pack.sh in .gpu/; run with the device tool, carry [".gpu"]. Leaves $OUT/summary.md
# and $OUT/logs.tgz.
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
logs=$(mktemp -d)
models=${MODELS:-small_alexnet,small_inception,small_inception_bn,mlp_1x512}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | tee "$logs/gpu.txt"
bench() { # name timeout args...
  local name=$1 t=$2; shift 2
  timeout "$t" bash .gpu/run.sh "$@" 2>"$logs/$name.err" | tee "$logs/$name.jsonl" | cut -c1-240
}
bench fused "${T_FUSED:-95}" --models "$models" --seconds 1 --profile
bench before "${T_BEFORE:-85}" --models "$models" --seconds 1 --optimizer tfjs --fuse-layers off
for b in 128 1024; do
  PYTHONUNBUFFERED=1 timeout "${T_TORCH:-35}" python3 .gpu/torch_bench.py --device cuda --batch "$b" --steps 20 \
    --models alexnet_small,inception_small,inception_small_nobn,mlp_1x512 2>&1 | tee "$logs/torch$b.txt"
done
LABELS=before,fused .gpu/node scripts/gpu/summarize.mjs "$logs/fused.jsonl" "$logs/before.jsonl" "$logs/torch128.txt" "$logs/torch1024.txt" | tee "$out/summary.md"
grep -h '"kind":"throughput"' "$logs/fused.jsonl" "$logs/before.jsonl" | cut -c1-200 >> "$out/summary.md"
tar -C "$logs" -czf "$out/logs.tgz" .

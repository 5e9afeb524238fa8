#!/usr/bin/env bash
# Runs on the GPU machine from the project root (bundle in .gpu/, made by scripts/gpu/pack.sh):
# WebGPU benchmark with our kernels, PyTorch's anchor on the same GPU, then tfjs's stock kernels,
# each phase time-boxed; logs go to $OUT (or .gpu/out) and a summary table is printed last.
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
models=${MODELS:-mlp_1x512,mlp_3x512,small_alexnet,small_inception,small_inception_bn}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
timeout "${T_RETHINK:-110}" bash .gpu/run.sh --kernels rethink --models "$models" --profile --overhead ${RETHINK_ARGS:-} \
  2>"$out/rethink.err" | tee "$out/rethink.jsonl"
for b in 128 1024; do
  PYTHONUNBUFFERED=1 timeout "${T_TORCH:-45}" python3 .gpu/torch_bench.py --device cuda --batch "$b" --steps 20 2>&1 | tee "$out/torch$b.txt"
done
timeout "${T_SUBMIT:-35}" bash .gpu/run.sh --kernels rethink --models mlp_1x512,small_alexnet --submit-batch 64 --seconds 1 \
  2>/dev/null | tee "$out/rethink-submit64.jsonl"
timeout "${T_STOCK:-95}" bash .gpu/run.sh --kernels stock --models "$models" --profile --seconds 1 --max-step-s 1.5 ${STOCK_ARGS:-} \
  2>"$out/stock.err" | tee "$out/stock.jsonl"
grep -v -i 'warning\|XDG\|^$\|tfjs-node\|=====\|Hi, looks' "$out/rethink.err" | tail -5
.gpu/node scripts/gpu/summarize.mjs "$out/rethink.jsonl" "$out/stock.jsonl" "$out/torch128.txt" "$out/torch1024.txt" | tee "$out/summary.md"
grep throughput "$out/rethink-submit64.jsonl" | cut -c1-160

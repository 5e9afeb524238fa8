#!/usr/bin/env bash
# One device call (≈420 s on an H200, within the 600 s a call may take) for the current WebGPU training path: hand-recorded dispatches
# (src/backends/webgpu/record.ts), dense forward as our GEMM (kernels/matmul.ts) and GEMM tiles timed
# on the device after the first step (kernels/gemm_tuning.ts). On one GPU, back to back:
#   tuned   — first a check (3 training steps at batch 64 with recording on and off, compared; 64 takes
#             the 28×28 batch-norm layers through the two-pass sums), then the training
#             step as it is now (tuning on: a hardware adapter; at most TUNE_BUDGET_S = 8 s per model
#             and batch), batch 128 and 1024, with each model's tuning report; then a per-kernel and per-program GPU
#             time profile of one step at batch 128 (tf.profile, timestamp queries);
#   PyTorch — torch_bench.py --device cuda at batch 128 and 1024;
#   untuned — the same with RETHINK_WEBGPU_TUNE=off (the shape heuristic's tiles), batch 128 and 1024;
#   before  — recording off (RETHINK_WEBGPU_RECORD=off: tfjs's runWebGPUProgram for every kernel, the
#             multi-output kernels replaced by tfjs's composed ops), batch 128.
# Bundle from scripts/gpu/pack.sh in .gpu/; run with the device tool, carry [".gpu"]. Raw results go to
# $OUT as they come (a cut-short call still returns them), then $OUT/summary.md.
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
errs=$(mktemp -d)
models=${MODELS:-mlp_1x512,mlp_3x512,small_alexnet,small_inception,small_inception_bn}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
bench() { # name timeout args...
  local name=$1 t=$2; shift 2
  timeout "$t" bash .gpu/run.sh "$@" 2>"$errs/$name.err" | tee "$out/$name.jsonl" | cut -c1-240
}
RETHINK_WEBGPU_TUNE_BUDGET_S=${TUNE_BUDGET_S:-8} bench tuned "${T_TUNED:-240}" --models "$models" --seconds 1 --overhead --check --check-batch 64 --profile --profile-batch 128
for b in 128 1024; do
  PYTHONUNBUFFERED=1 timeout "${T_TORCH:-30}" python3 .gpu/torch_bench.py --device cuda --batch "$b" --steps 20 \
    --models alexnet_small,inception_small,inception_small_nobn,mlp_1x512,mlp_3x512 2>&1 | tee "$out/torch$b.txt"
done
RETHINK_WEBGPU_TUNE=off bench untuned "${T_UNTUNED:-70}" --models "$models" --seconds 1
RETHINK_WEBGPU_RECORD=off bench before "${T_BEFORE:-50}" --models "$models" --batches 128 --seconds 1
LABELS=before,untuned,tuned .gpu/node scripts/gpu/summarize.mjs "$out/before.jsonl" "$out/untuned.jsonl" "$out/tuned.jsonl" "$out/torch128.txt" "$out/torch1024.txt" | tee "$out/summary.md"
tail -c 3000 "$errs"/*.err > "$out/errors.txt" 2>/dev/null

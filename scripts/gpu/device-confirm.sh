#!/usr/bin/env bash
# A second, shorter device call (≈150 s on an H200) after device-tuned.sh: how steady the batch-128 ratios are.
#   check — recording on vs off at batch 64 for 3 steps, against the same run with the input scaled by
#           1 + 1e-6 (how much this model amplifies rounding differences on its own);
#   then PyTorch (torch_bench.py --device cuda, 200 timed steps rather than device-tuned.sh's 20), ours
#   (tuned, best of two 2-s blocks), PyTorch again, all at batch 128, so each ratio has PyTorch measured
#   just before and just after it.
# Bundle from scripts/gpu/pack.sh in .gpu/; run with the device tool, carry [".gpu"]; results in $OUT.
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
errs=$(mktemp -d)
models=${MODELS:-mlp_1x512,mlp_3x512,small_alexnet,small_inception,small_inception_bn}
torch_models=alexnet_small,inception_small,inception_small_nobn,mlp_1x512,mlp_3x512
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
torch() { # name
  PYTHONUNBUFFERED=1 timeout 60 python3 .gpu/torch_bench.py --device cuda --batch 128 --steps 200 --models "$torch_models" 2>&1 | tee "$out/$1.txt"
}
timeout 90 bash .gpu/run.sh --models "$models" --batches "" --check --check-batch 64 2>"$errs/check.err" | tee "$out/check.jsonl" | cut -c1-400
torch torch128a
RETHINK_WEBGPU_TUNE_BUDGET_S=8 timeout 150 bash .gpu/run.sh --models "$models" --batches 128 --seconds 2 2>"$errs/tuned.err" | tee "$out/tuned.jsonl" | cut -c1-240
torch torch128b
LABELS=tuned .gpu/node scripts/gpu/summarize.mjs "$out/tuned.jsonl" "$out/torch128a.txt" | tee "$out/summary_a.md"
LABELS=tuned .gpu/node scripts/gpu/summarize.mjs "$out/tuned.jsonl" "$out/torch128b.txt" | tee "$out/summary_b.md"
LABELS=check .gpu/node scripts/gpu/summarize.mjs "$out/check.jsonl" | tee "$out/check.md"
tail -c 3000 "$errs"/*.err > "$out/errors.txt" 2>/dev/null

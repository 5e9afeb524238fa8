#!/usr/bin/env bash
# On the GPU machine (bundle from scripts/gpu/pack.sh, carry [".gpu"]): Inception with and without batch
# norm at batch 128 with the fused batch norm, PyTorch's anchor for both, then the composed batch norm
# (RETHINK_FUSED_BN=off) on the same warm machine for the before/after.
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout "${T_FUSED:-55}" bash .gpu/run.sh --models small_inception_bn,small_inception --batches 128 --seconds 1 2>"$out/fused.err" | tee "$out/fused.jsonl" | grep -v '"kind":"backend"' | cut -c1-250
PYTHONUNBUFFERED=1 timeout "${T_TORCH:-30}" python3 .gpu/torch_bench.py --device cuda --batch 128 --steps 20 --models inception_small,inception_small_nobn 2>&1 | tee "$out/torch.txt"
RETHINK_FUSED_BN=off timeout "${T_OFF:-30}" bash .gpu/run.sh --models small_inception_bn --batches 128 --seconds 1 2>"$out/off.err" | tee "$out/off.jsonl" | grep -v '"kind":"backend"' | cut -c1-250
tail -c 1500 "$out/fused.err"

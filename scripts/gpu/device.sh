#!/usr/bin/env bash
# Runs on the GPU machine from the project root (bundle in .gpu/, made by scripts/gpu/pack.sh):
# the WebGPU benchmark with all our kernels, with only the filter-gradient/LRN ones, PyTorch's anchor on
# the same GPU, tfjs's stock kernels, and a JS CPU profile of an MLP step; each phase time-boxed.
# Leaves $OUT/summary.md, $OUT/logs.tgz and the CPU profile (the device returns at most 8 files).
set -u
out=${OUT:-.gpu/out}; mkdir -p "$out"
logs=$(mktemp -d)
models=${MODELS:-mlp_1x512,mlp_3x512,small_alexnet,small_inception,small_inception_bn}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | tee "$logs/gpu.txt"
bench() { # name timeout args...
  local name=$1 t=$2; shift 2
  timeout "$t" bash .gpu/run.sh "$@" 2>"$logs/$name.err" | tee "$logs/$name.jsonl" | cut -c1-200
}
bench rethink "${T_RETHINK:-85}" --kernels rethink --models "$models" --profile --overhead
RETHINK_WEBGPU_KERNELS=Conv2DBackpropFilter,LRNGrad bench min "${T_MIN:-75}" --kernels rethink --models "$models" --profile
for b in 128 1024; do
  PYTHONUNBUFFERED=1 timeout "${T_TORCH:-40}" python3 .gpu/torch_bench.py --device cuda --batch "$b" --steps 20 2>&1 | tee "$logs/torch$b.txt"
done
bench stock "${T_STOCK:-80}" --kernels stock --models "$models" --profile --seconds 1 --max-step-s 1.5
# --cpu-prof is refused in NODE_OPTIONS, so call the bundle's node directly (run.sh has set up Vulkan by now).
(cd .gpu && VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
  __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json \
  timeout "${T_PROF:-20}" ./node --cpu-prof --cpu-prof-dir="$logs/prof" app.mjs --kernels rethink --models mlp_1x512 \
  --batches 128 --seconds 2 2>/dev/null | tee "$logs/cpuprof.jsonl" | cut -c1-200)
bench submit4 "${T_SUBMIT:-20}" --kernels rethink --models mlp_1x512,small_alexnet --batches 128 --submit-batch 4 --seconds 1
cp "$logs"/prof/*.cpuprofile "$out/mlp.cpuprofile" 2>/dev/null
for v in rethink min; do
  echo "== variant $v"
  LABELS=stock,$v .gpu/node scripts/gpu/summarize.mjs "$logs/stock.jsonl" "$logs/$v.jsonl" "$logs/torch128.txt" "$logs/torch1024.txt"
done | tee "$out/summary.md"
grep -h throughput "$logs/submit4.jsonl" "$logs/cpuprof.jsonl" | cut -c1-220
tar -C "$logs" -czf "$out/logs.tgz" .

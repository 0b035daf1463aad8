#!/usr/bin/env bash
# GPU benchmarks on one CUDA device (an H200) in under 9 minutes: device limits, Swin-B encoder
# images/s in bf16 at batch 256, flat search over 1M×512 at batch 1 and 1024, bulk embedding
# on Ray with a GPU actor (the demo checkpoint). Nothing is downloaded (random weights). Writes
# bench/results/gpu.md and bulk_gpu.md. Extra arguments go to bench.gpu_bench.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device visible to torch")'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 290 "$PY" -m bench.gpu_bench "$@"
# Bulk embedding with one GPU actor against the forward on the same GPU: bench/results/bulk_gpu.md.
exec timeout 240 "$PY" -m bench.bulk_bench --device cuda --actors 1 --runs 1 --batch-size 256 \
    --repeats 20 --out bench/results/bulk_gpu.md

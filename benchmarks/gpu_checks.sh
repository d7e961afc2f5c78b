#!/usr/bin/env bash
# The checks that need a CUDA device, in one run of a few minutes: the tests
# with PyTorch-on-CUDA and CuPy variants, then the GPU benchmark, whose
# tables go to benchmarks/results/array_api_cuda.md.
set -uo pipefail
cd "$(dirname "$0")/.."
export SCIPY_ARRAY_API=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -m pytest -q -p no:cacheprovider -k "cuda or cupy or low_precision" \
    tests/test_low_precision.py tests/test_array_api.py tests/test_common.py
python3 benchmarks/bench_gpu.py --save

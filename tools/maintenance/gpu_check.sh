#!/usr/bin/env bash
# One prepared GPU check, for the few minutes a GPU is at hand (no network needed).
#
#   bash tools/gpu_check.sh            # from the checkout; results under $OUT (default gpu-results/)
#
# It uses the Python on PATH (which must already hold CuPy, NumPy, matplotlib, tqdm, threadpoolctl,
# pytest and hypothesis; PyTorch is optional), installs this checkout with
# `pip install --no-deps --no-build-isolation -e .` (nothing downloaded), then runs every step
# below even when an earlier one fails, each under its own time limit, and writes a summary.
# Total budget: under 10 minutes. Exit status: 0 when every step passed, 1 otherwise, 2 when there
# is no CUDA device at all ("no CUDA device": nothing else is tried).
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=${PYTHON:-python3}
SUMMARY="$OUT/summary.md"
: > "$SUMMARY"
failed=0

note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME SECONDS COMMAND...: run it, log to $OUT/NAME.log, record pass/fail and wall time
step() {
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  local code=$?
  local took=$((SECONDS - start))
  if [ $code -eq 0 ]; then note "- $name: passed (${took} s)"
  else
    failed=$((failed + 1))
    [ $code -eq 124 ] && note "- $name: FAILED, over its ${limit} s limit (${took} s; log: $name.log)" \
                      || note "- $name: FAILED with exit code $code (${took} s; log: $name.log)"
    tail -n 5 "$OUT/$name.log" | sed 's/^/    /' >> "$SUMMARY"
  fi
}

note "# minigen GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! "$PY" - > "$OUT/device.txt" 2>&1 <<'EOF'
import sys
try:
    import cupy
    count = cupy.cuda.runtime.getDeviceCount()
except Exception as exc:  # no CuPy, no driver, no device
    print(f"no CUDA device: {type(exc).__name__}: {exc}")
    sys.exit(1)
if count == 0:
    print("no CUDA device: CuPy sees 0 GPUs")
    sys.exit(1)
props = cupy.cuda.runtime.getDeviceProperties(0)
name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
print(f"{name}; {count} device(s); CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}; CuPy {cupy.__version__}; "
      f"{props['totalGlobalMem'] / 2**30:.0f} GiB")
EOF
then
  note "$(cat "$OUT/device.txt")"
  note "Nothing else was run."
  exit 2
fi
note "device: $(cat "$OUT/device.txt")"

step install 120 "$PY" -m pip install -q --no-deps --no-build-isolation -e .
export MPLBACKEND=Agg
step gpu-tests 150 "$PY" -m pytest -q -m gpu -p no:cacheprovider
step bench 150 "$PY" -m minigen bench --device all --quick --out "$OUT/bench"
# the sweep the CuPy stand-in runs without a GPU (tests/test_cupy_families.py, in gpu-tests above:
# every family trained, evaluated, sampled with every option, moved cuda -> cpu -> cuda, the CLI),
# then the tour on cuda, and what only a GPU can tell: each default model's time per step
step tour-quick 150 "$PY" -m minigen tour --quick --device cuda --out "$OUT/tour"
step step-times 120 "$PY" -m tools.maintenance.step_times --devices cpu,cuda --steps 50
cp "$OUT/step-times.log" "$OUT/step-times.md" 2>/dev/null

# a small 28x28 IDX set (no MNIST download): bright squares on dark noise
"$PY" - "$OUT/idx" <<'EOF'
import sys
from pathlib import Path
import numpy as np
from minigen.data import write_idx
folder = Path(sys.argv[1]); folder.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
images = (rng.uniform(size=(512, 28, 28)) * 60).astype(np.uint8)
for k, image in enumerate(images):
    r, c = rng.integers(0, 20, size=2)
    image[r:r + 8, c:c + 8] = 255
write_idx(folder / "toy-images-idx3-ubyte", images)
EOF
IDX="idx:$OUT/idx/toy-images-idx3-ubyte"
step gan-8gaussians 60 "$PY" -m minigen train gan --data 8gaussians --steps 300 --device cuda --out "$OUT/runs/gan" --overwrite --quiet
step dcgan-28x28 60 "$PY" -m minigen train gan --data "$IDX" --model dcgan --steps 100 --batch-size 64 --device cuda --out "$OUT/runs/dcgan" --overwrite --quiet
step vae-conv-28x28 60 "$PY" -m minigen train vae --data "$IDX" --model conv --steps 100 --device cuda --out "$OUT/runs/vae" --overwrite --quiet
step transformer-names 60 "$PY" -m minigen train autoregressive --data names --model transformer --steps 100 --device cuda --out "$OUT/runs/transformer" --overwrite --quiet
step pixelcnn-digits 60 "$PY" -m minigen train autoregressive --data digits-binary --model pixelcnn --steps 100 --device cuda --out "$OUT/runs/pixelcnn" --overwrite --quiet
step diffusion-unet-28x28 60 "$PY" -m minigen train diffusion --data "$IDX" --model unet --steps 100 --device cuda --out "$OUT/runs/unet" --overwrite --quiet
# conditional runs (issue 13): every family asked for a class, on the digits (the toy IDX set has no labels)
step gan-conditional 60 "$PY" -m minigen train gan --data digits --conditional --steps 200 --device cuda --out "$OUT/runs/gan-c" --overwrite --quiet
step vae-conditional 60 "$PY" -m minigen train vae --data digits-binary --conditional --steps 200 --device cuda --out "$OUT/runs/vae-c" --overwrite --quiet
step pixelcnn-conditional 60 "$PY" -m minigen train autoregressive --data digits-binary --conditional --steps 100 --device cuda --out "$OUT/runs/pixelcnn-c" --overwrite --quiet
step diffusion-guided 90 "$PY" -m minigen train diffusion --data digits --conditional --steps 300 --device cuda --out "$OUT/runs/diffusion-c" --overwrite --quiet
step diffusion-guided-sample 60 "$PY" -m minigen sample "$OUT/runs/diffusion-c" --n 100 --label 7 --guidance 2 --sampler ddim --device cuda --out "$OUT/runs/diffusion-c/sevens.npy"

note ""
note "$failed step(s) failed; logs, bench results and run folders are in $OUT"
[ $failed -eq 0 ]

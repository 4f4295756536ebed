#!/bin/bash
# Wall time of every family's default training run, at two versions of the code, side by side.
#
#   bash tools/maintenance/family_times.sh BEFORE_COMMIT [AFTER_COMMIT] [OUT]       (AFTER defaults to HEAD)
#
# Each version is checked out into a worktree under OUT (default /tmp/family-times), and each run
# (`minigen train FAMILY --data DATA --seed 0`, the family's defaults as a user gets them) is
# started at both versions at once, so that the two share whatever load the
# machine has. Prints one line per run and version (wall seconds, and training seconds from the
# run's metrics.json) and writes OUT/times.md. Run it from the repository root, with the venv's
# python (PYTHON, default .venv/bin/python). ONLY=WORD keeps the runs whose arguments contain WORD.
set -u
BEFORE=${1:?usage: tools/maintenance/family_times.sh BEFORE_COMMIT [AFTER_COMMIT] [OUT]}
AFTER=${2:-HEAD}
OUT=${3:-/tmp/family-times}
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$OUT"
for side in before after; do
    rev=$BEFORE; [ "$side" = after ] && rev=$AFTER
    rm -rf "${OUT:?}/src-$side"
    git worktree add -f --detach "$OUT/src-$side" "$rev" -q || exit 1
done

RUNS=(
    "classifier --data digits"
    "gan --data 8gaussians"
    "gan --data digits"
    "vae --data digits-binary"
    "autoregressive --data names"
    "autoregressive --data digits-binary"
    "diffusion --data 8gaussians"
    "diffusion --data digits"
)
echo "| run | before s (training) | after s (training) |" > "$OUT/times.md"
echo "| --- | ---: | ---: |" >> "$OUT/times.md"
for args in "${RUNS[@]}"; do
    case "$args" in *"${ONLY:-}"*) ;; *) continue ;; esac
    name=$(echo "$args" | sed 's/ --data /-/')
    for side in before after; do
        (
            start=$(date +%s.%N)
            PYTHONPATH="$OUT/src-$side" "$PY" -m minigen train $args --seed 0 \
                --out "$OUT/$side-$name" --overwrite --quiet > "$OUT/$side-$name.log" 2>&1
            echo "$(echo "$(date +%s.%N) - $start" | bc)" > "$OUT/$side-$name.wall"
        ) &
    done
    wait
    row="| minigen train $args |"
    for side in before after; do
        train=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['train_seconds'])" \
                "$OUT/$side-$name/metrics.json" 2>/dev/null || echo "failed")
        wall=$(printf "%.1f" "$(cat "$OUT/$side-$name.wall")")
        row="$row $wall ($train) |"
        echo "$name $side: ${wall} s wall, training ${train} s"
    done
    echo "$row" >> "$OUT/times.md"
done
for side in before after; do git worktree remove --force "$OUT/src-$side"; done
echo "written: $OUT/times.md"

#!/usr/bin/env bash
# The full guidance benchmark on GPUs, and the 1-vs-2-GPU accelerate comparison on the same sweep.
#
# Run on the device machine from the repo root, on a 2-GPU kind (nvidia-h100-x2):
#     bench/run_full.sh $OUT            # carry: .whl (diffusers + fastcore wheels), .carry/fmnist (idx files)
# On one GPU it runs stage 1 and the rest of the methods on that GPU, and skips the comparison.
#
# Stages (each packs what it has into $OUT when it ends, so a timeout keeps the finished stages):
#   1. the seed's methods x 6 strengths x 3 seeds, 1 GPU, `cfg-guidance bench` (timed; target < 5 min on one H100)
#   2. the same sweep on 2 GPUs: `accelerate launch --multi_gpu --num_processes 2 -m cfg_guidance.cli bench`
#      (timed; its results.csv and samples compared with stage 1's: same ids, same numbers)
#   3. every other method, resumed into stage 2's folder (the full table: all methods x 6 strengths x 3 seeds)
# STAGES="..." picks stages (default "one two rest"): if the call times out in stage 3, `STAGES=rest` on a fresh
# machine sweeps all methods on 2 GPUs from scratch (~ stage 2's time x 2.1).
# Settings are run_bench's full-run defaults (1000 samples per run, 25 DDIM steps); sweeps live in $WORK (not $OUT:
# only 8 files come back), and $OUT gets bench_full.tar.gz (results.csv, config/floor/timings/compare JSON,
# front.png, samples.png; no npz), front.png, samples.png, timings.json and log.txt.
set -uo pipefail
OUT=${1:?usage: bench/run_full.sh OUT}
WORK=${WORK:-/tmp/bench_work}
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
if ! python3 -c 'import diffusers, fastcore' 2>/dev/null; then  # the device image lacks them: carried wheels
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || export CFG_GUIDANCE_DATA=${CFG_GUIDANCE_DATA:-$PWD/.carry/fmnist}
NGPU=${NGPU:-$(python3 -c 'import torch; print(torch.cuda.device_count())')}  # NGPU, DEVICE: overrides for a CPU dry run
DEVICE=${DEVICE:-cuda}
CARD=$(python3 -c 'import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu")')
SEED_METHODS=$(python3 -c 'from cfg_guidance.bench import SEED_METHODS; print(" ".join(SEED_METHODS))')
echo "card: $CARD x $NGPU; seed's methods: $SEED_METHODS"
LAUNCH2=(python3 -m accelerate.commands.launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no --dynamo_backend no)

declare -A T
timed() { # name cmd...: run cmd, record its wall seconds in T[name]
  local name=$1; shift; local t0; t0=$(date +%s.%N)
  "$@"; local rc=$?
  T[$name]=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))"); echo "== $name: ${T[$name]} s (rc $rc)"
  return $rc
}

pack() { # write timings.json, compare.json, the figures, and the tarball into $OUT
  local dir=$1
  python3 - "$dir" "$OUT" "$CARD" "$NGPU" "${T[one]:-}" "${T[two]:-}" "${T[rest]:-}" <<'EOF'
import json, sys, tarfile, io
from pathlib import Path
from cfg_guidance.bench import read_csv, load_samples
d, out, card, ngpu, one, two, rest = sys.argv[1:]
d, out, W = Path(d), Path(out), Path(sys.argv[1]).parent
f = lambda s: float(s) if s else None
tim = dict(card=card, gpus=int(ngpu), seed_sweep_1gpu_s=f(one), seed_sweep_2gpu_s=f(two), rest_s=f(rest),
           speedup_2gpu=round(f(one) / f(two), 3) if one and two else None, rows=len(read_csv(d/'results.csv')))
a, b = W/'one', W/'two'
if (a/'results.csv').exists() and (b/'results.csv').exists():
    ra = read_csv(a/'results.csv'); rb = {r['id']: r for r in read_csv(b/'results.csv')}
    keys = ('accuracy', 'fd', 'precision', 'recall', 'diversity', 'saturation')
    common = [r for r in ra if r['id'] in rb]
    same_img = sum(bool((load_samples(a/'samples'/f"{r['id']}.npz")['images'] ==
                         load_samples(b/'samples'/f"{r['id']}.npz")['images']).all()) for r in common)
    cmp = dict(rows_1gpu=len(ra), rows_in_both=len(common), ids_equal=[r['id'] for r in ra] == [r['id'] for r in common],
               max_abs_diff=max((abs(r[k] - rb[r['id']][k]) for r in common for k in keys), default=None),
               bitwise_equal_samples=same_img)
    (d/'compare.json').write_text(json.dumps(cmp, indent=1)); tim['compare'] = cmp
(d/'timings.json').write_text(json.dumps(tim, indent=1))
with tarfile.open(out/'bench_full.tar.gz', 'w:gz') as t:
    for p in sorted(d.iterdir()):
        if p.is_file(): t.add(p, arcname=f'bench_full/{p.name}')
for n in ('front.png', 'samples.png', 'timings.json'):
    if (d/n).exists(): (out/n).write_bytes((d/n).read_bytes())
print(json.dumps(tim, indent=1))
EOF
}

STAGES=${STAGES:-one two rest}  # a subset reruns part (a fresh machine has no $WORK: `rest` alone sweeps everything)
has() { [[ " $STAGES " == *" $1 "* ]]; }
if has one; then
  rm -rf "$WORK/one"
  timed one python3 -m cfg_guidance.cli bench --out "$WORK/one" --methods $SEED_METHODS --device $DEVICE
  pack "$WORK/one"
fi
if [ "$NGPU" -ge 2 ]; then
  if has two; then
    rm -rf "$WORK/two"
    timed two "${LAUNCH2[@]}" -m cfg_guidance.cli bench --out "$WORK/two" --methods $SEED_METHODS
    pack "$WORK/two"
  fi
  if has rest; then timed rest "${LAUNCH2[@]}" -m cfg_guidance.cli bench --out "$WORK/two"; pack "$WORK/two"; fi
elif has rest; then
  timed rest python3 -m cfg_guidance.cli bench --out "$WORK/one" --device $DEVICE
  pack "$WORK/one"
fi

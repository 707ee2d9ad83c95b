"""What the full quality sweep costs in model evaluations, and the least GPU time it can take at a measured rate.

Counts, per testbed, every tuning and evaluation run of `run_bench`'s plan (every registered method, its tuning
settings at three strengths on the tuning seed, its chosen setting at six strengths on three seeds) and each run's
model evaluations per sample (`bench_methods.run_cost`: one per step, plus one where the rule needs the
unconditional or weak half). Multiplied by the samples per run and divided by a forward rate, this is the UNet time
alone: a lower bound on the sweep, before scoring, re-scoring, loading and compiling.

    .venv/bin/python bench/sweep_cost.py [--n 500 --tune-n 200] [--probe bench/results/probe_testbed_speed_h200.json]

The rate is the probe's measured samples/s of the wellfit architecture (eager fp16, batch 16,384, one H200); the
other architectures are scaled from it by their FLOPs per sample (an assumption: same TFLOP/s), and weak-model
evaluations are counted as full ones (an upper bound on their share). With --timings (a full_h200 timings.json)
it also prints the rate each measured sweep implies.
"""
import argparse, json, os
from pathlib import Path
import torch
from torch.utils.flop_counter import FlopCounterMode
from cfg_guidance.testbed import load_testbed
from cfg_guidance.bench import sampler_for
from cfg_guidance.bench_methods import plan, tuning_plan, run_calls, run_cost, bench_methods

def gflop(unet):
    x = torch.randn(2, 1, 28, 28)
    with FlopCounterMode(display=False) as fc: unet(x, torch.full((2,), 500), class_labels=torch.arange(2))
    return fc.get_total_flops() / 2 / 1e9

def main(a):
    probe = json.loads(Path(a.probe).read_text())
    ref = probe['archs']['wellfit']; rate_ref = ref['variants']['eager']['16384']['samples_per_s']
    timings = json.loads(Path(a.timings).read_text()) if a.timings else {}
    methods = bench_methods(None); out = dict(probe=os.path.relpath(a.probe), probe_card=probe['card'], probe_date=probe['date'],
                                              n=a.n, tune_n=a.tune_n, steps=a.steps, testbeds={})
    total = 0.
    for name in a.testbeds:
        tb = load_testbed(name); calls = run_calls(sampler_for(tb, None), a.steps)
        truns, eruns = tuning_plan(methods, 100), plan(methods, (0, 1, 2), settings=None)
        ev_t = sum(run_cost(r, a.steps, calls) for r in truns); ev_e = sum(run_cost(r, a.steps, calls) for r in eruns)
        gf = gflop(tb.unet); rate = rate_ref * ref['gflop_per_sample'] / gf
        evals = ev_t * a.tune_n + ev_e * a.n; s = evals / rate; total += s
        row = dict(tuning_runs=len(truns), eval_runs=len(eruns), evals_per_sample_tuning=ev_t, evals_per_sample_eval=ev_e,
                   model_evals=evals, gflop_per_sample=round(gf, 3), rate_samples_per_s=round(rate), unet_s=round(s, 1))
        if name in timings:
            t = timings[name]; ev_m = ev_t * t['tune_n'] + ev_e * t['n']
            row['measured'] = dict(n=t['n'], tune_n=t['tune_n'], sweep_s=t['sweep_s'], unet_s_at_probe_rate=round(ev_m / rate, 1),
                                   implied_rate=round(ev_m / t['sweep_s']))
        out['testbeds'][name] = row
        print(name, json.dumps(row), flush=True)
    out['unet_s_all'] = round(total, 1)
    print(f"UNet time alone, all testbeds, n={a.n}, tune_n={a.tune_n}: {total:.0f} s at the probe's eager rate")
    if a.out: Path(a.out).write_text(json.dumps(out, indent=1))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--tune-n', type=int, default=200)
    ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--testbeds', nargs='+', default=['underfit', 'wellfit', 'flow'])
    ap.add_argument('--probe', default=str(Path(__file__).parent/'results'/'probe_testbed_speed_h200.json'))
    ap.add_argument('--timings', default=str(Path(__file__).parent/'results'/'full_h200'/'timings.json'))
    ap.add_argument('--out', default=None, help='write the numbers as JSON here')
    main(ap.parse_args())

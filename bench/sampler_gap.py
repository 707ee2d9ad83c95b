"""How much of a testbed's distance from the floor is the sampler's? FD at G = 1 over the floor, per sampler.

The cards and the benchmark sample with DDIM at 25 steps. The judge CNN's space is very sensitive to fine pixel noise
(`floor_sensitivity.py`: 2/255 of noise scores 3x the floor), and a 25-step DDIM's last step removes a lot of noise at
once. This script samples the same labels from the same starting noise with several diffusers samplers at G = 1
(the conditional model alone, one model call per step) and scores each against the floor drawn the same way
(`bench.floor_scores`), in every space. CPU (wellfit, n = 500: about 6 minutes per 25-step sampler on 2 cores):
    OMP_NUM_THREADS=2 .venv/bin/python bench/sampler_gap.py --out bench/results/sampler_gap_cpu.json
"""
import argparse, json, platform, time
from datetime import datetime, timezone
from pathlib import Path
import torch

SAMPLERS = {  # name -> (load.SCHEDULERS key, extra config, steps)
    'ddim-25': ('ddim', {}, 25),
    'dpm++2m-25': ('dpm++', {}, 25),
    'dpm++2m-karras-25': ('dpm++', {'use_karras_sigmas': True}, 25),
    'ddim-50': ('ddim', {}, 50),
}

def sample_g1(model, sched, cond, steps, x):
    "The conditional model alone (CFG at G = 1), any diffusers scheduler: images in model space."
    sched.set_timesteps(steps)
    x = x * getattr(sched, 'init_noise_sigma', 1.)
    for t in sched.timesteps:
        with torch.no_grad(): x = sched.step(model(sched.scale_model_input(x, t), t, cond), t, x).prev_sample
    return x

def main(a):
    from cfg_guidance.core import to_u8
    from cfg_guidance.load import make_scheduler
    from cfg_guidance.testbed import load_testbed, testbed_model, load_fashion_mnist
    from cfg_guidance.metrics import load_judges, reference, score, balanced_idx
    torch.manual_seed(0)
    tb = load_testbed(a.testbed); model = testbed_model(tb.unet.eval())
    if tb.pred == 'flow': raise SystemExit(f'sampler_gap.py: {a.testbed} is a flow-matching testbed; the samplers here are for epsilon models')
    judges = load_judges(); ref = reference(judges, a.n)
    keys = ('accuracy', *(f'fd_{s}' for s in judges))
    xr, yr = load_fashion_mnist('train'); idx = balanced_idx(yr, a.n, seed=2)
    fl = score(xr[idx], yr[idx], None, ref, judges); floor = {k: fl[k] for k in keys}
    cond = torch.arange(a.n) % 10
    noise = torch.randn(a.n, 1, 28, 28, generator=torch.Generator().manual_seed(a.seed))
    res = dict(date=datetime.now(timezone.utc).isoformat(timespec='seconds'), machine=f'{platform.machine()} CPU, torch {torch.__version__}',
               testbed=a.testbed, n=a.n, seed=a.seed, floor=floor, samplers={},
               command='OMP_NUM_THREADS=2 .venv/bin/python bench/sampler_gap.py ' + ' '.join(f'--{k.replace("_", "-")} {v}' for k, v in vars(a).items() if k != 'samplers') + ' --samplers ' + ' '.join(a.samplers))
    for name in a.samplers:
        key, extra, steps = SAMPLERS[name]
        sched = make_scheduler(key, tb.scheduler.config)
        if extra: sched = type(sched).from_config(sched.config, **extra)
        t0 = time.time()
        xs = torch.cat([sample_g1(model, sched, cond[i:i + a.bs], steps, noise[i:i + a.bs]) for i in range(0, a.n, a.bs)])
        s = score(to_u8(xs)[:, 0], cond, None, ref, judges)
        res['samplers'][name] = dict({k: s[k] for k in keys}, **{f'ratio_{sp}': s[f'fd_{sp}'] / floor[f'fd_{sp}'] for sp in judges},
                                     steps=steps, scheduler=type(sched).__name__, extra=extra, seconds=round(time.time() - t0, 1))
        print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in res['samplers'][name].items()}, flush=True)
        Path(a.out).write_text(json.dumps(res, indent=1))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--testbed', default='wellfit')
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--bs', type=int, default=250)
    ap.add_argument('--samplers', nargs='+', default=['ddim-25', 'dpm++2m-25', 'dpm++2m-karras-25'], choices=list(SAMPLERS))
    main(ap.parse_args())

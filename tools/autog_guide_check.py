"""CPU check for AutoGuidance on the well-fit testbed: which weaker model makes a better guide?

Karras et al. (2024) guide with "a smaller, less-trained version of the model itself". The shipped weak model of
`wellfit` is a 1.1 M-parameter net trained for 3 epochs (alone: accuracy 0.34, FD 55 in the cnn space), and
AutoGuidance with it stays "mixed / n/a" in the benchmark. The `underfit` testbed is such a smaller, less-trained
model of the same data, objective and noise schedule (2.7 M parameters; alone at G = 1 accuracy 0.80). This compares
the two as guides, plus constant CFG, on the same noise: n samples, DDIM 25 steps, the cnn / ae / pca spaces against
the whole test split. An observation for the next GPU sweep, not a verdict (one seed, small n, one testbed).

    OMP_NUM_THREADS=2 .venv/bin/python tools/autog_guide_check.py [--n 300] [--out runs/autog_guide.json]   # ~23 min
"""
import argparse, json, time
import torch
from diffusers import DDIMScheduler
from cfg_guidance.testbed import load_testbed, testbed_model, cfg_sample
from cfg_guidance.metrics import load_judges, reference, score

def main(a):
    torch.set_grad_enabled(False); torch.set_num_threads(a.threads)
    tb = load_testbed('wellfit'); model = testbed_model(tb.unet)
    guides = {'shipped weak (1.1 M, 3 epochs)': testbed_model(tb.weak),
              'underfit testbed (2.7 M, 330 s)': testbed_model(load_testbed('underfit', weak=False).unet)}
    judges = load_judges(); ref = reference(judges, n=a.n)
    y = torch.arange(a.n) % 10; x0 = torch.randn(a.n, 1, 28, 28, generator=torch.Generator().manual_seed(a.seed))
    runs = [('cfg', None, g) for g in a.cfg] + [(k, v, g) for k, v in guides.items() for g in a.autog]
    out = dict(n=a.n, steps=a.steps, seed=a.seed, testbed='wellfit', rows=[])
    for name, guide, g in runs:
        t0 = time.time(); s = DDIMScheduler.from_config(tb.scheduler.config)
        x = torch.cat([cfg_sample(model, s, y[i:i + a.chunk], g=g, steps=a.steps, x=x0[i:i + a.chunk], guide=guide)
                       for i in range(0, a.n, a.chunk)])
        sc = score(x, y, ref=ref, judges=judges)
        row = dict(rule=name, G=g, seconds=round(time.time() - t0, 1),
                   **{k: round(float(sc[k]), 4) for k in ('accuracy', 'fd_cnn', 'fd_ae', 'fd_pca', 'precision', 'recall')})
        out['rows'].append(row); print(json.dumps(row), flush=True)
        if a.out: open(a.out, 'w').write(json.dumps(out, indent=1))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=300)
    ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--cfg', type=float, nargs='+', default=[1.5])
    ap.add_argument('--autog', type=float, nargs='+', default=[2.0, 3.0])
    ap.add_argument('--chunk', type=int, default=150)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default=None)
    main(ap.parse_args())

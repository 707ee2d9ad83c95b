"""CPU check of the well-fit testbed's quality card: FD at G = 1 with DDIM at 25 and 100 steps, n = 500 samples on the same noise,
against the floor of n = 500 real train images (same n: FD's small-sample bias is in both). Slow on 2 cores (~12 min a run).
    OMP_NUM_THREADS=2 python tools/wellfit_steps.py
"""
import torch, time, json, numpy as np
from cfg_guidance.testbed import load_testbed, testbed_model, cfg_sample, load_fashion_mnist
from cfg_guidance.metrics import load_judges, score, reference
from diffusers import DDIMScheduler
torch.set_grad_enabled(False); torch.set_num_threads(2)
tb = load_testbed('wellfit'); model = testbed_model(tb.unet)
J = {k: v for k, v in load_judges().items() if k in ('cnn', 'pca')}
n = 500; y = torch.arange(10).repeat_interleave(n // 10)
ref = reference(J, n=n)
g = torch.Generator().manual_seed(0); x0 = torch.randn(n, 1, 28, 28, generator=g)
xt, yt = load_fashion_mnist('train'); idx = torch.randperm(len(xt), generator=torch.Generator().manual_seed(1))[:n]
fl = score(torch.as_tensor(xt[idx.numpy()]), torch.as_tensor(yt[idx.numpy()]), ref=ref, judges=J)
print('floor n=500 (train vs test):', {k: round(v, 4) for k, v in fl.items() if k in ('accuracy', 'fd_cnn', 'fd_pca')}, flush=True)
out = {'floor_n500': fl}
for steps in (25, 100):
    t = time.time(); s = DDIMScheduler.from_config(tb.scheduler.config)
    xs = torch.cat([cfg_sample(model, s, y[i:i+250], g=1.0, steps=steps, x=x0[i:i+250]) for i in range(0, n, 250)])
    sc = score(xs, y, ref=ref, judges=J)
    out[steps] = sc
    print(steps, 'steps', f'{time.time()-t:.0f}s', {k: round(v, 4) for k, v in sc.items() if k in ('accuracy', 'fd_cnn', 'fd_pca')},
          'fd_cnn/floor', round(sc['fd_cnn'] / fl['fd_cnn'], 1), flush=True)
json.dump(out, open('/tmp/steps_exp.json', 'w'), default=float, indent=1)

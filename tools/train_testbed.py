"""Train the testbed diffusion model and the judge on Fashion-MNIST, then measure the samples against the guidance scale.

GPU (what made the shipped weights, one H100):  python tools/train_testbed.py --device cuda --minutes 5.5 --bs 512 --log-every 1000 --out $OUT
CPU smoke test (~1.5 min):                       python tools/train_testbed.py --device cpu --iters 20 --bs 16 --n-train 2000 --judge-epochs 1 --per-class 3 --scales 1,3 --out /tmp/tb
Writes OUT/testbed/ (diffusers folder), OUT/judge/model.safetensors, OUT/quality.json, OUT/samples.png.
Shipped: testbed/ + quality.json (+ the log as train_log.txt) in cfg_guidance/models/testbed/, judge/ in cfg_guidance/models/judge/.
Data: the Fashion-MNIST idx files (apt-get install dataset-fashion-mnist, or CFG_GUIDANCE_DATA=folder).
"""
import argparse, json, os, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np, torch
from PIL import Image
from diffusers import DDIMScheduler, LMSDiscreteScheduler
from cfg_guidance.testbed import (load_fashion_mnist, testbed_unet, testbed_scheduler, train_testbed, save_testbed,
                                  load_testbed, testbed_model, cfg_sample, to_u8)
from cfg_guidance.metrics import train_judge, save_judge, load_judge, class_accuracy, real_ref, score

def grid_png(x, rows, fn, cols=10, pad=2):
    "Save uint8 images (rows*cols, H, W) as one PNG, row-major, `pad` px of white between cells."
    h, w = x.shape[-2:]
    g = np.full((rows*(h+pad)-pad, cols*(w+pad)-pad), 255, np.uint8)
    for i, im in enumerate(x.numpy()):
        r, c = divmod(i, cols); g[r*(h+pad):r*(h+pad)+h, c*(w+pad):c*(w+pad)+w] = im
    Image.fromarray(g).resize((g.shape[1]*3, g.shape[0]*3), Image.NEAREST).save(fn)

def fmt(d): return ' '.join(f'{k}={v:.4f}' if isinstance(v, float) else f'{k}={v}' for k, v in d.items())

def main(a):
    t_all = time.time(); out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    print(f'torch {torch.__version__} on {torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"}', flush=True)
    xtr, ytr = load_fashion_mnist('train'); xte, yte = load_fashion_mnist('test')
    if a.n_train: xtr, ytr = xtr[:a.n_train], ytr[:a.n_train]
    # 1. the judge
    t0 = time.time(); torch.manual_seed(a.seed)
    judge = train_judge(xtr, ytr, epochs=a.judge_epochs, device=dev, seed=a.seed)
    save_judge(judge, out/'judge'/'model.safetensors')
    judge = load_judge(out/'judge'/'model.safetensors', device=dev)   # measure what ships
    jacc = class_accuracy(xte, yte, judge)
    print(f'judge: real test accuracy {jacc:.4f} ({time.time()-t0:.0f}s)', flush=True)
    # 2. the diffusion model
    torch.manual_seed(a.seed)
    unet, sched = testbed_unet().to(dev), testbed_scheduler()
    n_par = sum(p.numel() for p in unet.parameters())
    print(f'unet: {n_par/1e6:.2f} M parameters', flush=True)
    t0 = time.time()
    ema, hist = train_testbed(unet, sched, xtr, ytr, iters=a.iters, bs=a.bs, lr=a.lr, warmup=a.warmup,
                              ema=a.ema, seconds=a.minutes*60 if a.minutes else None, log_every=a.log_every,
                              log=lambda s: print(s, flush=True))
    t_train, steps = time.time() - t0, hist[-1][0]
    print(f'trained {steps} steps in {t_train:.0f}s ({steps/t_train:.1f} it/s)', flush=True)
    save_testbed(ema, sched, out/'testbed')
    unet, sched = load_testbed(out/'testbed', device=dev)              # measure what ships (fp16 storage)
    # 3. quality against the guidance scale, the same noise at every scale
    n = 10 * a.per_class
    labs = torch.arange(10).repeat(a.per_class).to(dev)
    noise = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(a.seed + 1))
    ref = real_ref('test', n=n, judge=judge)
    fidx = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(a.seed + 2))[:n]
    floor = score(xtr[fidx], ytr[fidx], ref, judge)
    print('floor (real train vs real test): ' + fmt(floor), flush=True)
    scales = [float(s) for s in a.scales.split(',')]
    samplers = {'ddim20': (DDIMScheduler, 20), 'lms50': (LMSDiscreteScheduler, 50)}
    table, grid = {}, []
    model = testbed_model(unet)
    for name, (cls, steps_) in samplers.items():
        table[name] = []
        for G in scales:
            t0 = time.time()
            x = torch.cat([cfg_sample(model, cls.from_config(sched.config), labs[i:i+a.chunk], G, steps_,
                                      x=noise[i:i+a.chunk]) for i in range(0, n, a.chunk)])
            r = dict(G=G, **score(x, labs, ref, judge), seconds=time.time() - t0)
            table[name].append(r)
            print(f'{name} ' + fmt(r), flush=True)
            if name == 'ddim20' and G in (1., 2., 3., 5., 7.): grid.append(to_u8(x[:60]).cpu()[:, 0])
    if grid: grid_png(torch.cat(grid), 6 * len(grid), out/'samples.png')
    q = dict(judge_test_acc=jacc, n_per_scale=n, params=n_par, train_steps=steps, train_seconds=round(t_train, 1),
             batch=a.bs, lr=a.lr, ema=a.ema, final_loss=hist[-1][1], loss_history=hist,
             device=torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu', torch=torch.__version__,
             floor=floor, table=table, total_seconds=round(time.time() - t_all, 1))
    (out/'quality.json').write_text(json.dumps(q, indent=1))
    print(f'done in {time.time()-t_all:.0f}s', flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--out', default='runs/testbed')
    ap.add_argument('--iters', type=int, default=1_000_000, help='most diffusion training steps')
    ap.add_argument('--minutes', type=float, default=None, help='diffusion training time budget')
    ap.add_argument('--bs', type=int, default=256)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--warmup', type=int, default=500)
    ap.add_argument('--ema', type=float, default=0.9995)
    ap.add_argument('--judge-epochs', type=int, default=10)
    ap.add_argument('--n-train', type=int, default=0, help='use only the first N train images (smoke tests)')
    ap.add_argument('--per-class', type=int, default=200, help='samples per class per scale in the quality check')
    ap.add_argument('--scales', default='0,1,1.5,2,3,4,5,7,10')
    ap.add_argument('--chunk', type=int, default=2000, help='samples per sampling batch')
    ap.add_argument('--log-every', type=int, default=500)
    ap.add_argument('--seed', type=int, default=0)
    main(ap.parse_args())

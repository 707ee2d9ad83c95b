"""Probe: how fast the testbed UNets run at the benchmark's batch sizes, eager and compiled, and what scoring one run costs.

Informs bench/run_full.py's settings (issue 11: the full sweep within 10 minutes on one H200). One GPU call:
    python3 bench/probe_testbed_speed.py --out $OUT [--budget 150]
Writes OUT/probe_testbed_speed.json: per architecture and variant, ms per forward at each batch, samples/s and TFLOP/s
(FLOPs from torch.utils.flop_counter), compile seconds; and the seconds of `metrics.score` for one run of n samples.
Random weights (timing only). Variants run while the time used is under --budget; the rest are listed as skipped.
"""
import argparse, json, time
from datetime import datetime, timezone
from pathlib import Path
import torch

def timeit(f, reps):
    f(); torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps): f()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps

def main(a):
    from torch.utils.flop_counter import FlopCounterMode
    from cfg_guidance.testbed import testbed_unet, load_fashion_mnist
    from cfg_guidance.metrics import load_judges, reference, score, saturation
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    dev, t_all = torch.device('cuda'), time.time()
    res = dict(card=torch.cuda.get_device_name(), date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               torch=torch.__version__, archs={}, skipped=[])
    archs = dict(wellfit=dict(channels=(64, 128, 160), layers=2, attn=True),
                 underfit=dict(channels=(32, 64, 128), layers=1, attn=True))
    def save(): Path(a.out, 'probe_testbed_speed.json').write_text(json.dumps(res, indent=1))
    for name, kw in archs.items():
        base = testbed_unet(**kw).to(dev).half().eval().requires_grad_(False)
        x1 = torch.randn(8, 1, 28, 28, device=dev, dtype=torch.half)
        with FlopCounterMode(display=False) as fc: base(x1, torch.full((8,), 500, device=dev), class_labels=torch.arange(8, device=dev))
        gf = fc.get_total_flops() / 8 / 1e9
        res['archs'][name] = dict(gflop_per_sample=gf, variants={})
        for var in a.variants:
            if time.time() - t_all > a.budget: res['skipped'].append(f'{name}/{var}'); continue
            m = base.to(memory_format=torch.channels_last if var.endswith('_cl') else torch.contiguous_format)
            t0 = time.time()
            f = torch.compile(m, dynamic=True) if var.startswith('compiled') else m
            row = {}
            for B in a.batches:
                x = torch.randn(B, 1, 28, 28, device=dev, dtype=torch.half)
                t, y = torch.randint(0, 1000, (B,), device=dev), torch.randint(0, 11, (B,), device=dev)
                with torch.no_grad():
                    if var.startswith('compiled') and B == a.batches[0]:
                        f(x, t, class_labels=y); torch.cuda.synchronize(); row['compile_s'] = round(time.time() - t0, 1)
                    s = timeit(lambda: f(x, t, class_labels=y), a.reps)
                row[str(B)] = dict(ms=round(s * 1e3, 2), samples_per_s=round(B / s), tflops=round(gf * B / s / 1e3, 1))
            res['archs'][name]['variants'][var] = row; save()
            print(name, var, row, flush=True)
    if time.time() - t_all < a.budget + 60:
        judges = load_judges(device=dev); ref = reference(judges, a.n, None)
        xte, yte = load_fashion_mnist('test'); xs, ys = xte[:a.n], yte[:a.n]
        t0 = time.time(); score(xs, ys, saturation(xs.float() / 127.5 - 1), ref, judges); s_all = time.time() - t0
        t0 = time.time(); score(xs, ys, None, ref, {'cnn': judges['cnn']}); s_cnn = time.time() - t0
        res['score_seconds'] = dict(n=a.n, all_spaces=round(s_all, 3), cnn_only=round(s_cnn, 3))
        print('score', res['score_seconds'], flush=True)
    res['seconds'] = round(time.time() - t_all, 1); save()

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--batches', type=int, nargs='+', default=[16384, 12000])
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--budget', type=float, default=150)
    ap.add_argument('--variants', nargs='+', default=['eager', 'compiled_cl', 'eager_cl', 'compiled'])
    main(ap.parse_args())

"""Probe: how fast the testbed UNets run at the benchmark's batch sizes, eager and compiled, and what scoring one run costs.

Informs bench/run_full.py's settings (issue 11: the full sweep within 10 minutes on one H200). One GPU call:
    python3 bench/probe_testbed_speed.py --out $OUT [--budget 150] [--plan ARCH:VARIANT:B1,B2 ...]
Writes OUT/probe_testbed_speed.json: per architecture and variant, ms per forward at each batch, samples/s and TFLOP/s
(FLOPs from torch.utils.flop_counter), compile seconds; and the seconds of `metrics.score` for one run of n samples.
Random weights (timing only). The plan runs in order while the time used is under --budget; the rest is listed as skipped.
A static variant is what `run_bench(compile=True)` runs: one compile for its chunk size (bench.COMPILE_CHUNK).
"""
import argparse, json, time
from datetime import datetime, timezone
from pathlib import Path
import torch

def sync():
    if torch.cuda.is_available(): torch.cuda.synchronize()

def timeit(f, reps):
    f(); sync()
    t0 = time.perf_counter()
    for _ in range(reps): f()
    sync()
    return (time.perf_counter() - t0) / reps

def main(a):
    from torch.utils.flop_counter import FlopCounterMode
    from cfg_guidance.testbed import testbed_unet, load_fashion_mnist
    from cfg_guidance.metrics import load_judges, reference, score, saturation
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    dev, t_all = torch.device(a.device), time.time()
    res = dict(card=torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu', date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               torch=torch.__version__, archs={}, skipped=[])
    archs = dict(wellfit=dict(channels=(64, 128, 160), layers=2, attn=True),
                 underfit=dict(channels=(32, 64, 128), layers=1, attn=True))
    def save(): Path(a.out, 'probe_testbed_speed.json').write_text(json.dumps(res, indent=1))
    bases = {}
    for spec in a.plan:  # ARCH:VARIANT:B1,B2,... in the order given
        name, var, bs = spec.split(':')
        batches = [int(b) for b in bs.split(',')]
        if name not in bases:
            base = bases[name] = testbed_unet(**archs[name]).to(dev).half().eval().requires_grad_(False)
            x1 = torch.randn(8, 1, 28, 28, device=dev, dtype=torch.half)
            with FlopCounterMode(display=False) as fc: base(x1, torch.full((8,), 500, device=dev), class_labels=torch.arange(8, device=dev))
            res['archs'].setdefault(name, dict(gflop_per_sample=fc.get_total_flops() / 8 / 1e9, variants={}))
        base, gf = bases[name], res['archs'][name]['gflop_per_sample']
        m = base.to(memory_format=torch.channels_last if '_cl' in var else torch.contiguous_format)
        compiled = var.startswith(('compiled', 'static'))
        if compiled:
            torch._dynamo.reset()
            mode = 'max-autotune-no-cudagraphs' if var.endswith('_autotune') else None
            f = torch.compile(m, dynamic=var.startswith('compiled'), mode=mode)
        else: f = m
        row = res['archs'][name]['variants'].setdefault(var, {})
        for B in batches:
            if time.time() - t_all > a.budget: res['skipped'].append(f'{name}/{var}/{B}'); continue
            x = torch.randn(B, 1, 28, 28, device=dev, dtype=torch.half)
            t, y = torch.randint(0, 1000, (B,), device=dev), torch.randint(0, 11, (B,), device=dev)
            with torch.no_grad():
                t0 = time.time()
                if compiled: f(x, t, class_labels=y); sync()
                cs = time.time() - t0
                s = timeit(lambda: f(x, t, class_labels=y), a.reps)
            row[str(B)] = dict(ms=round(s * 1e3, 2), samples_per_s=round(B / s), tflops=round(gf * B / s / 1e3, 1),
                               **(dict(compile_s=round(cs, 1)) if compiled else {}))
            save(); print(name, var, B, row[str(B)], flush=True)
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
    ap.add_argument('--device', default='cuda', help='cpu: a dry run of the plumbing')
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--budget', type=float, default=150)
    ap.add_argument('--plan', nargs='+', default=['wellfit:eager:2048,4096,8192', 'wellfit:eager_cl:2048,8192',
                    'wellfit:static_cl:2048,1024,4096', 'underfit:eager:2048,8192', 'underfit:static_cl:2048',
                    'wellfit:static:2048', 'wellfit:static_cl_autotune:2048'],
                    help='ARCH:VARIANT:B1,B2,... in order; variants: eager, static (torch.compile dynamic=False, one compile per '
                         'batch size), compiled (dynamic=True); _cl: channels-last; _autotune: max-autotune-no-cudagraphs')
    main(ap.parse_args())

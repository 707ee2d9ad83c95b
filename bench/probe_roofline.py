#!/usr/bin/env python
"""Where the grid's time goes: the SD v1 UNet forward at batch 20 (the grid's shape), by kernel class, with the FLOPs
each class does and the rate it reaches; then the float8 lever (torchao) in a child process with its own time limit.

Why: the grid is 50 of these forwards (plus text encoding and one decode). The 1.5 s goal needs the forward at about
28 ms; this probe shows which kernels stand between today's compiled forward and that, and what the float8 lever,
which can only reach the GEMMs (linear layers), could give at most.

    python3 bench/probe_roofline.py --out $OUT              # GPU: SD v1 shapes, random weights, fp16, batch 20
    python3 bench/probe_roofline.py --out /tmp/r --device cpu --size 64 --no-fp8   # plumbing check on the CPU

Results: roofline_<card>.json and .md in --out, written after every stage (a stage that runs out of time leaves the others).
"""
from __future__ import annotations
import time
T0 = time.perf_counter()
import argparse, datetime, json, os, statistics, subprocess, sys
from collections import Counter, defaultdict
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch
import speed as S  # the model builders, kernel classes and timing helpers of the speed benchmark

CATS = ('convolution', 'GEMM/matmul', 'attention', 'norm/reduction', 'elementwise/other')

def op_cat(op):
    "A FlopCounterMode op -> the kernel class that runs it."
    n = str(op)
    if 'convolution' in n: return 'convolution'
    if 'attention' in n: return 'attention'
    if any(k in n for k in ('mm', 'matmul', 'linear')): return 'GEMM/matmul'
    return 'elementwise/other'

def flops_by_cat(unet, x, t, emb):
    "FLOPs of one forward per kernel class, counted on the real device (SDPA dispatches to its fused kernel there)."
    from torch.utils.flop_counter import FlopCounterMode
    import torch.nn.functional as F
    sdpa, att = F.scaled_dot_product_attention, [0]
    def counted(q, k, v, *a, **kw):  # 2 matmuls of 2*L*S*D each per head: the analytic count, if the counter lacks the op
        att[0] += 4 * q.shape[:-2].numel() * q.shape[-2] * k.shape[-2] * q.shape[-1]
        return sdpa(q, k, v, *a, **kw)
    F.scaled_dot_product_attention = counted
    try:
        with FlopCounterMode(display=False) as fc: unet(x, t, encoder_hidden_states=emb)
    finally: F.scaled_dot_product_attention = sdpa
    out = Counter()
    for op, f in fc.get_flop_counts().get('Global', {}).items(): out[op_cat(op)] += f
    if att[0] and not out.get('attention'): out['attention'] = att[0]  # SDPA ran as a kernel the counter does not know
    return dict(out)

def kernels_by_cat(fn, dev, n=5):
    "Device ms per call by kernel class, from torch.profiler over `n` calls (speed.py's kernel classes); and the top kernels."
    from torch.profiler import profile, ProfilerActivity
    fn(); S.sync(dev)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == 'cuda' else [])
    with profile(activities=acts) as p:
        for _ in range(n): fn()
        S.sync(dev)
    ks = S.kernel_summary(p, 1.)  # the wall time only scales its busy fraction, which is not used here
    if ks is None: return {}, []
    return ({c: v / 100 * ks['kernel_ms'] / n for c, v in ks['split_pct'].items()},
            [dict(kernel=o['kernel'], ms=o['ms'] / n, cat=o['cat']) for o in ks['top10']])

def table(flops, ms, peak):
    "Per class: ms, share of the forward's kernel time, FLOPs, TFLOP/s reached, % of the dense peak."
    tot = sum(ms.values()) or 1
    return {c: dict(ms=ms.get(c, 0.), pct_kernel_time=100 * ms.get(c, 0.) / tot, gflop=flops.get(c, 0) / 1e9,
                    tflops=(flops.get(c, 0) / (ms[c] / 1e3) / 1e12) if ms.get(c) and flops.get(c) else None,
                    pct_peak=(100 * flops.get(c, 0) / (ms[c] / 1e3) / peak) if ms.get(c) and flops.get(c) and peak else None)
            for c in CATS}

def markdown(d):
    "The probe's report: the forward by kernel class (eager and compiled), the bounds on the grid, the float8 lever."
    m, L = d['meta'], []
    L += [f"# Where the grid's UNet time goes: {m['device']}", '',
          f"{m['date']} · torch {m['torch']} · diffusers {m['diffusers']} · {m['model']}; one forward at batch {m['batch']} "
          f"(the grid's shape), {m['latent']}x{m['latent']} latents, {m['dtype'].replace('torch.', '')}. `bench/probe_roofline.py`.", '',
          "Kernel ms per forward by class from torch.profiler (5 forwards); FLOPs per class from "
          "`torch.utils.flop_counter` on the same forward; % of peak against " + str(m.get('peak_note')) + '.', '']
    fl = d.get('flops', {})
    for k, f in d.get('forwards', {}).items():
        L += [f"**{k}**: {f['forward_ms']:.2f} ms a forward (kernel time {f['kernel_ms']:.2f} ms)"
              + (f", compiled in {f['compile_s']:.0f} s" if f.get('compile_s') else '') + '.', '',
              '| class | ms | % of kernel time | GFLOP | TFLOP/s | % of peak |', '|---|---:|---:|---:|---:|---:|']
        L += [f"| {c} | {v['ms']:.2f} | {v['pct_kernel_time']:.1f} | {v['gflop']:.0f} | "
              f"{'' if v['tflops'] is None else format(v['tflops'], '.0f')} | {'' if v['pct_peak'] is None else format(v['pct_peak'], '.0f')} |"
              for c, v in f['by_cat'].items()]
        L += ['']
    b = d.get('bounds')
    if b:
        g = b['goal_forward_ms']
        L += ['**What the goal needs.** ' + f"The grid's 50 compiled forwards take {b['grid_unet_s']:.2f} s. A 1.5 s grid needs the forward "
              f"at about {g['1.5 s']:.0f} ms (1.2 s: {g['1.2 s']:.0f} ms), allowing ~0.1 s for text encoding and the decode. "
              f"The matmul classes alone (convolution, GEMM, attention) take {b['matmul_class_ms']:.1f} ms a forward: with every "
              f"memory-bound kernel (norms, elementwise) free, the grid would still take {b['grid_if_memory_ops_were_free_s']:.2f} s. "
              f"float8 can reach only the GEMMs: at twice their fp16 speed the forward would be {b['fp8_best_case_forward_ms']:.1f} ms.", '']
    f8 = d.get('fp8')
    if f8:
        if f8.get('skipped'): L += [f"**float8**: skipped ({f8['skipped']})."]
        else:
            L += [f"**float8** ({f8.get('config')}; torchao {f8.get('torchao', '?')}): {f8.get('status')}. "
                  + (f"Eager: {f8['eager_ms']:.1f} ms a forward ({f8['vs_fp16_eager']:.2f}x the fp16 eager speed), relative L2 "
                     f"{f8['eager_rel_l2']:.3f} against the fp16 output. " if f8.get('eager_ms') else '')
                  + (f"Compiled: {f8['compiled_ms']:.1f} ms ({f8['vs_fp16_compiled']:.2f}x), relative L2 {f8['compiled_rel_l2']:.3f}, "
                     f"compile {f8['compile_s']:.0f} s." if f8.get('compiled_ms') else 'The compiled forward was not reached.')]
    return '\n'.join(L) + '\n'

class Out:
    def __init__(self, path, meta): self.path, self.d = path, dict(meta=meta)
    def put(self, k, v):
        self.d[k] = v; self.path.write_text(json.dumps(self.d, indent=1, default=str) + '\n')
        self.path.with_suffix('.md').write_text(markdown(self.d)); print(k, json.dumps(v, default=str)[:900], flush=True)

FP8_CHILD = r'''
import json, sys, time, torch
sys.path.insert(0, {bench!r}); import speed as S
from diffusers import UNet2DConditionModel
out, b, h = {out!r}, {b}, {h}
res = {{}}
def put(k, v): res[k] = v; open(out, 'w').write(json.dumps(res, indent=1, default=str)); print('fp8', k, v, flush=True)
dev = torch.device('cuda'); torch.set_grad_enabled(False); torch.manual_seed(0)
with torch.device(dev): u = UNet2DConditionModel(**S.SD_V1_UNET).eval().half()
x = torch.randn(b, 4, h, h, device=dev, dtype=torch.half); e = torch.randn(b, 77, 768, device=dev, dtype=torch.half)
t = torch.tensor(500., device=dev)
ref = u(x, t, encoder_hidden_states=e).sample.float()
import torchao
put('torchao', torchao.__version__)
S.fp8_linears(u)
f = lambda: u(x, t, encoder_hidden_states=e)
y = f().sample.float(); put('eager_rel_l2', ((y - ref).norm() / ref.norm()).item())
put('eager_ms', S.per_call_ms(f, dev, n=5, blocks=2))
cu = torch.compile(u, dynamic=False); g = lambda: cu(x, t, encoder_hidden_states=e)
t0 = time.perf_counter(); y = g().sample.float(); torch.cuda.synchronize(); put('compile_s', time.perf_counter() - t0)
put('compiled_rel_l2', ((y - ref).norm() / ref.norm()).item())
put('compiled_ms', S.per_call_ms(g, dev, n=5, blocks=4))
'''

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True); ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--size', type=int, default=512); ap.add_argument('--batch', type=int, default=20)
    ap.add_argument('--steps', type=int, default=50, help="the grid's steps (for the per-grid bounds)")
    ap.add_argument('--budget', type=float, default=560, help='seconds from start; the float8 child gets what is left')
    ap.add_argument('--no-fp8', action='store_true')
    a = ap.parse_args()
    dev, out = torch.device(a.device), Path(a.out); out.mkdir(parents=True, exist_ok=True)
    gpu = dev.type == 'cuda'; torch.set_grad_enabled(False)
    import diffusers
    dt = torch.float16 if gpu else torch.float32
    sd, _, desc = S.build_models(dev, dt, a.size)
    unet, h = sd.unet, a.size // 8
    now = datetime.datetime.now(datetime.timezone.utc)
    O = Out(out / f'roofline_{S.card_name(dev)}.json', dict(
        device=torch.cuda.get_device_name(dev) if gpu else 'CPU', date=now.strftime('%Y-%m-%d %H:%M UTC'), torch=torch.__version__,
        diffusers=diffusers.__version__, model=desc, batch=a.batch, latent=h, dtype=str(dt), peak_tflops=S.PEAK_FLOPS / 1e12 if gpu else None,
        peak_note=S.PEAK_NOTE, grid_steps=a.steps))
    x = torch.randn(a.batch, unet.config.in_channels, h, h, device=dev, dtype=dt)
    emb = torch.randn(a.batch, 77, unet.config.cross_attention_dim, device=dev, dtype=dt)
    t = torch.tensor(500., device=dev)
    fl = flops_by_cat(unet, x, t, emb); O.put('flops', dict(by_cat_gflop={k: v / 1e9 for k, v in fl.items()}, total_gflop=sum(fl.values()) / 1e9))
    peak = S.PEAK_FLOPS if gpu else None
    res = {}
    ef = lambda: unet(x, t, encoder_hidden_states=emb)
    res['eager'] = dict(forward_ms=S.per_call_ms(ef, dev, n=5, blocks=4))
    ms, top = kernels_by_cat(ef, dev); res['eager'].update(by_cat=table(fl, ms, peak), kernel_ms=sum(ms.values()), top=top)
    O.put('forwards', res)
    t0 = time.perf_counter(); cu = torch.compile(unet, dynamic=False); cf = lambda: cu(x, t, encoder_hidden_states=emb)
    cf(); S.sync(dev); cs = time.perf_counter() - t0
    res['compiled'] = dict(forward_ms=S.per_call_ms(cf, dev, n=5, blocks=4), compile_s=cs)
    ms, top = kernels_by_cat(cf, dev); res['compiled'].update(by_cat=table(fl, ms, peak), kernel_ms=sum(ms.values()), top=top)
    O.put('forwards', res)
    # what the goal needs, and what is out of reach of each lever
    c = res['compiled']; bc = c['by_cat']; fwd = c['forward_ms']
    mm = sum(bc[k]['ms'] for k in ('convolution', 'GEMM/matmul', 'attention'))
    O.put('bounds', dict(
        grid_unet_s=fwd * a.steps / 1e3,
        goal_forward_ms=dict(zip(('1.5 s', '1.2 s'), [(g - 0.10) / a.steps * 1e3 for g in (1.5, 1.2)])),  # ~0.1 s: text + decode (speed_h200)
        matmul_class_ms=mm, memory_class_ms=sum(bc[k]['ms'] for k in ('norm/reduction', 'elementwise/other')),
        grid_if_memory_ops_were_free_s=mm * a.steps / 1e3,
        fp8_best_case_forward_ms=fwd - bc['GEMM/matmul']['ms'] / 2,
        note='~0.10 s of the grid is text encoding and the decode (speed_h200.md); fp8 best case: every GEMM at twice its fp16 speed, nothing else changed'))
    if a.no_fp8 or not gpu: O.put('fp8', dict(skipped='--no-fp8' if a.no_fp8 else 'needs a CUDA GPU')); return
    del cu; torch._dynamo.reset(); torch.cuda.empty_cache()
    left = a.budget - (time.perf_counter() - T0)
    fo = out / 'fp8_child.json'
    code = FP8_CHILD.format(bench=str(Path(__file__).resolve().parent), out=str(fo), b=a.batch, h=h)
    try:
        r = subprocess.run([sys.executable, '-c', code], timeout=max(left, 10), capture_output=True, text=True)
        tail = (r.stdout + r.stderr)[-1500:]; status = f'exit {r.returncode}'
    except subprocess.TimeoutExpired as e:
        tail = ((e.stdout or b'').decode() if isinstance(e.stdout, bytes) else (e.stdout or ''))[-1000:]; status = f'stopped at the time limit ({left:.0f} s)'
    d = json.loads(fo.read_text()) if fo.exists() else {}
    O.put('fp8', dict(status=status, **d, tail=tail[-800:], config='torchao Float8DynamicActivationFloat8WeightConfig (per-tensor) on nn.Linear with features % 16 == 0',
                      vs_fp16_compiled=(fwd / d['compiled_ms']) if d.get('compiled_ms') else None,
                      vs_fp16_eager=(res['eager']['forward_ms'] / d['eager_ms']) if d.get('eager_ms') else None))

if __name__ == '__main__': main()

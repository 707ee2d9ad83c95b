"""Probe: GPU kernel time of per-sample quantile variants (the reduction of dynamic thresholding and mimic scale).

One GPU call (well under a minute):
    python3 bench/probe_quantile.py --out $OUT
Writes OUT/probe_quantile.json: for each shape and q, µs per call of each variant, from 20 calls captured in one CUDA
graph and replayed (kernel time without launch overhead, as bench/speed.py measures the rules), and each variant's
largest difference from torch.quantile. Variants: `sort` (sort the row, interpolate), `topk` (guiders._quantile: the
order statistics from the nearer end), `kthvalue` (the two order statistics by selection), `torch.quantile`.
"""
import argparse, json, math, time
from datetime import datetime, timezone
from pathlib import Path
import torch

def q_sort(f, q):
    n = f.shape[-1]; pos = q * (n - 1); lo = math.floor(pos); hi = min(lo + 1, n - 1)
    s = f.sort(-1).values
    return torch.lerp(s[..., lo:lo+1], s[..., hi:hi+1], pos - lo)

def q_kth(f, q):
    n = f.shape[-1]; pos = q * (n - 1); lo = math.floor(pos); hi = min(lo + 1, n - 1)
    a = f.kthvalue(lo + 1, -1, keepdim=True).values
    b = a if hi == lo else f.kthvalue(hi + 1, -1, keepdim=True).values
    return torch.lerp(a, b, pos - lo)

def graph_us(fn, x, calls=20, reps=50):
    s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3): fn(x)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(calls): fn(x)
    g.replay(); torch.cuda.synchronize()
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    for _ in range(reps): g.replay()
    e1.record(); torch.cuda.synchronize()
    return e0.elapsed_time(e1) * 1e3 / (reps * calls)

def main(a):
    from cfg_guidance.guiders import _quantile
    dev = torch.device('cuda')
    res = dict(card=torch.cuda.get_device_name(), date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               torch=torch.__version__, rows=[])
    variants = dict(sort=q_sort, topk=_quantile, kthvalue=q_kth, torch_quantile=lambda f, q: torch.quantile(f, q, dim=-1, keepdim=True))
    for B, N in ((1, 16384), (2, 16384), (20, 16384), (1, 4 * 128 * 128)):
        for q in (0.9, 0.995, 1.0):
            x = torch.randn(B, N, device=dev)
            ref = torch.quantile(x, q, dim=-1, keepdim=True)
            row = dict(shape=[B, N], q=q)
            for name, f in variants.items():
                try:
                    row[name + '_us'] = round(graph_us(lambda t: f(t, q), x), 2)
                    row[name + '_maxdiff'] = float((f(x, q) - ref).abs().max())
                except Exception as e: row[name + '_error'] = f'{type(e).__name__}: {e}'[:200]
            res['rows'].append(row); print(row, flush=True)
    Path(a.out, 'probe_quantile.json').write_text(json.dumps(res, indent=1))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    main(ap.parse_args())

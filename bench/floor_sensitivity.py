"""How strict is the well-fit bar? FD of slightly perturbed *real* images over the real-data floor, in every space.

The testbed quality cards (and issue 11's bar: FD at G = 1 at most 3x the floor in the judge CNN's space) compare a
model's samples with the floor: 2,000 real train images (balanced classes, `bench.floor_scores`' draw) scored against
all 10,000 test images. This script scores the same 2,000 real images after small, known corruptions (pixel noise,
blur, a one-pixel shift, a contrast change) and reports each one's FD over the floor per space, so a card's "35x" or
"8.4x" can be read as "about as far as real images with this corruption". CPU, about a minute:
    OMP_NUM_THREADS=1 .venv/bin/python bench/floor_sensitivity.py --out bench/results/floor_sensitivity_cpu.json
"""
import argparse, json, platform, time
from datetime import datetime, timezone
from pathlib import Path
import torch, torch.nn.functional as F

def blur(x, s):
    "Gaussian blur of float images (N, H, W) with std `s` pixels (kernel radius 3s, reflect padding)."
    r = max(1, int(3 * s + 0.5)); k = torch.exp(-torch.arange(-r, r + 1).float() ** 2 / (2 * s * s)); k = k / k.sum()
    y = F.pad(x[:, None], (r, r, r, r), mode='reflect')
    y = F.conv2d(F.conv2d(y, k.view(1, 1, 1, -1)), k.view(1, 1, -1, 1))
    return y[:, 0]

def corruptions(seed=0):
    "name -> function of float images in 0..255 (N, H, W) -> float images; each a small, known change."
    g = lambda: torch.Generator().manual_seed(seed)
    out = {f'noise {s}/255': (lambda x, s=s: x + s * torch.randn(x.shape, generator=g())) for s in (2, 4, 8, 16)}
    out.update({f'blur {s} px': (lambda x, s=s: blur(x, s)) for s in (0.3, 0.5, 0.7, 1.0)})
    out['shift 1 px'] = lambda x: F.pad(x, (1, 0))[:, :, :-1]
    out.update({f'contrast x{c}': (lambda x, c=c: x * c) for c in (0.95, 0.9)})
    return out

def main(a):
    from cfg_guidance.metrics import load_judges, reference, score, balanced_idx
    from cfg_guidance.testbed import load_fashion_mnist
    t0 = time.time()
    judges = load_judges(); ref = reference(judges, a.n)
    x, y = load_fashion_mnist('train'); idx = balanced_idx(y, a.n, seed=2)
    xs, ys = x[idx], y[idx]
    def run(imgs): s = score(imgs, ys, None, ref, judges); return {k: s[k] for k in ('accuracy', *(f'fd_{sp}' for sp in judges))}
    floor = run(xs)
    rows = {}
    for name, f in corruptions().items():
        u8 = f(xs.float()).round().clamp(0, 255).to(torch.uint8)
        s = run(u8)
        rows[name] = dict(s, **{f'ratio_{sp}': s[f'fd_{sp}'] / floor[f'fd_{sp}'] for sp in judges})
        print(name, {k: round(v, 3) for k, v in rows[name].items()}, flush=True)
    cards = {}
    for tb, folder in (('underfit', 'testbed'), ('wellfit', 'wellfit'), ('flow', 'flow')):
        fn = Path(__file__).resolve().parent.parent/'cfg_guidance'/'models'/folder/'quality.json'
        if fn.exists():
            sm = json.loads(fn.read_text())['summary']; cards[tb] = {sp: sm[sp]['fd_g1_over_floor'] for sp in judges if sp in sm}
    res = dict(date=datetime.now(timezone.utc).isoformat(timespec='seconds'), machine=f'{platform.machine()} CPU, torch {torch.__version__}',
               n=a.n, floor=floor, corruptions=rows, cards_fd_g1_over_floor=cards, seconds=round(time.time() - t0, 1),
               command='OMP_NUM_THREADS=1 .venv/bin/python bench/floor_sensitivity.py --out ' + a.out)
    Path(a.out).write_text(json.dumps(res, indent=1))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--n', type=int, default=2000, help='real images scored (the cards use 2,000)')
    main(ap.parse_args())

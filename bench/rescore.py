"""Re-score a benchmark folder's evaluation runs with an independent judge, as a check on its verdicts.

    python bench/rescore.py RESULTS_DIR [--device cuda]      # writes RESULTS_DIR/rescore.csv

Independent of the benchmark's own scoring in every part that could bias it: the features are those of a fixed,
seeded, *untrained* convolutional net (multi-scale pooled activations; nothing fitted on any data, so nothing can
favour a method through training), and the Frechet distance and KID are computed by torchmetrics' code
(`FrechetInceptionDistance` / `KernelInceptionDistance` with a custom feature extractor), not ours. The reference is
the whole real Fashion-MNIST test split. Each evaluation run (tag '') gets `fd_indep` and `kid_indep`; its accuracy is
copied from results.csv (the verdict compares at matched accuracy).
"""
import argparse, csv, math, sys
from pathlib import Path
import numpy as np, torch, torch.nn as nn

class RandomConvFeatures(nn.Module):
    "A fixed random conv net (seed 1234): global mean and std of three levels' ReLU activations, 2 x 224 features."
    num_features = 448
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(1234)
        chans, self.convs = [1, 32, 64, 128], nn.ModuleList()
        for ci, co in zip(chans, chans[1:]):
            c = nn.Conv2d(ci, co, 3, stride=2 if ci > 1 else 1, padding=1)
            with torch.no_grad():
                c.weight.copy_(torch.randn(c.weight.shape, generator=g) * math.sqrt(2 / (ci * 9))); c.bias.zero_()
            self.convs.append(c)
        self.requires_grad_(False).eval()
    def forward(self, x):  # x: float (N, 1, H, W) in [-1, 1]
        out = []
        for c in self.convs:
            x = torch.relu(c(x)); out += [x.mean((2, 3)), x.std((2, 3))]
        return torch.cat(out, 1)

def to_pm1(u8): return torch.as_tensor(np.asarray(u8)).float()[:, None] / 127.5 - 1

def main(a):
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance
    from cfg_guidance.bench_store import read_csv, load_samples
    from cfg_guidance.testbed import load_fashion_mnist
    d, dev = Path(a.results), torch.device(a.device)
    feat = RandomConvFeatures().to(dev)
    rows = [r for r in read_csv(d/'results.csv')[0] if not r.get('tag') and r.get('status', 'ok') == 'ok']
    xr, _ = load_fashion_mnist('test')
    fid = FrechetInceptionDistance(feature=feat, reset_real_features=False).to(dev)
    n = int(rows[0]['n']) if rows else 0
    kid = KernelInceptionDistance(feature=feat, reset_real_features=False, subsets=10, subset_size=max(2, min(n, 1000) // 2)).to(dev)
    for i in range(0, len(xr), 2000):
        b = to_pm1(xr[i:i + 2000]).to(dev); fid.update(b, real=True); kid.update(b, real=True)
    out = []
    for r in rows:
        s = load_samples(d/'samples'/f"{r['id']}.npz")
        if s is None: continue
        x = to_pm1(s['images']).to(dev)
        fid.reset(); kid.reset(); fid.update(x, real=False); kid.update(x, real=False)
        km, ks = kid.compute()
        out.append(dict(id=r['id'], method=r['method'], strength=r['strength'], seed=r['seed'], tag='',
                        accuracy=r['accuracy'], fd_indep=float(fid.compute()), kid_indep=float(km), kid_se_indep=float(ks)))
    with open(d/'rescore.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, ['id', 'method', 'strength', 'seed', 'tag', 'accuracy', 'fd_indep', 'kid_indep', 'kid_se_indep'])
        w.writeheader(); w.writerows(out)
    print(f'rescored {len(out)} runs of {d} -> {d/"rescore.csv"}')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('results'); ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    main(ap.parse_args())

"""Train the testbeds (`wellfit` epsilon, `flow` rectified flow, a weak model for each, for AutoGuidance) and the
extra judges (`ae`, `pca`), and write every testbed's quality card (accuracy, FD/KID/P/R in every space vs G).

GPU (what made the shipped weights: one H200, one call of ~8 min; see RECIPES and each testbed's card):
    python3 tools/train_testbeds.py --out /tmp/run --compile --wellfit-seconds 350 --flow-seconds 240 --deadline 490
The first testbed (`underfit`) and the judge CNN were made by this script's predecessor (one H100, 330 s); group U
retrains both with the same recipe (RECIPES['underfit'], `train_judge` 10 epochs), then writes their card:
    python3 tools/train_testbeds.py --out /tmp/run --groups A,U --underfit-seconds 330
wellfit-v2 (not shipped; one H200, full train split in CFG_GUIDANCE_DATA; card in bench/results/wellfit_v2/):
    python3 tools/train_testbeds.py --out /tmp/run --compile --groups B --wellfit-recipe wellfit-v2 --wellfit-seconds 360 \
        --deadline 545 --extra-steps 100 --card-seconds 170
CPU smoke test (~5 min, tiny models, nothing usable):
    OMP_NUM_THREADS=1 .venv/bin/python tools/train_testbeds.py --device cpu --tiny --out /tmp/tbs --n-train 2000 \
        --iters 20 --wellfit-seconds 20 --flow-seconds 20 --weak-seconds 10 --underfit-weak-seconds 10
Writes OUT/judges/{ae,pca}.safetensors + judges.json; OUT/wellfit/ and OUT/flow/ (diffusers folders with weak/,
quality.json, train_log.txt, samples.png); OUT/underfit/ (weak/, quality.json, card_log.txt, samples.png: the
under-fit model itself is the shipped one and is not retrained). Ship: OUT/judges/*.safetensors ->
cfg_guidance/models/judge/; OUT/wellfit -> cfg_guidance/models/wellfit/; OUT/flow -> cfg_guidance/models/flow/;
OUT/underfit/{weak,quality.json,samples.png} -> cfg_guidance/models/testbed/.
On a GPU three processes share it: (A) judges, weak models, the under-fit card; (B) wellfit; (C) flow. Every
training stops on a wall-clock budget, and --deadline stops whatever is still running, so the call always ends.
Data: the Fashion-MNIST idx files (apt-get install dataset-fashion-mnist, or CFG_GUIDANCE_DATA=folder).
"""
import argparse, datetime, json, os, shutil, subprocess, sys, time
from pathlib import Path
import numpy as np, torch
from PIL import Image
from diffusers import DDIMScheduler, FlowMatchEulerDiscreteScheduler
import cfg_guidance
from cfg_guidance.core import to_u8
from cfg_guidance.testbed import (load_fashion_mnist, to_pm1, testbed_unet, testbed_scheduler, flow_scheduler, train_testbed,
                                  save_testbed, load_testbed, testbed_model, cfg_sample, testbed_path)
from cfg_guidance.metrics import (train_judge, class_accuracy, train_ae, fit_pca, save_judge, load_judge, reference, score,
                                  balanced_idx, saturation, JUDGES, judge_dir)

# The recipes. Sizes keep each testbed folder (model + weak model, fp16) under 20 MiB.
RECIPES = {
    'underfit': dict(channels=(32, 64, 128), layers=1, attn=True, objective='epsilon', bs=512, lr=1e-3, warmup=500,
                     ema=0.9995, decay=False, compile=False),
    'wellfit': dict(channels=(64, 128, 160), layers=2, attn=True, objective='epsilon', bs=256, lr=7e-4, warmup=500,
                    ema=0.9995, decay=True, compile=True),
    # wellfit-v2 (not shipped; --wellfit-recipe wellfit-v2): the GPU to itself, batch 1024, 360 s = 5,719 steps = 98 epochs
    # (the shipped v1: 350 s shared with two other trainings, 3,955 steps of 256 = 17 epochs). Its card is
    # bench/results/wellfit_v2/: FD(G=1)/floor 28.7 in the cnn space (v1 35), FD-optimal G 1.25 (v1 1.5), but its best FD
    # in each space is no lower than v1's; see bench/README.md.
    'wellfit-v2': dict(channels=(64, 128, 160), layers=2, attn=True, objective='epsilon', bs=1024, lr=1e-3, warmup=300,
                       ema=0.9995, decay=True, compile=True),
    'flow':    dict(channels=(64, 128, 160), layers=2, attn=True, objective='flow', bs=256, lr=7e-4, warmup=500,
                    ema=0.9995, decay=True, compile=True),
    'wellfit-weak':  dict(channels=(32, 64, 64), layers=1, attn=True, objective='epsilon', bs=256, lr=1e-3, warmup=200,
                          ema=0.999, decay=True, compile=False),
    'flow-weak':     dict(channels=(32, 64, 64), layers=1, attn=True, objective='flow', bs=256, lr=1e-3, warmup=200,
                          ema=0.999, decay=True, compile=False),
    'underfit-weak': dict(channels=(16, 32, 64), layers=1, attn=False, objective='epsilon', bs=256, lr=1e-3, warmup=200,
                          ema=0.999, decay=True, compile=False),
}
TINY = dict(channels=(16, 32, 32), layers=1, attn=False, bs=32, warmup=5, compile=False)
CFG_SCALES, AG_SCALES, GRID_SCALES = (0, 1, 1.25, 1.5, 2, 3, 5, 8), (1.5, 2, 3), (1, 1.5, 2, 3, 5)
EXTRA_SCALES = (1, 1.5, 2)  # scales also carded at --extra-steps

def grid_png(x, rows, fn, cols=10, pad=2):
    "Save uint8 images (rows*cols, H, W) as one PNG, row-major, `pad` px of white between cells, 3x enlarged."
    h, w = x.shape[-2:]
    g = np.full((rows*(h+pad)-pad, cols*(w+pad)-pad), 255, np.uint8)
    for i, im in enumerate(x.numpy()):
        r, c = divmod(i, cols); g[r*(h+pad):r*(h+pad)+h, c*(w+pad):c*(w+pad)+w] = im
    Image.fromarray(g).resize((g.shape[1]*3, g.shape[0]*3), Image.NEAREST).save(fn)

def now(): return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
def device_name(dev): return torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'
def n_params(m): return sum(p.numel() for p in m.parameters())
def write_json(fn, d): Path(fn).write_text(json.dumps(d, indent=1, default=float))

class Log:
    "Print with a prefix and append to a file."
    def __init__(self, tag, fn=None): self.tag, self.fn = tag, fn
    def __call__(self, s):
        print(f'[{self.tag}] {s}', flush=True)
        if self.fn: Path(self.fn).parent.mkdir(parents=True, exist_ok=True); open(self.fn, 'a').write(s + '\n')

def recipe(a, name):
    r = dict(RECIPES[name]); r.update(TINY if a.tiny else {})
    if not a.compile: r['compile'] = False
    return r

def train_one(a, name, seconds, data, dev, log):
    "Train testbed or weak model `name` for `seconds`; return (EMA UNet, scheduler, training record)."
    r = recipe(a, name); xtr, ytr = data
    torch.manual_seed(a.seed)
    unet = testbed_unet(channels=r['channels'], layers=r['layers'], attn=r['attn']).to(dev)
    sched = flow_scheduler() if r['objective'] == 'flow' else testbed_scheduler()
    log(f'{name}: {n_params(unet)/1e6:.2f} M parameters, {seconds:.0f} s, recipe {r}')
    t0 = time.time()
    ema, hist = train_testbed(unet, sched, xtr, ytr, iters=a.iters, bs=r['bs'], lr=r['lr'], warmup=r['warmup'],
                              ema=r['ema'], seconds=seconds, decay=r['decay'], compile=r['compile'],
                              log_every=a.log_every, log=log)
    secs, steps = time.time() - t0, hist[-1][0]
    log(f'{name}: {steps} steps in {secs:.0f}s ({steps/secs:.1f} it/s, {steps*r["bs"]/len(xtr):.1f} epochs)')
    rec = dict(recipe={**r, 'channels': list(r['channels']), 'p_uncond': 0.15, 'seconds_budget': seconds,
                       'optimizer': 'AdamW(wd=0), grad clip 1.0, bf16 autocast on CUDA',
                       'lr_schedule': 'linear warmup, then cosine to 0 over the time budget' if r['decay'] else 'constant'},
               params=n_params(unet), train_steps=steps, train_seconds=round(secs, 1),
               epochs=round(steps * r['bs'] / len(xtr), 2), final_loss=hist[-1][1], loss_history=hist,
               n_train=len(xtr), device=device_name(dev), torch=torch.__version__, date=now())
    return ema, sched, rec

def wait_for(paths, seconds, log):
    "Wait until every path exists (or `seconds` pass); return whether they all do."
    t0 = time.time()
    while not all(Path(p).exists() for p in paths):
        if time.time() - t0 > seconds: log(f'gave up waiting for {[str(p) for p in paths]}'); return False
        time.sleep(2)
    return True

# ---- group A: judges, weak models, the under-fit card --------------------------------------------------------------
def judges_part(a, out, data, dev, log):
    xtr, ytr = data; jd = out/'judges'; jd.mkdir(parents=True, exist_ok=True)
    xte, _ = load_fashion_mnist('test'); t0 = time.time()
    ae = train_ae(xtr, epochs=a.ae_epochs, bs=256, lr=2e-3, device=dev, seed=a.seed)
    with torch.no_grad():
        xt = to_pm1(xte).to(dev); mse = torch.nn.functional.mse_loss(ae(xt), xt).item()
    ae_info = dict(fitted_on=f'Fashion-MNIST train ({len(xtr)} images)', objective='MSE reconstruction',
                   epochs=a.ae_epochs, test_mse=mse, seconds=round(time.time() - t0, 1), device=device_name(dev), date=now())
    save_judge(ae.cpu(), jd/'ae.safetensors', info=ae_info); log(f'ae: {ae_info}')
    t0 = time.time(); pca = fit_pca(xtr, n_feat=64)
    pca_info = dict(fitted_on=f'Fashion-MNIST train ({len(xtr)} images)', explained=pca.info['explained'],
                    seconds=round(time.time() - t0, 1), date=now())
    save_judge(pca, jd/'pca.safetensors', info=pca_info); log(f'pca: {pca_info}')
    write_json(jd/'judges.json', dict(ae=ae_info, pca=pca_info))
    (jd/'done').write_text('ok')

def group_a(a, out, dev):
    log = Log('A', out/'judges'/'train_log.txt'); data = load_data(a)
    judges_part(a, out, data, dev, log)
    for tb in ('underfit', 'wellfit', 'flow'):
        wl = Log(f'A:{tb}-weak', out/tb/'weak'/'train_log.txt')
        ema, sched, rec = train_one(a, f'{tb}-weak', a.underfit_weak_seconds if tb == 'underfit' else a.weak_seconds, data, dev, wl)
        save_testbed(ema, sched, out/tb/'weak'); write_json(out/tb/'weak'/'train.json', rec)
    if 'U' not in a.groups.split(','): card(a, 'underfit', out, dev, Log('A:underfit-card', out/'underfit'/'card_log.txt'))

# ---- group U: the judge CNN and the under-fit testbed, retrained ----------------------------------------------------
def group_u(a, out, dev):
    log = Log('U', out/'underfit'/'train_log.txt'); data = load_data(a); t0 = time.time()
    judge = train_judge(*data, epochs=a.judge_epochs, device=dev, seed=a.seed)
    xte, yte = load_fashion_mnist('test')
    info = dict(fitted_on=f'Fashion-MNIST train ({len(data[0])} images)', objective='cross-entropy, shifts of up to 2 px',
                epochs=a.judge_epochs, test_accuracy=class_accuracy(xte, yte, judge), seconds=round(time.time() - t0, 1),
                device=device_name(dev), date=now())
    save_judge(judge.cpu(), out/'judges'/JUDGES['cnn'], info=info); log(f'cnn: {info}')
    ema, sched, rec = train_one(a, 'underfit', a.underfit_seconds, data, dev, log)
    save_testbed(ema, sched, out/'underfit'); write_json(out/'underfit'/'quality.json', dict(name='underfit', train=rec))
    card(a, 'underfit', out, dev, log)

# ---- groups B, C: a testbed and its card ---------------------------------------------------------------------------
def group_main(a, out, dev, name):
    log = Log(name, out/name/'train_log.txt'); data = load_data(a)
    ema, sched, rec = train_one(a, a.wellfit_recipe if name == 'wellfit' else name,
                                a.wellfit_seconds if name == 'wellfit' else a.flow_seconds, data, dev, log)
    save_testbed(ema, sched, out/name)                 # weak/ is written beside it by group A
    write_json(out/name/'quality.json', dict(name=name, train=rec))
    card(a, name, out, dev, log)

# ---- the quality card ----------------------------------------------------------------------------------------------
def load_data(a):
    x, y = load_fashion_mnist('train')
    if not a.n_train and len(x) < 60_000:   # e.g. the bench's 3,000-image subset carried to a GPU machine
        sys.exit(f'the Fashion-MNIST train split has {len(x)} images, not 60,000: point CFG_GUIDANCE_DATA at the full '
                 'files, or pass --n-train N to train on a subset on purpose')
    return (x[:a.n_train], y[:a.n_train]) if a.n_train else (x, y)

def card(a, name, out, dev, log):
    "Score the testbed at every CFG scale (and AutoGuidance) in every space; write quality.json and samples.png."
    t_card = time.time(); folder = out/name
    own = 'A' in a.groups.split(',')  # group A trains the ae/pca judges and the weak models in this run
    if own:                           # wait for them
        wait_for([out/'judges'/'done'], a.wait_seconds, log)
        wait_for([folder/'weak'/'config.json'], a.wait_seconds, log)
    elif not (folder/'weak'/'config.json').exists() and (testbed_path(name)/'weak'/'config.json').exists():
        shutil.copytree(testbed_path(name)/'weak', folder/'weak')   # the shipped weak model, shipped again beside it
        log(f'card {name}: weak model and judges are the shipped ones (group A not run)')
    if (folder/'config.json').exists(): tb = load_testbed(folder, device=dev)           # trained in this run
    else: tb = load_testbed(name, device=dev, weak=folder/'weak' if (folder/'weak'/'config.json').exists() else False)
    judges = {}
    for s in ('cnn', 'ae', 'pca'):  # this run's judge if it trained one, else the shipped one (the cnn always)
        fn = out/'judges'/JUDGES[s]
        if fn.exists() or s == 'cnn' or not own: judges[s] = load_judge(fn if fn.exists() else judge_dir()/JUDGES[s], dev)
    log(f'card {name}: {tb}, spaces {list(judges)}')
    prev = json.loads((folder/'quality.json').read_text()) if (folder/'quality.json').exists() else {}
    if name == 'underfit' and 'train' not in prev:   # the shipped model's training record, from its first card
        old = json.loads((testbed_path('underfit')/'quality.json').read_text())
        prev['train'] = old.get('train') or {k: old[k] for k in ('params', 'train_steps', 'train_seconds', 'batch', 'lr', 'ema',
                                                                  'final_loss', 'loss_history', 'device', 'torch') if k in old}
        prev['train'].setdefault('recipe', dict(channels=[32, 64, 128], layers=1, attn=True, objective='epsilon', bs=512,
                                                lr=1e-3, warmup=500, ema=0.9995, decay=False, p_uncond=0.15))
    n = a.n; labs = torch.arange(10).repeat(n // 10).to(dev)
    ref = reference(judges, n=n, n_ref=a.n_ref)
    xtr, ytr = load_fashion_mnist('train'); fi = balanced_idx(ytr, n, seed=2)
    floor = score(xtr[fi], ytr[fi], None, ref, judges)
    noise = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(a.seed + 1))
    sampler_cls = FlowMatchEulerDiscreteScheduler if tb.pred == 'flow' else DDIMScheduler
    q = dict(prev, name=name, pred=tb.pred, card='tools/train_testbeds.py', command=' '.join(sys.argv),
             date=now(), device=device_name(dev), torch=torch.__version__,
             params=n_params(tb.unet), weak_params=n_params(tb.weak) if tb.weak is not None else None,
             recipe=prev.get('train', {}).get('recipe'),
             weak_train=json.loads((folder/'weak'/'train.json').read_text()) if (folder/'weak'/'train.json').exists() else None, n=n, n_ref=ref['n_ref'], steps=a.steps,
             sampler=sampler_cls.__name__, spaces=list(judges), floor=floor, cfg=[], autoguidance=[])
    def run(G, model, guide=None, steps=None):
        t0 = time.time(); xs = []
        for i in range(0, n, a.chunk):
            xs.append(cfg_sample(model, sampler_cls.from_config(tb.scheduler.config), labs[i:i+a.chunk], G, steps or a.steps,
                                 x=noise[i:i+a.chunk], guide=guide).float().cpu())
        x = torch.cat(xs); t1 = time.time()
        r = dict(G=G, **score(to_u8(x)[:, 0], labs.cpu(), saturation(x), ref, judges), seconds=round(t1 - t0, 2),
                 score_seconds=round(time.time() - t1, 2))
        return r, x
    grid = {}
    def save():
        sp = list(judges); cfgr = q['cfg']
        if cfgr:
            q['summary'] = {s: dict(fd_opt_G=min(cfgr, key=lambda r: r[f'fd_{s}'])['G'],
                                    kid_opt_G=min(cfgr, key=lambda r: r[f'kid_{s}'])['G'],
                                    fd_floor=floor[f'fd_{s}'],
                                    fd_g1_over_floor=next((r[f'fd_{s}'] for r in cfgr if r['G'] == 1), float('nan')) / floor[f'fd_{s}'])
                            for s in sp}
            q['summary']['accuracy'] = {f'G={r["G"]:g}': r['accuracy'] for r in cfgr}
        q['card_seconds'] = round(time.time() - t_card, 1)
        write_json(folder/'quality.json', q)
    model = testbed_model(tb.unet)
    for G in CFG_SCALES:
        r, x = run(float(G), model); q['cfg'].append(r); save()
        log(f'{name} CFG G={G:<5g} acc {r["accuracy"]:.3f} ' + ' '.join(f'fd_{s} {r["fd_"+s]:.4f} kid_{s} {r["kid_"+s]:.5f}' for s in judges)
            + f' prec {r["precision"]:.3f} rec {r["recall"]:.3f} sat {r["saturation"]:.4f} ({r["seconds"]:.1f}+{r["score_seconds"]:.1f}s)')
        if G in GRID_SCALES: grid[f'G={G:g}'] = to_u8(x[:20])[:, 0]
    if a.extra_steps:   # the same scales with more sampler steps: how much of FD(G=1) the 25-step sampler costs
        q['cfg_extra_steps'] = dict(steps=a.extra_steps, rows=[])
        for G in EXTRA_SCALES:
            r, x = run(float(G), model, steps=a.extra_steps); q['cfg_extra_steps']['rows'].append(r); save()
            log(f'{name} CFG G={G:<5g} {a.extra_steps} steps: acc {r["accuracy"]:.3f} ' + ' '.join(f'fd_{s} {r["fd_"+s]:.4f}' for s in judges))
    if tb.weak is not None:
        r, x = run(1.0, testbed_model(tb.weak)); q['weak'] = r; save()
        log(f'{name} weak alone G=1: acc {r["accuracy"]:.3f} fd {r["fd"]:.4f}')
        for G in AG_SCALES:
            if time.time() - t_card > a.card_seconds: log(f'card time budget spent: AutoGuidance G={G} and on skipped'); break
            r, x = run(float(G), model, testbed_model(tb.weak)); q['autoguidance'].append(r); save()
            log(f'{name} AutoG G={G:<5g} acc {r["accuracy"]:.3f} ' + ' '.join(f'fd_{s} {r["fd_"+s]:.4f}' for s in judges))
            if G == 2: grid['AG G=2'] = to_u8(x[:20])[:, 0]
    if grid: grid_png(torch.cat(list(grid.values())), 2 * len(grid), folder/'samples.png')
    q['grid_rows'] = [k for k in grid for _ in (0, 1)]; save()
    s = q.get('summary', {}).get('cnn', {})
    log(f'card {name} done in {time.time()-t_card:.0f}s: cnn FD-optimal G {s.get("fd_opt_G")}, FD(G=1)/floor {s.get("fd_g1_over_floor", float("nan")):.2f}')

# ---- driver --------------------------------------------------------------------------------------------------------
def main(a):
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    if a.group:
        if dev.type == 'cuda': torch.set_num_threads(max(1, (os.cpu_count() or 3) // 3))
        {'A': lambda: group_a(a, out, dev), 'U': lambda: group_u(a, out, dev), 'B': lambda: group_main(a, out, dev, 'wellfit'),
         'C': lambda: group_main(a, out, dev, 'flow')}[a.group]()
        return
    t0 = time.time()
    print(f'torch {torch.__version__} on {device_name(dev)}; cfg_guidance from {Path(cfg_guidance.__file__).parent}', flush=True)
    groups = a.groups.split(',')
    if a.serial or dev.type != 'cuda':
        for g in groups: subprocess.run([sys.executable, __file__, *sys.argv[1:], '--group', g], check=False)
    else:
        procs = {g: subprocess.Popen([sys.executable, __file__, *sys.argv[1:], '--group', g]) for g in groups}
        while any(p.poll() is None for p in procs.values()):
            if time.time() - t0 > a.deadline:
                for g, p in procs.items():
                    if p.poll() is None: print(f'deadline: stopping group {g}', flush=True); p.terminate()
                time.sleep(5)
                for p in procs.values():
                    if p.poll() is None: p.kill()
                break
            time.sleep(2)
        print('exit codes: ' + ', '.join(f'{g}={p.poll()}' for g, p in procs.items()), flush=True)
    print(f'all done in {time.time()-t0:.0f}s', flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--out', default='runs/testbeds')
    ap.add_argument('--wellfit-seconds', type=float, default=340, help='wall-clock training budget of wellfit')
    ap.add_argument('--wellfit-recipe', default='wellfit', choices=['wellfit', 'wellfit-v2'], help='recipe of the wellfit testbed')
    ap.add_argument('--flow-seconds', type=float, default=240, help='wall-clock training budget of flow')
    ap.add_argument('--weak-seconds', type=float, default=40, help='budget of each weak model of wellfit and flow')
    ap.add_argument('--underfit-weak-seconds', type=float, default=25, help='budget of the under-fit model\'s weak model')
    ap.add_argument('--underfit-seconds', type=float, default=330, help='budget of the under-fit model (group U)')
    ap.add_argument('--judge-epochs', type=int, default=10, help='epochs of the judge CNN (group U)')
    ap.add_argument('--ae-epochs', type=int, default=15)
    ap.add_argument('--iters', type=int, default=10**7, help='most training steps of any model')
    ap.add_argument('--compile', action='store_true', help='torch.compile the main models (eager if it fails)')
    ap.add_argument('--tiny', action='store_true', help='tiny models and settings (CPU smoke test)')
    ap.add_argument('--n-train', type=int, default=0, help='use only the first N train images (smoke tests)')
    ap.add_argument('--n', type=int, default=2000, help='samples per scale on the cards (a multiple of 10)')
    ap.add_argument('--n-ref', type=int, default=0, help='real test images for FD/KID on the cards (0: all 10,000)')
    ap.add_argument('--steps', type=int, default=25, help='sampling steps on the cards')
    ap.add_argument('--chunk', type=int, default=2000, help='samples per sampling batch')
    ap.add_argument('--extra-steps', type=int, default=0, help='also card G in EXTRA_SCALES at this many steps (0: no)')
    ap.add_argument('--card-seconds', type=float, default=150, help='AutoGuidance rows are skipped past this')
    ap.add_argument('--wait-seconds', type=float, default=300, help='how long a card waits for the judges/weak model')
    ap.add_argument('--deadline', type=float, default=520, help='seconds after which running groups are stopped')
    ap.add_argument('--groups', default='A,B,C', help='A: judges, weak models, under-fit card; B: wellfit; C: flow; U: judge CNN + under-fit')
    ap.add_argument('--group', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--serial', action='store_true', help='run the groups one after another')
    ap.add_argument('--log-every', type=int, default=500)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    if a.tiny: a.n, a.n_ref, a.steps, a.log_every, a.ae_epochs, a.judge_epochs = min(a.n, 100), a.n_ref or 500, min(a.steps, 3), 10, 1, 1
    main(a)

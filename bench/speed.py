#!/usr/bin/env python
"""Speed benchmark: cfg_guidance's batched experiment loop against the seed's loop and diffusers' pipeline.

One run on one machine times, at equal settings (LMS, same prompt, same initial latents, VAE decode included):
  1. the seed-style loop (attention slicing, one experiment after another, cat -> chunk -> transform -> step);
  2. diffusers' StableDiffusionPipeline at batch 1 and batch 10;
  3. `cfg_guidance.generate` at batch 1 and the seed's 10-experiment grid in one batch, eager and compiled;
  4. options: fp16 vs bf16, channels_last, SDPA vs slicing, cudnn.benchmark, timesteps kept on the CPU,
     chunking a 40-row sweep;
  5. the cost of every guidance transform per step against one UNet forward;
and checks that grid rows equal rows run alone, and that our loop equals diffusers' pipeline at constant 7.5.

CPU: the tiny random-weight pipeline shipped in the package (64x64, few steps: a plumbing and overhead check).
GPU: Stable Diffusion v1-shaped UNet, VAE and CLIP text encoder with random weights, built from configs on the
GPU (speed does not depend on the weights' values). Results go to `--out` as speed_<card>.json and .md.

    python bench/speed.py --out bench/results --device cpu --steps 10
    python bench/speed.py --out $OUT --device cuda            # 512x512, 50 steps, fp16
"""
from __future__ import annotations
import argparse, copy, datetime, gc, json, math, os, platform, re, statistics, sys, time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch

PROMPT = "a photograph of an astronaut riding a horse"
PEAK_FLOPS = 790e12  # dense fp16/bf16 tensor-core rate measured on these H100/H200 cards (8192^3 bf16 GEMM)
PEAK_NOTE = "790 TFLOP/s: dense bf16/fp16 GEMM rate measured on the H100/H200 machines (FINDINGS, KINDS)"

SD_V1_UNET = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, attention_head_dim=8,
                  block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768,
                  down_block_types=('CrossAttnDownBlock2D',) * 3 + ('DownBlock2D',),
                  up_block_types=('UpBlock2D',) + ('CrossAttnUpBlock2D',) * 3)
SD_V1_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, sample_size=512,
                 block_out_channels=(128, 256, 512, 512), down_block_types=('DownEncoderBlock2D',) * 4,
                 up_block_types=('UpDecoderBlock2D',) * 4, scaling_factor=0.18215)
SD_V1_TEXT = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                  num_attention_heads=12, max_position_embeddings=77, hidden_act='quick_gelu', projection_dim=768)

T0 = time.perf_counter()
def elapsed(): return time.perf_counter() - T0
def log(*a): print(f'[{elapsed():6.1f}s]', *a, flush=True)

# ---------------------------------------------------------------- models
def build_models(dev, dtype, size):
    "The namespace `load_sd` returns: tiny pipeline on CPU, SD v1-shaped random weights on a GPU. Plus the fp32 UNet."
    from cfg_guidance.load import load_sd
    from cfg_guidance.tiny import tiny_sd_path, sd_scheduler
    if dev.type == 'cpu':
        sd = load_sd(tiny_sd_path(), dtype=torch.float32, device='cpu', scheduler='lms')
        return sd, sd.unet, 'tiny random-weight SD (cfg_guidance.tiny)'
    from diffusers import UNet2DConditionModel, AutoencoderKL
    from transformers import CLIPTextModel, CLIPTextConfig, CLIPTokenizer
    torch.manual_seed(0)
    with torch.device(dev):  # random init straight on the GPU: seconds, not minutes
        unet32 = UNet2DConditionModel(**SD_V1_UNET).eval()
        vae = AutoencoderKL(**SD_V1_VAE).to(dtype).eval()
        te = CLIPTextModel(CLIPTextConfig(**SD_V1_TEXT)).to(dtype).eval()
    try: tok = CLIPTokenizer.from_pretrained(str(tiny_sd_path() / 'tokenizer'))  # ids < 49408: speed needs no real vocab
    except Exception as e:
        from cfg_guidance.tiny import tiny_tokenizer
        log(f'tokenizer folder did not load ({type(e).__name__}: {e}); building it'); tok = tiny_tokenizer()
    unet = copy.deepcopy(unet32).to(dtype)
    unet32 = unet32.cpu()  # fp32 master kept off the GPU (reference checks, bf16 copy)
    sd = SimpleNamespace(tokenizer=tok, text_encoder=te, vae=vae, unet=unet, scheduler=sd_scheduler('lms'),
                         device=dev, dtype=dtype)
    return sd, unet32, 'SD v1 shapes (UNet 860M, VAE 84M, CLIP-L text 123M), random weights'

def with_unet(sd, unet, dtype=None):
    "A copy of namespace `sd` using `unet` (and `dtype` for latents and embeddings)."
    return SimpleNamespace(**{**vars(sd), 'unet': unet, 'dtype': dtype or sd.dtype, 'scheduler': copy.deepcopy(sd.scheduler)})

def make_pipe(sd):
    "diffusers' StableDiffusionPipeline over the same components."
    from diffusers import StableDiffusionPipeline
    p = StableDiffusionPipeline(vae=sd.vae, text_encoder=sd.text_encoder, tokenizer=sd.tokenizer, unet=sd.unet,
                                scheduler=copy.deepcopy(sd.scheduler), safety_checker=None, feature_extractor=None,
                                requires_safety_checker=False)
    p.set_progress_bar_config(disable=True)
    return p

def unet_flops(unet, b, h):
    "FLOPs of one UNet forward at batch `b` on (h x h) latents, counted on the meta device (no compute)."
    from torch.utils.flop_counter import FlopCounterMode
    from diffusers import UNet2DConditionModel
    with torch.device('meta'):
        m = UNet2DConditionModel.from_config(unet.config)
        x = torch.randn(b, m.config.in_channels, h, h); e = torch.randn(b, 77, m.config.cross_attention_dim)
        with FlopCounterMode(display=False) as fc: m(x, torch.tensor(500.), encoder_hidden_states=e)
    return fc.get_total_flops()

def vae_decode_flops(vae, h):
    "FLOPs of decoding one (h x h) latent, counted on the meta device."
    from torch.utils.flop_counter import FlopCounterMode
    from diffusers import AutoencoderKL
    with torch.device('meta'):
        m = AutoencoderKL.from_config(vae.config)
        with FlopCounterMode(display=False) as fc: m.decode(torch.randn(1, m.config.latent_channels, h, h))
    return fc.get_total_flops()

# ---------------------------------------------------------------- timing
def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)

def timed(fn, dev, reps=3, warm=None):
    "Median wall seconds of `fn()` over `reps` runs after the warm-up `warm()` (or one `fn()`); peak GPU GiB."
    (warm or fn)(); sync(dev)
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
    ts = []
    for _ in range(reps):
        sync(dev); t = time.perf_counter(); fn(); sync(dev); ts.append(time.perf_counter() - t)
    mem = torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == 'cuda' else None
    return dict(s=statistics.median(ts), runs=[round(o, 4) for o in ts], peak_gib=mem)

def per_call_ms(fn, dev, n=50, warm=3, blocks=5):
    "Milliseconds per call of `fn()`: median over `blocks` blocks of `n` calls (synchronised wall clock)."
    for _ in range(warm): fn()
    ts = []
    for _ in range(blocks):
        sync(dev); t = time.perf_counter()
        for _ in range(n): fn()
        sync(dev); ts.append((time.perf_counter() - t) / n * 1e3)
    return statistics.median(ts)

# ---------------------------------------------------------------- the loops
def seed_style(sd, unet, tfms, steps, lat):
    "The seed's loop: per experiment, cat([x]*2) -> UNet -> chunk -> tfm.encode -> step, then decode to PIL."
    from cfg_guidance.generate import text_embeddings, decode
    from cfg_guidance.core import to_pil
    sched, imgs = copy.deepcopy(sd.scheduler), []
    for tf in tfms:
        emb = torch.cat([text_embeddings(sd, ['']), text_embeddings(sd, [PROMPT])]).to(unet.dtype)
        x = lat.clone()
        sched.set_timesteps(steps)  # the seed left the timesteps on the CPU
        x = x * sched.init_noise_sigma
        for i, t in enumerate(sched.timesteps):
            inp = sched.scale_model_input(torch.cat([x] * 2), t)
            u, c = unet(inp, t, encoder_hidden_states=emb).sample.chunk(2)
            x = sched.step(tf.encode(u, c, idx=i), t, x).prev_sample
        imgs += to_pil(decode(sd.vae, x))
    return imgs

def ours(sd, tfms, steps, size, seeds=1024, latents=None):
    "cfg_guidance.generate: every row in one batch, one UNet call per step, decode included."
    from cfg_guidance.generate import generate
    return generate(sd, PROMPT, tfms, steps=steps, seeds=seeds, size=size, latents=latents, progress=False)

def diffusers_run(pipe, b, steps, size, lat=None, output_type='pt'):
    "diffusers' pipeline at batch `b` (num_images_per_prompt), guidance 7.5."
    return pipe(PROMPT, height=size, width=size, num_inference_steps=steps, guidance_scale=7.5,
                num_images_per_prompt=b, latents=None if lat is None else lat.clone(), output_type=output_type).images

class CPUTimesteps:
    "A scheduler wrapper whose timesteps stay on the CPU, so the loop's `float(t)` costs no GPU sync."
    def __init__(self, s): self.s = s
    def __getattr__(self, k): return getattr(self.s, k)
    def set_timesteps(self, n, device=None): return self.s.set_timesteps(n)

class TimestepToDevice:
    "A UNet that moves a CPU timestep to the GPU without blocking (pairs with `CPUTimesteps`); keeps `.config`."
    def __init__(self, unet): self.unet, self.config = unet, unet.config
    def __call__(self, x, t, **kw): return self.unet(x, t.to(x.device, non_blocking=True), **kw)

class Marked:
    "A compiled (CUDA-graph) UNet that starts a new graph generation at each call; keeps `.config`."
    def __init__(self, fn, config): self.fn, self.config = fn, config
    def __call__(self, *a, **k):
        torch.compiler.cudagraph_mark_step_begin()
        return self.fn(*a, **k)

# ---------------------------------------------------------------- results
class Results:
    "Rows of timings plus meta data; written as JSON + markdown after every section."
    def __init__(self, out, meta):
        self.out, self.meta, self.rows, self.checks, self.extra = Path(out), meta, [], {}, {}
        self.out.mkdir(parents=True, exist_ok=True)
    def add(self, name, batch, r, note='', **kw):
        row = dict(name=name, batch=batch, s=r['s'], s_per_image=r['s'] / batch, runs=r['runs'], peak_gib=r['peak_gib'],
                   note=note, **kw)
        self.rows.append(row); log(f'{name:42} batch {batch:3}  {r["s"]:8.3f} s  {row["s_per_image"]:7.4f} s/img  '
                                   f'peak {r["peak_gib"] or 0:.2f} GiB  runs {r["runs"]}')
        self.save(); return row
    def skip(self, name, why): self.rows.append(dict(name=name, skipped=why)); log(f'{name}: skipped ({why})'); self.save()
    def ref(self, batch):
        "diffusers' s/image at `batch`, if measured."
        r = [o for o in self.rows if o.get('name') == f'diffusers pipeline b{batch}' and 's' in o]
        return r[0]['s_per_image'] if r else None
    def derived(self):
        floor = self.meta.get('floor_s_per_image')
        for o in self.rows:
            if 's' not in o: continue
            rb = o.get('ref_batch', o['batch'])
            ref = self.ref(rb) if rb in (1, 10) else None
            o['vs_diffusers'] = None if ref is None else o['s_per_image'] / ref
            o['vs_floor'] = None if not floor else o['s_per_image'] / floor
    def save(self):
        self.derived()
        card = self.meta['card']
        d = dict(meta=self.meta, rows=self.rows, checks=self.checks, **self.extra)
        (self.out / f'speed_{card}.json').write_text(json.dumps(d, indent=1, default=str) + '\n')
        (self.out / f'speed_{card}.md').write_text(markdown(d))

def _f(v, fmt='.3f'): return '' if v is None else format(v, fmt)

def markdown(d):
    "The results as a markdown report."
    m = d['meta']
    L = [f"# Speed: {m['device_name']}", '',
         f"{m['date']} · torch {m['torch']} · diffusers {m['diffusers']} · transformers {m['transformers']} · "
         f"python {m['python']}", '',
         f"Model: {m['model']}; {m['size']}x{m['size']} px, {m['steps']} LMS steps, {m['dtype']}, prompt "
         f"\"{PROMPT}\", shared initial latents; every time includes text encoding and VAE decode. "
         f"Median of `reps` runs after a warm-up. Ratios: s/image over diffusers' pipeline at the same batch; "
         f"over the FLOP floor.", '']
    if m.get('floor_s_per_image'):
        L += [f"FLOP floor: one UNet forward at batch 2 = {m['unet_flops_b2'] / 1e9:.1f} GFLOP, x {m['steps']} steps = "
              f"{m['unet_flops_image'] / 1e12:.2f} TFLOP per image; at {m['peak_note']} -> "
              f"**{m['floor_s_per_image']:.4f} s per image** (UNet only; VAE decode adds "
              f"{m['vae_flops_image'] / 1e12:.2f} TFLOP per image).", '']
    L += ['| run | batch | s total | s / image | vs diffusers | vs floor | peak GiB | runs | note |',
          '|---|---:|---:|---:|---:|---:|---:|---|---|']
    for o in d['rows']:
        if 'skipped' in o: L.append(f"| {o['name']} | | | | | | | | skipped: {o['skipped']} |"); continue
        L.append(f"| {o['name']} | {o['batch']} | {o['s']:.3f} | {o['s_per_image']:.4f} | {_f(o.get('vs_diffusers'), '.2f')} "
                 f"| {_f(o.get('vs_floor'), '.1f')} | {_f(o['peak_gib'], '.2f')} | {len(o['runs'])} | {o['note']} |")
    if d.get('unet_ms'):
        L += ['', '## One UNet forward', '', '| variant | batch | ms |', '|---|---:|---:|']
        L += [f"| {k.rsplit(' b', 1)[0]} | {k.rsplit(' b', 1)[1]} | {v:.2f} |" for k, v in d['unet_ms'].items()]
    if d.get('guidance'):
        g = d['guidance']
        L += ['', '## Guidance math per step', '',
              f"One call of each transform on one row ({g['shape']}, {g['dtype']}), synchronised wall clock, against "
              f"one UNet forward at batch 2 ({g['unet_b2_ms']:.2f} ms eager"
              + (f", {g['unet_b2_compiled_ms']:.2f} ms compiled" if g.get('unet_b2_compiled_ms') else '') + ").", '',
              '| transform | ms / call | % of eager step | % of compiled step |', '|---|---:|---:|---:|']
        for k, v in g['per_tfm'].items():
            if isinstance(v, str): L.append(f'| {k} | failed: {v} | | |'); continue
            L.append(f"| {k} | {v['ms']:.3f} | {v['pct_eager']:.2f} | {_f(v.get('pct_compiled'), '.2f')} |")
        L += ['', f"Grid of 10 (the loop calls each group on its rows): sum of the 10 transforms "
              f"{g['grid_sum_ms']:.2f} ms = {g['grid_pct']:.2f} % of one batch-20 UNet forward ({g['unet_b20_ms']:.2f} ms)."]
        if g.get('loop_overhead'):
            L += ['', 'Loop overhead per step with a zero-cost model (transforms + scheduler + indexing, CPU-bound): '
                  + ', '.join(f"{k} {v:.2f} ms" for k, v in g['loop_overhead'].items()) + '.']
    if d.get('checks'):
        L += ['', '## Checks', '']
        L += [f"- **{k}**: " + ', '.join(f'{a}={b}' for a, b in v.items()) for k, v in d['checks'].items()]
    if d.get('targets'):
        L += ['', '## Targets', '']
        L += [f"- {k}: {v}" for k, v in d['targets'].items()]
    if d.get('profile_summary'):
        L += ['', '## Profile of the eager grid (a few steps)', '', d['profile_summary']]
    return '\n'.join(L) + '\n'

def card_name(dev):
    if dev.type != 'cuda': return 'cpu'
    n = torch.cuda.get_device_name(dev).lower()
    for k in ('h200', 'h100', 'a100', 'l40', 'a10'):
        if k in n: return k
    return re.sub(r'[^a-z0-9]+', '_', n).strip('_')

def rel(a, b):
    "max |a - b| and ||a - b|| / ||b|| in fp32."
    a, b = a.float(), b.float()
    return dict(max_abs=float((a - b).abs().max()), rel_l2=float((a - b).norm() / (b.norm() + 1e-12)))

# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True, help='folder for speed_<card>.json/.md and profile.txt')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--steps', type=int, default=None, help='denoising steps (default 50 on GPU, 10 on CPU)')
    ap.add_argument('--size', type=int, default=None, help='pixels (default 512 on GPU, 64 on CPU)')
    ap.add_argument('--check-steps', type=int, default=None, help='steps of the correctness checks (default 10 GPU, steps CPU)')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--budget', type=float, default=520, help='seconds: optional sections are skipped past this')
    ap.add_argument('--compile', default='auto', choices=['auto', 'yes', 'no'], help='torch.compile variants (auto: GPU only)')
    ap.add_argument('--reduce-overhead', default='auto', choices=['auto', 'yes', 'no'], help="mode='reduce-overhead' (CUDA graphs)")
    ap.add_argument('--autotune', action='store_true', help="also mode='max-autotune-no-cudagraphs' (long compile)")
    ap.add_argument('--all-sections', action='store_true', help='run the GPU-only option sections on any device (testing)')
    a = ap.parse_args()
    dev = torch.device(a.device)
    gpu = dev.type == 'cuda'
    full = gpu or a.all_sections
    steps, size = a.steps or (50 if gpu else 10), a.size or (512 if gpu else 64)
    csteps = a.check_steps or (10 if gpu else steps)
    dtype = torch.float16 if gpu else torch.float32
    do_compile = a.compile == 'yes' or (a.compile == 'auto' and gpu)
    do_ro = do_compile and (a.reduce_overhead == 'yes' or (a.reduce_overhead == 'auto' and gpu))
    left = lambda: a.budget - elapsed()
    torch.set_grad_enabled(False)
    import torch._dynamo as dynamo
    for k in ('cache_size_limit', 'recompile_limit'):
        if hasattr(dynamo.config, k): setattr(dynamo.config, k, 64)

    import diffusers, transformers
    from cfg_guidance.generate import sample, init_latents, text_embeddings, sd_model
    from cfg_guidance.experiments import seed_experiments
    from cfg_guidance.transforms import GuidanceTfm, BaseNormGuidance, TNormGuidance, FullNormGuidance, Step
    from cfg_guidance.core import to_pil

    sd, unet32, model_desc = build_models(dev, dtype, size)
    f = 2 ** (len(sd.vae.config.block_out_channels) - 1); h = size // f
    lat_shape = (sd.unet.config.in_channels, h, h)
    meta = dict(card=card_name(dev), device_name=torch.cuda.get_device_name(dev) if gpu else f'CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)',
                date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
                torch=torch.__version__, diffusers=diffusers.__version__, transformers=transformers.__version__,
                python=platform.python_version(), cuda=torch.version.cuda if gpu else None, model=model_desc,
                steps=steps, size=size, dtype=str(dtype).replace('torch.', ''), check_steps=csteps, reps=a.reps,
                scheduler='LMSDiscreteScheduler', compile=do_compile, budget_s=a.budget,
                cpu_note=None if gpu else 'CPU run: tiny model, fewer steps; checks plumbing and Python overhead, not GPU speed')
    meta['unet_flops_b2'] = unet_flops(sd.unet, 2, h)
    meta['unet_flops_image'] = meta['unet_flops_b2'] * steps
    meta['vae_flops_image'] = vae_decode_flops(sd.vae, h)
    if gpu: meta['floor_s_per_image'], meta['peak_note'] = meta['unet_flops_image'] / PEAK_FLOPS, PEAK_NOTE
    R = Results(a.out, meta)
    log(f"{meta['device_name']} torch {torch.__version__} diffusers {diffusers.__version__}; {model_desc}; "
        f"UNet b2 {meta['unet_flops_b2'] / 1e9:.1f} GFLOP")

    ex = seed_experiments(steps); grid = list(ex.values())
    lat1 = init_latents(lat_shape, [1024], dtype, dev)
    lat10 = lat1.expand(10, *lat_shape).contiguous()
    pipe = make_pipe(sd)

    # ---------------- correctness
    cex = list(seed_experiments(csteps).values())
    _, xg = ours(sd, cex, csteps, size, latents=lat10)
    alone = torch.cat([ours(sd, tf, csteps, size, latents=lat1)[1] for tf in cex])
    c1 = rel(xg, alone)
    sd32 = None
    if gpu:  # fp16 against fp32 for the same row alone: the scale of fp16 noise
        unet32.to(dev); sd32 = with_unet(sd, unet32, torch.float32)
        sd32.text_encoder, sd32.vae = sd.text_encoder.float(), sd.vae.float()
        x32 = ours(sd32, cex[0], csteps, size, latents=lat1.float())[1]
        sd.text_encoder.to(dtype); sd.vae.to(dtype)
        c1['fp16_vs_fp32_row0'] = rel(alone[:1], x32)
        unet32.cpu(); del sd32; torch.cuda.empty_cache()
    tol = 1e-2 if gpu else 1e-4
    c1.update(tolerance=f'rel_l2 <= {tol:g}', ok=c1['rel_l2'] <= tol, steps=csteps)
    R.checks['grid rows batched == rows alone'] = c1
    ref = diffusers_run(pipe, 1, csteps, size, lat1, output_type='latent')
    _, x1 = ours(sd, GuidanceTfm(g=7.5), csteps, size, latents=lat1)
    c2 = rel(x1, ref); c2.update(tolerance=f'rel_l2 <= {tol:g}', ok=c2['rel_l2'] <= tol, steps=csteps,
                                  finite=bool(torch.isfinite(x1).all()))
    R.checks['ours == diffusers pipeline, CFG 7.5'] = c2
    log('checks', json.dumps(R.checks, default=str)); R.save()

    # ---------------- UNet forward alone
    emb = text_embeddings(sd, [PROMPT]); t500 = torch.tensor(500., device=dev)
    def fwd(unet, b, dt=dtype):
        x = torch.randn(b, *lat_shape, device=dev, dtype=dt)
        e = emb.expand(b, -1, -1).to(dt).contiguous()  # contiguous as in the loop: a stride-0 input recompiles
        return lambda: unet(x, t500, encoder_hidden_states=e).sample
    R.extra['unet_ms'] = {f'eager b{b}': per_call_ms(fwd(sd.unet, b), dev, n=10 if gpu else 3) for b in (2, 20)}
    log('unet', R.extra['unet_ms'])

    # ---------------- diffusers and ours, eager
    w = lambda fn: (lambda: fn(2))  # warm-up: the same call with 2 steps
    for b, lat in ((1, lat1), (10, lat10)):
        fn = lambda s, b=b, lat=lat: diffusers_run(pipe, b, s, size, lat)
        R.add(f'diffusers pipeline b{b}', b, timed(lambda: fn(steps), dev, a.reps, w(fn)), 'eager, SDPA')
    fn1 = lambda s: ours(sd, GuidanceTfm(g=7.5), s, size)
    R.add('ours b1 (CFG 7.5)', 1, timed(lambda: fn1(steps), dev, a.reps, w(fn1)), 'eager, SDPA')
    fng = lambda s: ours(sd, list(seed_experiments(s).values()), s, size)
    R.add('ours grid of 10 experiments', 10, timed(lambda: fng(steps), dev, a.reps, w(fng)), 'eager, SDPA, one batch')

    # ---------------- guidance math per step
    gx = torch.randn(1, *lat_shape, device=dev, dtype=dtype)
    g_u, g_c = torch.randn_like(gx), gx + 0.1 * torch.randn_like(gx)
    st = Step(i=steps // 2, n=steps, t=500., sigma=1.0, alpha_bar=0.5, x=gx)
    tfs = {f'seed: {k}': v for k, v in ex.items()}
    import cfg_guidance.guiders  # registers the field's rules
    from cfg_guidance.transforms import GUIDANCE
    for k, e in GUIDANCE.items():  # every registry entry at its middle strength
        try: rule = e.make(e.grid[3], steps, **e.tune[0])
        except Exception as ex: tfs[f'rule: {k}'] = f'{type(ex).__name__}: {ex}'[:120]; continue
        if rule.uncond != 'weak': tfs[f'rule: {k}'] = rule  # AutoGuidance's math is CFG's; its cost is the weak model
    ub2, ub20 = R.extra['unet_ms']['eager b2'], R.extra['unet_ms']['eager b20']
    per = {}
    for k, tf in tfs.items():
        if isinstance(tf, str): per[k] = tf; continue
        try:
            state = [None]
            def call(tf=tf):
                p, state[0] = tf(g_u, g_c, st, state[0])
            per[k] = dict(ms=per_call_ms(call, dev, n=40))
            per[k]['pct_eager'] = 100 * per[k]['ms'] / ub2
        except Exception as e: per[k] = f'{type(e).__name__}: {e}'[:120]
    gsum = sum(v['ms'] for k, v in per.items() if k.startswith('seed:') and isinstance(v, dict))
    # loop overhead: the loop with a model that costs nothing (returns its input)
    null = lambda x, t, cond: x
    ovh = {}
    for nm, tl, b in (('b1 CFG', GuidanceTfm(g=7.5), 1), ('grid of 10', grid, 10)):
        xs = init_latents(lat_shape, [0] * b, dtype, dev); cs = emb.expand(b, -1, -1).to(dtype)
        sch = copy.deepcopy(sd.scheduler)
        run = lambda: sample(null, sch, xs, cs, emb[:1].to(dtype), tl, steps, progress=False)
        ovh[nm] = timed(run, dev, 3)['s'] / steps * 1e3
    R.extra['guidance'] = dict(shape=str(tuple(gx.shape)), dtype=str(dtype).replace('torch.', ''), unet_b2_ms=ub2,
                               unet_b20_ms=ub20, per_tfm=per, grid_sum_ms=gsum, grid_pct=100 * gsum / ub20,
                               loop_overhead=ovh)
    log('guidance', json.dumps(R.extra['guidance'], default=str)[:1500]); R.save()

    # ---------------- seed-style loop (slicing, one experiment at a time)
    if left() > (60 if gpu else 10):
        unet_sl = copy.deepcopy(sd.unet); unet_sl.set_attention_slice(unet_sl.config.attention_head_dim // 2)
        fs = lambda s, n=len(grid): seed_style(sd, unet_sl, list(seed_experiments(s).values())[:n], s, lat1)
        R.add('seed-style loop, 10 experiments in turn', 10, timed(lambda: fs(steps), dev, 1, lambda: fs(2, 1)),
              'attention slicing (head_dim//2), batch 2 per experiment, decode to PIL; ratio vs diffusers b1', ref_batch=1)
        if left() > (40 if gpu else 5):
            fsg = lambda s: ours(with_unet(sd, unet_sl), list(seed_experiments(s).values()), s, size)
            R.add('ours grid, attention slicing', 10, timed(lambda: fsg(steps), dev, 2 if gpu else a.reps, w(fsg)),
                  'option: slicing instead of SDPA')
        del unet_sl; gc.collect(); gpu and torch.cuda.empty_cache()
    else: R.skip('seed-style loop', 'time budget')

    # ---------------- compiled
    comp = {}
    if do_compile and left() > 150:
        tc = time.perf_counter()
        cu = torch.compile(sd.unet, dynamic=False)
        sdc = with_unet(sd, cu)
        f1 = lambda s: ours(sdc, GuidanceTfm(g=7.5), s, size)
        fgc = lambda s: ours(sdc, list(seed_experiments(s).values()), s, size)
        f1(2); t1 = time.perf_counter() - tc; fgc(2); t2 = time.perf_counter() - tc - t1
        R.extra.setdefault('compile_s', {})['default b2'] = t1; R.extra['compile_s']['default b20'] = t2
        log(f'compile default: b2 {t1:.1f} s, b20 {t2:.1f} s')
        R.extra['unet_ms'].update({f'compiled b{b}': per_call_ms(fwd(cu, b), dev, n=10) for b in (2, 20)})
        R.add('ours b1 (CFG 7.5), torch.compile', 1, timed(lambda: f1(steps), dev, a.reps, w(f1)), f'compile {t1:.0f} s, not timed')
        R.add('ours grid of 10, torch.compile', 10, timed(lambda: fgc(steps), dev, a.reps, w(fgc)), f'compile {t2:.0f} s, not timed')
        _, xc = ours(sdc, cex, csteps, size, latents=lat10)
        R.checks['compiled grid == eager grid'] = rel(xc, xg)
        comp['default'] = cu
    elif do_compile: R.skip('torch.compile', 'time budget')

    # ---------------- options (eager, grid of 10)
    if full and left() > 40:
        ub = copy.deepcopy(unet32).to(dev, torch.bfloat16)
        sdb = with_unet(sd, ub, torch.bfloat16)
        fb = lambda s: ours(sdb, list(seed_experiments(s).values()), s, size)
        R.add('ours grid, bf16 UNet', 10, timed(lambda: fb(steps), dev, 2, w(fb)), 'option: bf16 instead of fp16')
        R.extra['unet_ms']['eager bf16 b20'] = per_call_ms(fwd(ub, 20, torch.bfloat16), dev, n=4)
        del ub, sdb; gc.collect(); gpu and torch.cuda.empty_cache()
    if full and left() > 30:
        sd.unet.to(memory_format=torch.channels_last)
        R.add('ours grid, channels_last', 10, timed(lambda: fng(steps), dev, 2, w(fng)), 'option: channels_last UNet')
        sd.unet.to(memory_format=torch.contiguous_format)
    if full and left() > 30:
        torch.backends.cudnn.benchmark = True
        R.add('ours grid, cudnn.benchmark', 10, timed(lambda: fng(steps), dev, 2, w(fng)), 'option: cudnn autotuning')
        torch.backends.cudnn.benchmark = False
    if full and left() > 30:
        sdt = with_unet(sd, TimestepToDevice(sd.unet)); sdt.scheduler = CPUTimesteps(sdt.scheduler)
        ft = lambda s: ours(sdt, list(seed_experiments(s).values()), s, size)
        R.add('ours grid, timesteps on CPU', 10, timed(lambda: ft(steps), dev, 2, w(ft)),
              'what-if: no per-step GPU sync from float(t)')

    # ---------------- CUDA graphs
    if do_ro and left() > 150:
        tc = time.perf_counter()
        cr = torch.compile(sd.unet, mode='reduce-overhead', dynamic=False)
        sdr = with_unet(sd, Marked(cr, sd.unet.config))
        f1r = lambda s: ours(sdr, GuidanceTfm(g=7.5), s, size)
        fgr = lambda s: ours(sdr, list(seed_experiments(s).values()), s, size)
        f1r(2); f1r(2); t1 = time.perf_counter() - tc; fgr(2); fgr(2); t2 = time.perf_counter() - tc - t1
        R.extra.setdefault('compile_s', {}).update({'reduce-overhead b2': t1, 'reduce-overhead b20': t2})
        log(f'compile reduce-overhead: b2 {t1:.1f} s, b20 {t2:.1f} s')
        R.add('ours b1 (CFG 7.5), compile reduce-overhead', 1, timed(lambda: f1r(steps), dev, a.reps, w(f1r)), 'CUDA graphs')
        R.add('ours grid of 10, compile reduce-overhead', 10, timed(lambda: fgr(steps), dev, a.reps, w(fgr)), 'CUDA graphs')
        _, xr = ours(sdr, cex, csteps, size, latents=lat10)
        R.checks['reduce-overhead grid == eager grid'] = rel(xr, xg)
    elif do_ro: R.skip('compile reduce-overhead', 'time budget')

    # ---------------- chunking a 40-row sweep
    sweep = grid * 4; seeds40 = list(range(1000, 1040))
    for chunk in ((10, 20, 40) if full else (10, 40)):
        if left() < (25 if gpu else 5): R.skip(f'sweep of 40 rows in chunks of {chunk}', 'time budget'); continue
        def fc(s, chunk=chunk):
            tf = list(seed_experiments(s).values()) * 4
            return [ours(sd, tf[i:i + chunk], s, size, seeds=seeds40[i:i + chunk]) for i in range(0, 40, chunk)]
        R.add(f'sweep of 40 rows in chunks of {chunk}', 40, timed(lambda: fc(steps), dev, 1, lambda: fc(2)),
              f'eager, {40 // chunk} batches of {chunk}')

    # ---------------- max-autotune (optional: long compile)
    if a.autotune and left() > 200:
        tc = time.perf_counter()
        ca = torch.compile(sd.unet, mode='max-autotune-no-cudagraphs', dynamic=False)
        sda = with_unet(sd, ca)
        fa = lambda s: ours(sda, list(seed_experiments(s).values()), s, size)
        fa(2); R.extra.setdefault('compile_s', {})['max-autotune b20'] = time.perf_counter() - tc
        R.add('ours grid of 10, max-autotune-no-cudagraphs', 10, timed(lambda: fa(steps), dev, a.reps, w(fa)), 'autotuned kernels')
    elif a.autotune: R.skip('max-autotune-no-cudagraphs', 'time budget')

    # ---------------- profile of the eager grid
    if left() > 15:
        from torch.profiler import profile, ProfilerActivity
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])
        ps = 3
        fng(ps); sync(dev)
        with profile(activities=acts) as prof: fng(ps); sync(dev)
        ka = prof.key_averages()
        txt = ka.table(sort_by='self_cpu_time_total', row_limit=25)
        if gpu:
            try: txt = ka.table(sort_by='self_device_time_total', row_limit=25) + '\n\n' + txt
            except Exception: txt = ka.table(sort_by='self_cuda_time_total', row_limit=25) + '\n\n' + txt
        (R.out / f"profile_{meta['card']}.txt").write_text(f'eager grid of 10, {ps} steps, {size}px\n\n' + txt)
        syncs = {e.key: e.count for e in ka if any(s in e.key for s in ('Synchronize', '_local_scalar_dense', 'aten::item'))}
        R.extra['profile'] = dict(steps=ps, sync_like_calls=syncs)
        R.extra['profile_summary'] = (f'{ps} steps of the eager grid: sync-like calls ' +
                                      ', '.join(f'{k}: {v}' for k, v in syncs.items()) + f". Full tables in profile_{meta['card']}.txt.")

    # ---------------- targets
    rows = {o['name']: o for o in R.rows if 's' in o}
    gridrows = [o for o in R.rows if 's' in o and o['batch'] == 10 and o['name'].startswith('ours grid')]
    best = min(gridrows, key=lambda o: o['s']) if gridrows else None
    dref = R.ref(10); eag = rows.get('ours grid of 10 experiments')
    T = {}
    if gpu and best:
        T['grid of 10, 512 px, 50 steps, fp16, < 1.5 s incl. decode'] = (
            f"{'MET' if best['s'] < 1.5 and steps >= 50 else 'NOT MET'}: best {best['s']:.3f} s ({best['name']})")
    if eag and dref:
        r = eag['s_per_image'] / dref
        T['eager grid no slower than diffusers b10 (s/image ratio)'] = f"{'MET' if r <= 1.0 else 'NOT MET'}: {r:.3f}"
    if dref:
        comp_rows = [o for o in gridrows if 'compile' in o['name'] or 'autotune' in o['name']]
        if comp_rows:
            bc = min(comp_rows, key=lambda o: o['s'])
            sp = dref / bc['s_per_image']
            T['>= 1.5x faster than diffusers eager b10 with compile/graphs'] = f"{'MET' if sp >= 1.5 else 'NOT MET'}: {sp:.2f}x ({bc['name']})"
    okg = [v for v in per.values() if isinstance(v, dict)]
    if okg:
        mx = max(v['pct_eager'] for v in okg)
        T['guidance math < 1 % of a step'] = (f"{'MET' if mx < 1 else 'NOT MET'}: worst {mx:.2f} % of an eager batch-2 "
                                              f"forward; grid {100 * gsum / ub20:.2f} % of a batch-20 forward")
    if not gpu and eag:
        r1 = rows.get('ours b1 (CFG 7.5)'); d1 = R.ref(1)
        T['CPU tiny: ours vs diffusers (s/image ratio)'] = (f"b1 {r1['s_per_image'] / d1:.2f}, grid vs b10 "
                                                           f"{eag['s_per_image'] / dref:.2f}" if r1 and d1 and dref else 'n/a')
    if 'compiled b2' in R.extra['unet_ms']:
        g = R.extra['guidance']; g['unet_b2_compiled_ms'] = R.extra['unet_ms']['compiled b2']
        for v in okg: v['pct_compiled'] = 100 * v['ms'] / g['unet_b2_compiled_ms']
    R.extra['targets'] = T
    R.meta['wall_s'] = elapsed(); R.save()
    print('\n' + (R.out / f"speed_{meta['card']}.md").read_text(), flush=True)

if __name__ == '__main__': main()

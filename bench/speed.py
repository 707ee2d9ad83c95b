#!/usr/bin/env python
"""Speed benchmark: cfg_guidance's batched experiment loop against the seed's loop and diffusers' pipeline.

One run on one machine times, at equal settings (LMS, same prompt, same initial latents, VAE decode included), in
sections that `--sections` can pick (the most important first; each is skipped with its reason when the `--budget`
runs short, and a failure in one is recorded as a skip row with its one-line error):
  checks    grid rows == rows alone; ours == diffusers at CFG 7.5; the loop's options (share_first, host_schedule,
            fuse) give the same latents;
  unet      one UNet forward, eager, batch 2 and 20;
  eager     diffusers' StableDiffusionPipeline at batch 1 and 10, `cfg_guidance.generate` at batch 1 and the seed's
            10-experiment grid in one batch;
  guidance  every guidance rule per call: synchronised wall clock, and GPU kernel time (20 calls replayed from one
            CUDA graph); the loop's own overhead with a model that costs nothing;
  compile   torch.compile(unet, dynamic=False), one compiled module shared by our loop and diffusers' pipeline;
  levers    UNet levers alone and together on copies of the fp16 UNet (fused QKV, inductor flags, channels_last,
            float8 through torchao, bf16), with their precision cost;
  graphs    mode='reduce-overhead' (CUDA graphs), ours and diffusers' pipeline;
  rules     what each rule costs inside the real b1 loop, over plain CFG, per step;
  loop      the loop's levers: share_first, host_schedule, fuse;
  sweep     16 prompts x the ten experiments (160 rows) in fixed chunks of 10 (UNet batch 20: the grid's static
            compile reused, never a dynamic one; eager without it), against the UNet rate at that batch; then
            max_rows='auto' with the eager UNet;
  profile   torch.profiler of 3 steps of the eager and the compiled grid: GPU busy fraction, kernel categories,
            host syncs and their Python callers;
  options   channels_last eager, cudnn.benchmark, timesteps on the CPU;  seed  the seed-style loop (slicing,
            one experiment at a time);  chunks  a 40-row sweep in chunks of 10/20/40;  autotune  max-autotune.

CPU: the tiny random-weight pipeline shipped in the package (64x64, few steps: a plumbing and overhead check).
GPU: Stable Diffusion v1-shaped UNet, VAE and CLIP text encoder with random weights, built from configs on the
GPU (speed does not depend on the weights' values). Results go to `--out` as speed_<card>.json and .md, written
after every row; `--merge` starts from an earlier run's JSON so several calls fill one report.

    python bench/speed.py --out bench/results --device cpu --steps 10
    python bench/speed.py --out $OUT --device cuda            # 512x512, 50 steps, fp16
    python bench/speed.py --out $OUT --sections graphs,rules,loop --merge bench/results/speed_h200.json
"""
from __future__ import annotations
import time
T0 = time.perf_counter()  # before torch's import: the budget counts the whole process
import argparse, copy, datetime, gc, inspect, json, math, os, platform, re, statistics, sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch

PROMPT = "a photograph of an astronaut riding a horse"
SWEEP_PROMPTS = ["a red fox in the snow", "a lighthouse at dusk", "a bowl of ramen", "an old steam locomotive",
                 "a city street in the rain", "a portrait of a cat", "a mountain lake at sunrise", "a vintage typewriter",
                 "a field of sunflowers", "a castle on a hill", "a sailboat on the sea", "a plate of pancakes",
                 "a robot reading a book", "a desert canyon", "a hummingbird and a flower", "a neon sign at night"]
PEAK_FLOPS = 790e12  # dense fp16/bf16 tensor-core rate measured on these H100/H200 cards (8192^3 bf16 GEMM)
PEAK_NOTE = "790 TFLOP/s: dense bf16/fp16 GEMM rate measured on the H100/H200 machines (FINDINGS, KINDS)"
LOOP_KW = ('share_first', 'host_schedule', 'fuse', 'max_rows')  # generate's keyword arguments from the speed issue
NOT_IN = 'not in this version of cfg_guidance.generate'
LEVER_KEYS = {'bf16': 'bf16', 'qkv': 'fuse_qkv_projections', 'cl': 'channels_last', 'fp8': 'fp8 (torchao)', 'flags': 'inductor flags'}
NAMED_RULES = ('apg', 'mimic', 'tcfg', 'rescale', 'dynthresh')  # the rules the issue names: eager in-loop cost too
# diffusers' speed guide's inductor settings, passed as compile options so they apply to that compile only
# (a plain torch.compile of a copy of the same UNet reuses the cached graph: global flags would not reach it)
INDUCTOR_FLAGS = dict(conv_1x1_as_mm=True, coordinate_descent_tuning=True, epilogue_fusion=False,
                      coordinate_descent_check_all_directions=True)

SD_V1_UNET = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, attention_head_dim=8,
                  block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768,
                  down_block_types=('CrossAttnDownBlock2D',) * 3 + ('DownBlock2D',),
                  up_block_types=('UpBlock2D',) + ('CrossAttnUpBlock2D',) * 3)
SD_V1_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, sample_size=512,
                 block_out_channels=(128, 256, 512, 512), down_block_types=('DownEncoderBlock2D',) * 4,
                 up_block_types=('UpDecoderBlock2D',) * 4, scaling_factor=0.18215)
SD_V1_TEXT = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                  num_attention_heads=12, max_position_embeddings=77, hidden_act='quick_gelu', projection_dim=768)

def elapsed(): return time.perf_counter() - T0
def log(*a): print(f'[{elapsed():6.1f}s]', *a, flush=True)

class Skip(Exception):
    "A reason not to measure something (time budget, a feature this version lacks, no GPU), recorded as the skip."

def err1(e):
    "An exception as one short line."
    s = str(e).strip().splitlines()
    return (type(e).__name__ + (f': {s[0]}' if s else ''))[:200]

def free():
    "Give memory back between rows, so one row's copies do not count in the next row's peak."
    gc.collect()
    if torch.cuda.is_available(): torch.cuda.empty_cache()

def lib_has(k):
    "Whether this version's `generate` takes keyword argument `k` (itself, or passed on through **kw to `sample`)."
    from cfg_guidance.generate import generate, sample
    ps = inspect.signature(generate).parameters
    return k in ps or (any(p.kind == p.VAR_KEYWORD for p in ps.values()) and k in inspect.signature(sample).parameters)

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

def make_pipe(sd, unet=None):
    "diffusers' StableDiffusionPipeline over the same components; `unet` (a compiled or wrapped one) replaces the UNet."
    from diffusers import StableDiffusionPipeline
    p = StableDiffusionPipeline(vae=sd.vae, text_encoder=sd.text_encoder, tokenizer=sd.tokenizer, unet=sd.unet,
                                scheduler=copy.deepcopy(sd.scheduler), safety_checker=None, feature_extractor=None,
                                requires_safety_checker=False)
    p.set_progress_bar_config(disable=True)
    if unet is not None: object.__setattr__(p, 'unet', unet)  # as `pipe.unet = ...`, without re-registering the config
    return p

class AsDiffusersUNet:
    """The UNet module `fn` (compiled or CUDA-graphed) called the way diffusers' pipeline calls it. The pipeline passes
    return_dict=False and None for timestep_cond, cross_attention_kwargs and added_cond_kwargs (SD v1); dropping those
    calls `fn` exactly as our loop does, so both share one compiled graph per shape instead of a second trace."""
    def __init__(self, fn, base): self.fn, self.base = fn, base
    def __getattr__(self, k): return getattr(self.__dict__['base'], k)  # config, dtype, device: the real module's
    def __call__(self, x, t, encoder_hidden_states=None, return_dict=True, **kw):
        o = self.fn(x, t, encoder_hidden_states=encoder_hidden_states, **{k: v for k, v in kw.items() if v is not None})
        return o if return_dict else (o.sample,)

class Recorder:
    """A UNet that notes the batch of every call (the rows a chunk holds); attributes are the real module's. Its
    `_orig_mod` is that module, as a compiled one's is: max_rows='auto' probes memory there, unrecorded, uncompiled."""
    def __init__(self, fn, base): self.fn, self.base, self._orig_mod, self.batches = fn, base, base, Counter()
    def __getattr__(self, k): return getattr(self.__dict__['base'], k)
    def __call__(self, x, *a, **k):
        self.batches[x.shape[0]] += 1
        return self.fn(x, *a, **k)

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
    "Median wall seconds of `fn()` over `reps` runs after the warm-up `warm()` (or one `fn()`); peak GPU GiB of the runs."
    (warm or fn)(); sync(dev)
    ts, peaks = [], []
    for _ in range(reps):
        if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)  # each run's own peak, not the warm-up's
        sync(dev); t = time.perf_counter(); fn(); sync(dev); ts.append(time.perf_counter() - t)
        if dev.type == 'cuda': peaks.append(torch.cuda.max_memory_allocated(dev) / 2**30)
    return dict(s=statistics.median(ts), runs=[round(o, 4) for o in ts], peak_gib=max(peaks) if peaks else None)

def per_call_ms(fn, dev, n=50, warm=3, blocks=5):
    "Milliseconds per call of `fn()`: median over `blocks` blocks of `n` calls (synchronised wall clock)."
    for _ in range(warm): fn()
    ts = []
    for _ in range(blocks):
        sync(dev); t = time.perf_counter()
        for _ in range(n): fn()
        sync(dev); ts.append((time.perf_counter() - t) / n * 1e3)
    return statistics.median(ts)

def graph_us(fn, n=20, reps=5):
    """GPU microseconds per call of `fn()` without the CPU's launch overhead: `n` calls captured in one CUDA graph,
    replays timed with CUDA events. A call that syncs with the host cannot be captured (the error says so)."""
    s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):  # warm-up on a side stream before capture, as torch.cuda.graphs asks
        for _ in range(3): fn()
    torch.cuda.current_stream().wait_stream(s); torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(n): fn()
    g.replay(); torch.cuda.synchronize()
    e0, e1, ts = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True), []
    for _ in range(reps):
        e0.record(); g.replay(); e1.record(); e1.synchronize(); ts.append(e0.elapsed_time(e1) * 1e3 / n)
    del g
    return statistics.median(ts)

def profiled_us(fn, n=20):
    "GPU microseconds per call of `fn()`: the kernels' summed device time under torch.profiler (when capture fails)."
    from torch.profiler import profile, ProfilerActivity
    fn(); torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
        for _ in range(n): fn()
        torch.cuda.synchronize()
    return sum(e - s for _, s, e in device_events(p)) / n

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

def ours(sd, tfms, steps, size, seeds=1024, latents=None, prompts=PROMPT, **kw):
    "cfg_guidance.generate: every row in one batch, one UNet call per step, decode included; `kw`: the loop's levers."
    from cfg_guidance.generate import generate
    return generate(sd, prompts, tfms, steps=steps, seeds=seeds, size=size, latents=latents, progress=False, **kw)

def diffusers_run(pipe, b, steps, size, lat=None, output_type='pt'):
    "diffusers' pipeline at batch `b` (num_images_per_prompt), guidance 7.5."
    return pipe(PROMPT, height=size, width=size, num_inference_steps=steps, guidance_scale=7.5,
                num_images_per_prompt=b, latents=None if lat is None else lat.clone(), output_type=output_type).images

def cfg75():
    from cfg_guidance.transforms import GuidanceTfm
    return GuidanceTfm(g=7.5)

def exps(steps):
    "The seed's ten experiments, schedules built for `steps`."
    from cfg_guidance.experiments import seed_experiments
    return list(seed_experiments(steps).values())

def registry():
    "The guidance registry (name -> entry), with the field's rules registered."
    import cfg_guidance.guiders  # registers the field's rules
    from cfg_guidance.transforms import GUIDANCE
    return GUIDANCE

def make_rule(e, steps): return e.make(e.grid[3], steps, **e.tune[0])  # every entry at its middle strength

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

# ---------------------------------------------------------------- profiles
SYNC_NAMES = ('aten::item', 'aten::_local_scalar_dense', 'cudaStreamSynchronize', 'cudaDeviceSynchronize')
# kernel name substrings -> category, first match wins: inductor's fused triton kernels carry aten names
# ('triton_poi_fused_convolution_...' is an epilogue), so their prefixes decide before any op name does
KCATS = (('elementwise/other', ('triton_poi',)), ('norm/reduction', ('triton_red', 'triton_per')),
         ('attention', ('flash', 'fmha', 'sdpa', 'attention', 'attn')),
         ('convolution', ('conv', 'fprop', 'dgrad', 'wgrad', 'winograd', 'implicit_gemm', 'cudnn')),
         ('GEMM/matmul', ('gemm', 'matmul', 'nvjet', 'cublas', 'cutlass', 'xmma', 'triton_tem', 'mm_')),
         ('norm/reduction', ('norm', 'reduce', 'moments', 'softmax')))

def kernel_cat(name):
    n = name.lower()
    return next((c for c, subs in KCATS if any(s in n for s in subs)), 'elementwise/other')

def device_events(prof):
    "The device side of a profile (kernels, copies, sets): [(name, start_us, end_us)]."
    from torch.autograd import DeviceType
    return [(e.name, e.time_range.start, e.time_range.end) for e in prof.events() if e.device_type == DeviceType.CUDA]

def union_us(ev):
    "Time the device is busy with at least one event (overlapping streams counted once)."
    tot, end = 0, -math.inf
    for _, s, e in sorted(ev, key=lambda o: o[1]):
        if e > end: tot += e - max(s, end); end = e
    return tot

def kernel_summary(prof, wall_s):
    "GPU busy fraction over the unprofiled wall time, device time per kernel category, the top 10 kernels."
    ev = device_events(prof)
    if not ev: return None
    tot = sum(e - s for _, s, e in ev); cats, names = Counter(), Counter()
    for n, s, e in ev: cats[kernel_cat(n)] += e - s; names[n] += e - s
    return dict(kernel_ms=tot / 1e3, busy_ms=union_us(ev) / 1e3, wall_ms=wall_s * 1e3, busy_frac=tot / 1e3 / (wall_s * 1e3),
                split_pct={k: 100 * v / tot for k, v in cats.most_common()},
                top10=[dict(kernel=n[:120], ms=v / 1e3, pct=100 * v / tot, cat=kernel_cat(n)) for n, v in names.most_common(10)])

def short_frame(f):
    "'…/cfg_guidance/generate.py(133): sample' -> 'generate.py:133 sample'."
    m = re.match(r'(.*?)\((\d+)\): (.*)', f)
    return f'{Path(m[1]).name}:{m[2]} {m[3]}' if m else f

PY_FRAME = re.compile(r'.*\.py\(\d+\): ')

def sync_callers(prof):
    """Host-sync-like calls, counted by name and by the nearest Python callers in the project, diffusers or this script.
    The profiler records Python frames (with_stack=True) as parent events named 'file.py(line): function'."""
    mine = ('cfg_guidance', 'diffusers', 'speed.py')
    c = Counter()
    for e in prof.events():
        if e.name not in SYNC_NAMES or e.name == 'aten::_local_scalar_dense' and getattr(e.cpu_parent, 'name', '') == 'aten::item':
            continue  # .item()'s own dense read: counted once, as aten::item
        fr, p = [f for f in (e.stack or []) if any(s in f for s in mine)], e.cpu_parent
        while p is not None and len(fr) < 3:
            if PY_FRAME.match(p.name) and any(s in p.name for s in mine): fr.append(p.name)
            p = p.cpu_parent
        c[(e.name, ' <- '.join(short_frame(f) for f in fr[:3]) or '(no Python frame recorded)')] += 1
    return c

def profile_grid(C, label, sdv, ps=3):
    "Profile `ps` steps of the grid through `sdv`: kernel summary, sync-like calls and callers; tables for the txt."
    from torch.profiler import profile, ProfilerActivity
    fn = lambda: ours(sdv, exps(ps), ps, C.size)
    fn(); sync(C.dev)
    sync(C.dev); t = time.perf_counter(); fn(); sync(C.dev); wall = time.perf_counter() - t  # wall without profiler overhead
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if C.gpu else [])
    with profile(activities=acts, with_stack=True) as prof: fn(); sync(C.dev)
    ka = prof.key_averages()
    sort = 'self_device_time_total' if C.gpu else 'self_cpu_time_total'
    try: txt = ka.table(sort_by=sort, row_limit=25)
    except Exception: txt = ka.table(sort_by='self_cuda_time_total' if C.gpu else 'self_cpu_time_total', row_limit=25)
    syncs = {e.key: e.count for e in ka if e.key in SYNC_NAMES or 'Synchronize' in e.key}
    callers = sync_callers(prof)
    stk = [f"{e.count:6d}  {e.key}\n" + ''.join(f'            {short_frame(f)}\n' for f in e.stack[:5])
           for e in prof.key_averages(group_by_stack_n=5) if e.key == 'aten::item']
    txt += ('\n\nSync-like calls by nearest project/diffusers caller:\n' +
            ''.join(f'{n:6d}  {k[0]:28} {k[1]}\n' for k, n in callers.most_common()) +
            '\naten::item grouped by stack (group_by_stack_n=5):\n' + ''.join(stk))
    ks = kernel_summary(prof, wall)
    if ks: txt = (f"GPU busy {100 * ks['busy_frac']:.1f} % of {ks['wall_ms']:.1f} ms; " +
                  ', '.join(f'{k} {v:.1f} %' for k, v in ks['split_pct'].items()) + '\nTop 10 kernels:\n' +
                  ''.join(f"  {o['ms']:8.2f} ms {o['pct']:5.1f} %  [{o['cat']}] {o['kernel']}\n" for o in ks['top10']) +
                  '\n' + txt)
    out = dict(steps=ps, wall_s=wall, sync_like_calls=syncs, kernels=ks,
               callers=[dict(name=k[0], caller=k[1], n=n) for k, n in callers.most_common(12)])
    return out, f'==== {label}, {ps} steps, {C.size}px\n\n{txt}\n'

# ---------------------------------------------------------------- results
class Results:
    "Rows of timings plus meta data; written as JSON + markdown after every row (a row of the same name is replaced)."
    def __init__(self, out, meta, merge=None):
        self.out, self.meta, self.rows, self.checks, self.extra, self.section = Path(out), meta, [], {}, {}, None
        self.out.mkdir(parents=True, exist_ok=True)
        if merge:  # an earlier run's report: its rows stay unless this run measures the same name
            d = json.loads(Path(merge).read_text())
            self.rows, self.checks = d.get('rows', []), d.get('checks', {})
            self.extra = {k: v for k, v in d.items() if k not in ('meta', 'rows', 'checks', 'targets')}
            for o in self.rows: o.setdefault('run', d['meta'].get('run_id', d['meta'].get('date')))
            meta['merged_from'] = [d['meta'].get('date')] + d['meta'].get('merged_from', [])
    def _put(self, row):
        row.update(section=self.section, run=self.meta['run_id'])
        i = next((i for i, o in enumerate(self.rows) if o['name'] == row['name']), None)
        if i is None: self.rows.append(row)
        elif 'skipped' in row and 's' in self.rows[i]: log(f"  (keeping {row['name']} measured in run {self.rows[i].get('run')})")
        else: self.rows[i] = row
        self.save(); return row
    def add(self, name, batch, r, note='', **kw):
        row = dict(name=name, batch=batch, s=r['s'], s_per_image=r['s'] / batch, runs=r['runs'], peak_gib=r['peak_gib'],
                   note=note, **kw)
        log(f'{name:42} batch {batch:3}  {r["s"]:8.3f} s  {row["s_per_image"]:7.4f} s/img  '
            f'peak {r["peak_gib"] or 0:.2f} GiB  runs {r["runs"]}')
        return self._put(row)
    def skip(self, name, why, **kw): log(f'{name}: skipped ({why})'); self._put(dict(name=name, skipped=why, **kw))
    def drop(self, name): self.rows = [o for o in self.rows if o['name'] != name]
    def get(self, name, this_run=False):
        "The measured row `name` (of this run only, if `this_run`), or None."
        o = next((o for o in self.rows if o['name'] == name and 's' in o), None)
        return o if o and (not this_run or o.get('run') == self.meta['run_id']) else None
    def ref(self, batch):
        "diffusers' eager s/image at `batch`, if measured."
        o = self.get(f'diffusers pipeline b{batch}')
        return o['s_per_image'] if o else None
    def derived(self):
        floor = self.meta.get('floor_s_per_image')
        for o in self.rows:
            if 's' not in o: continue
            rb = o.get('ref_batch', o['batch'])
            ref = self.ref(rb) if rb in (1, 10) else None
            o['vs_diffusers'] = None if ref is None else o['s_per_image'] / ref
            o['vs_floor'] = None if not floor else o['s_per_image'] / floor
        g, ums = self.extra.get('guidance'), self.extra.get('unet_ms', {})
        for v in (g or {}).get('per_tfm', {}).values():  # % of a step: wall (pct_*) and GPU time (gpu_pct_*)
            if not isinstance(v, dict): continue
            for k, u in (('eager', ums.get('eager b2')), ('compiled', ums.get('compiled b2'))):
                if not u: continue
                v[f'pct_{k}'] = 100 * v['ms'] / u
                if v.get('gpu_us') is not None: v[f'gpu_pct_{k}'] = 100 * v['gpu_us'] / 1e3 / u
    def save(self):
        self.derived()
        card = self.meta['card']
        d = dict(meta=self.meta, rows=self.rows, checks=self.checks, **self.extra)
        try: d['targets'] = targets(d)
        except Exception as e: d['targets'] = {'targets': f'not computed: {err1(e)}'}
        (self.out / f'speed_{card}.json').write_text(json.dumps(d, indent=1, default=str) + '\n')
        try: md = markdown(d)
        except Exception as e: md = f'# Speed\n\nThe report did not render ({err1(e)}); the numbers are in speed_{card}.json.\n'
        (self.out / f'speed_{card}.md').write_text(md)

def _f(v, fmt='.3f'): return '' if v is None else format(v, fmt)
def _rows(d): return {o['name']: o for o in d['rows'] if 's' in o}

# ours vs diffusers at equal compile: (ours, theirs, goal speed-up or None)
PAIRS = (('ours b1 (CFG 7.5)', 'diffusers pipeline b1', None), ('ours grid of 10 experiments', 'diffusers pipeline b10', None),
         ('ours b1 (CFG 7.5), torch.compile', 'diffusers pipeline b1, torch.compile', None),
         ('ours grid of 10, torch.compile', 'diffusers pipeline b10, torch.compile', 1.3),
         ('ours b1 (CFG 7.5), compile reduce-overhead', 'diffusers pipeline b1, torch.compile', 2.0),
         ('ours b1 (CFG 7.5), compile reduce-overhead', 'diffusers pipeline b1, CUDA graphs', None),
         ('ours grid of 10, compile reduce-overhead', 'diffusers pipeline b10, torch.compile', None))

def in_loop_modes(g): return [m for m, v in (g or {}).get('in_loop', {}).items() if m != 'fused' and v.get('rules')]

def graph_step_ms(d):
    "ms of one b1 step of the loop with the UNet in a CUDA graph (the shortest step measured), or None."
    return ((d.get('guidance') or {}).get('in_loop', {}).get('CUDA graphs') or {}).get('step_ms')

def guidance_worst(d):
    "Worst % of a step over the rules, per measure: GPU time (eager, compiled), in-loop per mode, wall per call."
    g = d.get('guidance') or {}
    per = {k: v for k, v in g.get('per_tfm', {}).items() if isinstance(v, dict)}
    W = {}
    for k in ('gpu_pct_eager', 'gpu_pct_compiled', 'pct_eager', 'pct_compiled'):
        vs = [(v[k], n) for n, v in per.items() if v.get(k) is not None]
        if vs: W[k] = max(vs)
    for m, dm in g.get('in_loop', {}).items():
        vs = [(v['pct'], n) for n, v in dm.get('rules', {}).items() if isinstance(v, dict) and v.get('pct') is not None]
        if vs: W[f'in-loop {m}'] = max(vs)
    return W

def targets(d):
    "The issue's goals, each as 'MET'/'NOT MET' with its numbers, from whatever rows are there."
    m, rows, T = d['meta'], _rows(d), {}
    gpu = m['card'] != 'cpu'
    fp16 = [o for o in rows.values() if o['batch'] == 10 and o['name'].startswith('ours grid') and o.get('dtype') in (None, m['dtype'])]
    anyd = [o for o in rows.values() if o['batch'] == 10 and o['name'].startswith('ours grid')]
    if gpu and fp16:
        b, ba = min(fp16, key=lambda o: o['s']), min(anyd, key=lambda o: o['s'])
        T['grid of 10, 512 px, 50 steps, fp16, < 1.5 s incl. decode'] = (
            f"{'MET' if b['s'] < 1.5 and m['steps'] >= 50 else 'NOT MET'}: best {b['s']:.3f} s ({b['name']})"
            + (f"; best at any precision {ba['s']:.3f} s ({ba['name']}, rel L2 {_f(ba.get('rel_l2_vs_fp16'), '.1e')})" if ba is not b else ''))
    eag, dref = rows.get('ours grid of 10 experiments'), rows.get('diffusers pipeline b10')
    if eag and dref:
        r = eag['s_per_image'] / dref['s_per_image']
        T['eager grid no slower than diffusers b10 (s/image ratio)'] = f"{'MET' if r <= 1.0 else 'NOT MET'}: {r:.3f}"
        comp = [o for o in anyd if any(k in o['name'] for k in ('compile', 'autotune'))]
        if comp:
            bc = min(comp, key=lambda o: o['s']); sp = dref['s_per_image'] / bc['s_per_image']
            T['>= 1.5x faster than diffusers eager b10 with compile/graphs'] = f"{'MET' if sp >= 1.5 else 'NOT MET'}: {sp:.2f}x ({bc['name']})"
    for a, b, goal in PAIRS:
        if goal and a in rows and b in rows:
            sp = rows[b]['s_per_image'] / rows[a]['s_per_image']
            T[f'{a} >= {goal}x faster than {b} (s/image)'] = f"{'MET' if sp >= goal else 'NOT MET'}: {sp:.2f}x"
    W = guidance_worst(d)
    gpu_ms = [(k, W[k]) for k in ('gpu_pct_eager', 'gpu_pct_compiled') if k in W]
    if gpu_ms:
        T['guidance <= 1 % of a step, GPU kernel time per call (CUDA graph replay) vs the batch-2 UNet forward'] = (
            f"{'MET' if all(v[0] <= 1 for _, v in gpu_ms) else 'NOT MET'}: worst " +
            ', '.join(f"{k.split('_')[-1]} {v[0]:.2f} % ({v[1]})" for k, v in gpu_ms))
    gstep = graph_step_ms(d)
    per = {n: v for n, v in ((d.get('guidance') or {}).get('per_tfm') or {}).items() if isinstance(v, dict) and n.startswith('rule: ')}
    for key, lab in (('gpu_us', 'as the loop runs it by default'), ('fused_gpu_us', 'with fuse=True (fused GPU µs)')):
        vs = [(v[key] / 10 / gstep, n) for n, v in per.items() if v.get(key) is not None] if gstep else []
        if vs:
            w = max(vs)
            T[f'guidance <= 1 % of the shortest step (b1, UNet in a CUDA graph, {gstep:.2f} ms), every rule {lab}'] = (
                f"{'MET' if w[0] <= 1 else 'NOT MET'}: worst {w[0]:.2f} % ({w[1]}), {sum(x <= 1 for x, _ in vs)} of {len(vs)} rules at <= 1 %")
    loop = [(k, v) for k, v in W.items() if k.startswith('in-loop')]
    if loop:
        # the CFG baseline's own run-to-run spread: a difference smaller than it is noise, not a measured cost
        il = (d.get('guidance') or {}).get('in_loop', {})
        spread = {k[8:]: 100 * (max(r) - min(r)) / statistics.median(r) for k, _ in loop if (r := il.get(k[8:], {}).get('cfg_runs'))}
        noisy = {m: v for m, v in spread.items() if v > 1}
        T['guidance <= 1 % of a step, in the real b1 loop ((t_rule - t_CFG) / t_CFG)'] = (
            (f"NOT MEASURABLE at this noise: CFG's own runs spread " + ', '.join(f'{m} {v:.0f} %' for m, v in noisy.items())
             + '; ' if noisy else f"{'MET' if all(v[0] <= 1 for _, v in loop) else 'NOT MET'}: ") + 'worst ' +
            ', '.join(f"{k[8:]} {v[0]:.2f} % ({v[1]})" for k, v in loop))
    wall = [(k, W[k]) for k in ('pct_eager', 'pct_compiled') if k in W]
    if wall:
        T['guidance <= 1 % of a step, synchronised wall clock per call (CPU launch included; not how it costs in the loop)'] = (
            f"{'MET' if all(v[0] <= 1 for _, v in wall) else 'NOT MET'}: worst " +
            ', '.join(f"{k.split('_')[-1]} {v[0]:.2f} % ({v[1]})" for k, v in wall))
    g = d.get('guidance') or {}
    if g.get('grid_sum_ms') and d.get('unet_ms', {}).get('eager b20'):
        T['grid: the ten transforms per step vs a batch-20 forward (wall clock)'] = (
            f"{100 * g['grid_sum_ms'] / d['unet_ms']['eager b20']:.2f} %")
    sw = d.get('sweep')
    if sw and sw.get('images_per_s'):
        T["sweep of 160 rows: images/s vs the UNet rate at the sweep's batch"] = (
            f"{sw['images_per_s']:.2f} img/s = {_f(sw.get('vs_unet_rate'), '.2f')} of {_f(sw.get('unet_rate'), '.2f')} img/s "
            f"({sw.get('unet_rate_from')}); {sw.get('unet')} UNet, chunks of {sw.get('chunk_rows')} rows, peak {_f(sw.get('peak_gib'), '.1f') or 'n/a'} GiB")
    if not gpu and eag:
        r1, d1 = rows.get('ours b1 (CFG 7.5)'), rows.get('diffusers pipeline b1')
        T['CPU tiny: ours vs diffusers (s/image ratio)'] = (f"b1 {r1['s_per_image'] / d1['s_per_image']:.2f}, grid vs b10 "
                                                           f"{eag['s_per_image'] / dref['s_per_image']:.2f}" if r1 and d1 and dref else 'n/a')
    return T

def markdown(d):
    "The results as a markdown report."
    m, rows = d['meta'], _rows(d)
    L = [f"# Speed: {m['device_name']}", '',
         f"{m['date']} · torch {m['torch']} · diffusers {m['diffusers']} · transformers {m['transformers']} · "
         f"python {m['python']}" + (f" · merged with runs of {', '.join(map(str, m['merged_from']))}" if m.get('merged_from') else ''), '',
         f"Model: {m['model']}; {m['size']}x{m['size']} px, {m['steps']} LMS steps, {m['dtype']}, prompt "
         f"\"{PROMPT}\", shared initial latents; every time includes text encoding and VAE decode. "
         f"Median of `reps` runs after a warm-up; peak GiB: the most GPU memory allocated during the timed runs. "
         f"Ratios: s/image over diffusers' eager pipeline at the same batch; over the FLOP floor.", '']
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
    pairs = [(a, b, g) for a, b, g in PAIRS if a in rows and b in rows]
    if pairs:
        L += ['', '## Ours against diffusers at equal compilation', '',
              "diffusers' pipeline runs the same compiled UNet module as our loop (one `torch.compile(unet, dynamic=False)` "
              "per mode, shared; same shapes: batch 2 for b1, batch 20 for b10 and the grid).", '',
              '| ours | s / image | diffusers | s / image | speed-up | goal |', '|---|---:|---|---:|---:|---:|']
        L += [f"| {a} | {rows[a]['s_per_image']:.4f} | {b} | {rows[b]['s_per_image']:.4f} | "
              f"{rows[b]['s_per_image'] / rows[a]['s_per_image']:.2f}x | {'' if g is None else f'>= {g}x'} |" for a, b, g in pairs]
    lev = [o for o in d['rows'] if o.get('lever')]
    if lev:
        L += ['', '## UNet levers, alone and together', '',
              "Each lever on its own copy of the fp16 UNet, compiled (default mode) unless the row says eager; grid of 10 "
              f"at {m['steps']} steps. Gain: the baseline's grid seconds over the lever's (> 1 pays). Precision: relative L2 "
              f"(fp32 math) of the grid's final latents after {m.get('check_steps')} steps against the eager {m['dtype']} grid "
              "from the same latents (the compiled fp16 baseline shows the size of kernel-order noise).", '',
              '| lever | ms b20 forward | grid s | gain vs baseline | precision (rel L2 vs fp16) | peak GiB | compile s | note |',
              '|---|---:|---:|---:|---:|---:|---:|---|']
        for o in lev:
            if 'skipped' in o: L.append(f"| {o['lever']} | | | | | | | skipped: {o['skipped']} |"); continue
            L.append(f"| {o['lever']} | {_f(o.get('unet_ms_b20'), '.2f')} | {o['s']:.3f} | {_f(o.get('gain'), '.3f')} | "
                     f"{_f(o.get('rel_l2_vs_fp16'), '.2e')} | {_f(o['peak_gib'], '.2f')} | {_f(o.get('compile_s'), '.0f')} | {o['note']} |")
    lp = [o for o in d['rows'] if o.get('loop_lever') and 's' in o]
    if lp:
        L += ['', "## The loop's levers", '', '| lever | UNet | grid s | default s | gain | peak GiB |', '|---|---|---:|---:|---:|---:|']
        L += [f"| {o['loop_lever']} | {o['variant']} | {o['s']:.3f} | {_f(rows.get(o['base'], {}).get('s'), '.3f')} | "
              f"{_f(rows[o['base']]['s'] / o['s'] if o['base'] in rows else None, '.3f')} | {_f(o['peak_gib'], '.2f')} |" for o in lp]
    if d.get('unet_ms'):
        L += ['', '## One UNet forward', '', '| variant | batch | ms |', '|---|---:|---:|']
        L += [f"| {k.rsplit(' b', 1)[0]} | {k.rsplit(' b', 1)[1]} | {v:.2f} |" for k, v in d['unet_ms'].items()]
    L += guidance_md(d)
    sw = d.get('sweep')
    if sw:
        L += ['', '## Sweep: 16 prompts x the ten experiments', '',
              f"{sw.get('rows')} rows through {sw.get('how')} on the {sw.get('unet')} UNet: "
              + (f"**{sw['images_per_s']:.2f} images/s** ({sw['s']:.2f} s), chunks of {sw.get('chunk_rows')} rows "
                 f"(UNet batches seen: {sw.get('batches')}), peak {_f(sw.get('peak_gib'), '.1f') or 'n/a'} GiB. " if sw.get('images_per_s') else
                 f"not measured: {sw.get('skipped')}. ")
              + (f"The UNet rate at the sweep's batch ({sw['unet_rate_from']}) is {sw['unet_rate']:.2f} images/s; the sweep reaches "
                 f"{_f(sw.get('vs_unet_rate'), '.2f')} of it." if sw.get('unet_rate') else '')
              + (f" With max_rows='auto' and the eager UNet: {sw['auto_eager']['images_per_s']:.2f} images/s "
                 f"({sw['auto_eager']['s']:.2f} s, chunks of {sw['auto_eager']['chunk_rows']} rows)." if (sw.get('auto_eager') or {}).get('images_per_s') else '')]
    if d.get('checks'):
        L += ['', '## Checks', '']
        L += [f"- **{k}**: " + ', '.join(f'{a}={b}' for a, b in v.items()) for k, v in d['checks'].items()]
    if d.get('targets'):
        L += ['', '## Targets', '']
        L += [f"- {k}: {v}" for k, v in d['targets'].items()]
    L += profile_md(d)
    if d.get('notes'): L += ['', '## Notes', ''] + [f'- {n}' for n in d['notes']]
    if d.get('sections'):
        L += ['', '## Sections of this run', '', ', '.join(f"{k} {v.get('s', 0):.0f} s ({v.get('status')})" for k, v in d['sections'].items())]
    return '\n'.join(L) + '\n'

def guidance_md(d):
    "The guidance cost table: per call (wall, GPU), as % of the batch-2 forward, and in the loop."
    g, ums = d.get('guidance'), d.get('unet_ms', {})
    if not g: return []
    modes, il = in_loop_modes(g), g.get('in_loop', {})
    L = ['', '## Guidance cost per step', '',
         f"Per call: one call of each transform on one row ({g.get('shape', '?')}, {g.get('dtype', '?')}). *ms / call wall*: synchronised "
         "wall clock (includes the CPU's kernel launches, which overlap the UNet in the loop). *GPU µs / call*: kernel "
         "time with no launch overhead, from 20 calls replayed out of one CUDA graph (profiler kernel sum where capture "
         "fails). *% eager / compiled step*: GPU µs over one batch-2 UNet forward "
         f"({_f(ums.get('eager b2'), '.2f')} ms eager" + (f", {ums['compiled b2']:.2f} ms compiled" if ums.get('compiled b2') else '') + "). *In-loop*: the "
         "real b1 loop with the rule against plain CFG 7.5, (t_rule - t_CFG) / t_CFG, i.e. the extra time per step as % "
         "of a CFG step (median of reps; run-to-run noise shows as small negative values; on the CPU it dwarfs the rules)."
         + (f" *Fused*: the same with `fuse=True` ({il['fused'].get('unet')} UNet)." if 'fused' in il else '')
         + " *Fused GPU µs*: the rule as `fuse=True` runs it (the loop's per-step `_apply` compiled by inductor for that rule, "
         "parameters resolved on the host), replayed from a CUDA graph. *% CUDA-graph step*: GPU µs over one b1 step of the "
         "loop whose UNet runs in a CUDA graph (the shortest step there is).", '',
         '| transform | ms / call wall | GPU µs / call | % eager step | % compiled step | '
         + ''.join(f'in-loop % {mo} | ' for mo in modes) + 'fused | fused GPU µs / call | % CUDA-graph step, GPU / fused GPU |',
         '|---|---:|---:|---:|---:|' + '---:|' * len(modes) + '---:|---:|---:|']
    gstep = graph_step_ms(d)
    def graph_pct(v):
        if not gstep: return ''
        a, b = v.get('gpu_us'), v.get('fused_gpu_us')
        return ' / '.join(_f(None if x is None else x / 10 / gstep, '.2f') for x in (a, b)) if (a, b) != (None, None) else ''
    def loop_pct(mode, k):
        if not k.startswith('rule: '): return ''
        v = il.get(mode, {}).get('rules', {}).get(k[len('rule: '):])
        return v[:40] if isinstance(v, str) else _f((v or {}).get('pct'), '.2f')
    per = dict(g.get('per_tfm', {}))  # rules timed in the loop but not per call (guidance section not run) still get a line
    per.update({f'rule: {k}': {} for mo in il.values() for k in mo.get('rules', {}) if f'rule: {k}' not in per})
    for k, v in per.items():
        if isinstance(v, str): L.append(f'| {k} | failed: {v} | | | |' + ' |' * len(modes) + ' | | |'); continue
        gu = v.get('gpu_us'); gus = _f(gu, '.1f') if gu is not None else (f"n/a: {v['gpu_err']}"[:60] if v.get('gpu_err') else '')
        L.append(f"| {k} | {_f(v.get('ms'))} | {gus} | {_f(v.get('gpu_pct_eager'), '.2f')} | {_f(v.get('gpu_pct_compiled'), '.2f')} | "
                 + ''.join(f'{loop_pct(mo, k)} | ' for mo in modes) + f"{loop_pct('fused', k)} | "
                 + (_f(v.get('fused_gpu_us'), '.1f') if v.get('fused_gpu_us') is not None else (v.get('fused_err') or '')[:60])
                 + f" | {graph_pct(v)} |")
    for mo, dm in il.items():
        if dm.get('cfg_s') is not None:
            L.append(f"\nIn-loop {mo}: CFG run {dm['cfg_s']:.3f} s ({dm.get('step_ms', 0):.2f} ms a step; "
                     f"runs {dm.get('cfg_runs')}){'; ' + dm['skipped'] if dm.get('skipped') else ''}.")
        elif dm.get('skipped'): L.append(f"\nIn-loop {mo}: skipped ({dm['skipped']}).")
    if g.get('grid_sum_ms') and ums.get('eager b20'):
        L += ['', f"Grid of 10 (the loop calls each group on its rows): sum of the 10 transforms "
              f"{g['grid_sum_ms']:.2f} ms = {100 * g['grid_sum_ms'] / ums['eager b20']:.2f} % of one batch-20 UNet forward "
              f"({ums['eager b20']:.2f} ms), wall clock."]
    if g.get('loop_overhead'):
        L += ['', 'Loop overhead per step with a zero-cost model (transforms + scheduler + indexing, CPU-bound): '
              + ', '.join(f"{k} {v:.2f} ms" for k, v in g['loop_overhead'].items()) + '.']
    return L

def profile_md(d):
    "The profile summary: busy fraction, device time by kernel category, top kernels, host syncs and their callers."
    p = d.get('profile') or {}
    if not p: return []
    L = ['', '## Profile (3 steps of the grid)', '']
    for k, v in p.items():
        if not isinstance(v, dict) or not ('wall_s' in v or 'skipped' in v): continue
        if v.get('skipped'): L += [f"- **{k}**: skipped ({v['skipped']})"]; continue
        ks, sy = v.get('kernels'), v.get('sync_like_calls', {})
        s = f"- **{k}**: wall {v['wall_s'] * 1e3:.1f} ms unprofiled"
        if ks: s += (f"; GPU busy **{100 * ks['busy_frac']:.1f} %** (kernel time {ks['kernel_ms']:.1f} ms); device time: "
                     + ', '.join(f'{c} {x:.1f} %' for c, x in ks['split_pct'].items()))
        s += '; sync-like calls: ' + (', '.join(f'{a} {b}' for a, b in sy.items()) or 'none')
        L.append(s)
        if v.get('callers'):
            L.append('  - callers: ' + '; '.join(f"{o['name']} x{o['n']} from {o['caller']}" for o in v['callers'][:6]))
        if ks:
            L.append('  - top kernels: ' + '; '.join(f"{o['kernel'][:70]} {o['ms']:.2f} ms ({o['cat']})" for o in ks['top10']))
    L.append(f"\nFull tables in profile_{d['meta']['card']}.txt.")
    return L

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

# ---------------------------------------------------------------- measuring helpers
def need(C, g, c=3):
    "Raise Skip unless `g` seconds of budget are left (`c` on the CPU)."
    n = g if C.gpu else c
    if C.left() < n: raise Skip(f'time budget ({C.left():.0f} s left, needs ~{n:.0f} s)')

def why(e): return str(e) if isinstance(e, Skip) else err1(e)

def row(C, name, batch, fn, note='', reps=None, warm=2, cost=(30, 3), **fields):
    "Time `fn(steps)` after the warm-up `fn(warm)` as row `name`; the budget, a missing feature or an error make a skip row."
    try:
        need(C, *cost)
        r = timed(lambda: fn(C.steps), C.dev, reps or C.a.reps, lambda: fn(warm))
    except Exception as e: w = why(e)
    else: return C.R.add(name, batch, r, note, **fields)
    C.R.skip(name, w, **fields); free(); return None  # after the except block: its traceback no longer holds tensors

def grid_row(C, name, unet, note='', dt=None, gen=None, cost=(20, 3), warm=2, **fields):
    "Row `name`: the grid of 10 through `unet` with generate's keyword arguments `gen`; reused if this run has it."
    o = C.R.get(name, this_run=True)
    if o: o.update(fields); C.R.save(); return o
    sdv, gen = with_unet(C.sd, unet, dt), gen or {}
    return row(C, name, 10, lambda s: ours(sdv, exps(s), s, C.size, **gen), note, cost=cost, warm=warm, **fields)

def fwd(C, unet, b, dt=None):
    "One UNet forward at batch `b`, inputs shaped and laid out as in the loop (a stride-0 input would recompile)."
    dt = dt or C.dtype
    x = torch.randn(b, *C.lat_shape, device=C.dev, dtype=dt)
    e, t = C.emb.expand(b, -1, -1).to(dt).contiguous(), torch.tensor(500., device=C.dev)
    return lambda: unet(x, t, encoder_hidden_states=e).sample

def unet_ms(C, key, unet, b, dt=None, n=None):
    "ms of one forward of `unet` at batch `b`, stored in unet_ms as '<key> b<b>'."
    v = per_call_ms(fwd(C, unet, b, dt), C.dev, n=n or (10 if C.gpu else 3))
    C.R.extra.setdefault('unet_ms', {})[f'{key} b{b}'] = v; C.R.save()
    return v

def grid_ref(C):
    "The eager grid's final latents after check-steps steps: the reference of the option and precision checks."
    if C.xg is None: C.xg = ours(C.sd, exps(C.csteps), C.csteps, C.size, latents=C.lat10)[1]
    return C.xg

def check(C, name, x, ref, **kw):
    "Record `rel(x, ref)` as check `name`, with its tolerance and verdict."
    c = rel(x, ref); c.update(tolerance=f'rel_l2 <= {C.tol:g}', ok=c['rel_l2'] <= C.tol, steps=C.csteps, **kw)
    C.R.checks[name] = c; C.R.save(); return c

def comp(C, mode='default', shapes=('b1',)):
    """The fp16 UNet compiled in `mode` ('default' or 'reduce-overhead'): one module per run, shared by every row that
    uses it, ours and diffusers' (compiling the SD UNet takes ~45 s per mode and batch shape on a GPU). `shapes` to
    warm (compile) now: 'b1' (batch 2: b1 runs and the grid's shared first step), 'grid' (batch 20)."""
    if not C.do_compile: raise Skip('torch.compile off (--compile)')
    if mode == 'reduce-overhead' and not C.do_ro: raise Skip("mode='reduce-overhead' off (--reduce-overhead)")
    cs, reps = C.R.extra.setdefault('compile_s', {}), 1 if mode == 'default' else 2  # CUDA graphs record on the 2nd call
    if mode not in C.comp:  # torch.compile is lazy: each new shape compiles at its first call
        cu = torch.compile(C.sd.unet, dynamic=False, **({} if mode == 'default' else dict(mode=mode)))
        C.comp[mode] = cu if mode == 'default' else Marked(cu, C.sd.unet.config)
    for sh in shapes:
        if (mode, sh) in C.warm: continue
        need(C, 80, 120)
        sdc, tc = with_unet(C.sd, C.comp[mode]), time.perf_counter()
        for _ in range(reps): ours(sdc, cfg75(), 2, C.size) if sh == 'b1' else ours(sdc, exps(2), 2, C.size, **C.lkw)
        k = f"{mode} {'b2' if sh == 'b1' else 'b20'}"
        cs[k] = time.perf_counter() - tc; log(f'compile {k}: {cs[k]:.1f} s'); C.warm.add((mode, sh))
    return C.comp[mode]

# ---------------------------------------------------------------- sections
def sec_checks(C):
    "Grid rows == rows alone; ours == diffusers at CFG 7.5; share_first, host_schedule and fuse change no latents."
    R, cex = C.R, exps(C.csteps)
    xg = grid_ref(C)
    alone = torch.cat([ours(C.sd, tf, C.csteps, C.size, latents=C.lat1)[1] for tf in cex])
    extra = {}
    if C.gpu:  # fp16 against fp32 for the same row alone: the scale of fp16 noise
        C.unet32.to(C.dev); sd32 = with_unet(C.sd, C.unet32, torch.float32)
        sd32.text_encoder, sd32.vae = C.sd.text_encoder.float(), C.sd.vae.float()
        x32 = ours(sd32, cex[0], C.csteps, C.size, latents=C.lat1.float())[1]
        C.sd.text_encoder.to(C.dtype); C.sd.vae.to(C.dtype)
        extra['fp16_vs_fp32_row0'] = rel(alone[:1], x32)
        C.unet32.cpu(); del sd32; free()
    check(C, 'grid rows batched == rows alone', xg, alone, **extra)
    ref = diffusers_run(C.pipe, 1, C.csteps, C.size, C.lat1, output_type='latent')
    x1 = ours(C.sd, cfg75(), C.csteps, C.size, latents=C.lat1)[1]
    check(C, 'ours == diffusers pipeline, CFG 7.5', x1, ref, finite=bool(torch.isfinite(x1).all()))
    for name, kw in (('grid with share_first=False == default', dict(share_first=False)),
                     ('grid with host_schedule=True == default', dict(host_schedule=True)),
                     ('grid with fuse=True == unfused', dict(fuse=True))):
        if not lib_has(next(iter(kw))): R.checks[name] = dict(skipped=NOT_IN); continue
        try: x = ours(C.sd, cex, C.csteps, C.size, latents=C.lat10, **kw)[1]
        except Exception as e: R.checks[name] = dict(error=err1(e)); continue
        check(C, name, x, xg)
    log('checks', json.dumps(R.checks, default=str)[:1500])

def sec_unet(C):
    "One UNet forward, eager, batch 2 and 20."
    for b in (2, 20): unet_ms(C, 'eager', C.sd.unet, b)
    log('unet', C.R.extra['unet_ms'])

def sec_eager(C):
    "diffusers' pipeline b1 and b10, ours b1 and the grid: eager."
    for b, lat in ((1, C.lat1), (10, C.lat10)):
        row(C, f'diffusers pipeline b{b}', b, lambda s, b=b, lat=lat: diffusers_run(C.pipe, b, s, C.size, lat), 'eager, SDPA', cost=(15, 2))
    row(C, 'ours b1 (CFG 7.5)', 1, lambda s: ours(C.sd, cfg75(), s, C.size), 'eager, SDPA', cost=(12, 2))
    row(C, 'ours grid of 10 experiments', 10, lambda s: ours(C.sd, exps(s), s, C.size), 'eager, SDPA, one batch', cost=(15, 2))

def rule_gpu(C, call):
    "GPU µs per call: CUDA-graph replay, else the profiler's kernel sum (with the capture's error)."
    try: return dict(gpu_us=graph_us(call), gpu_how='CUDA graph')
    except Exception as e: w = err1(e)
    free()
    try: return dict(gpu_us=profiled_us(call), gpu_how='profiler', gpu_err=w)
    except Exception as e: return dict(gpu_err=f'{w} / {err1(e)}')

def fused_gpu(C, tf, u, c, st):
    """GPU µs per call of one rule as the fused loop runs it (`generate(..., fuse=True)`): the library's compiled per-step
    call (`fused_apply`), its parameters resolved on the host; replayed from a CUDA graph."""
    from dataclasses import replace
    from cfg_guidance.generate import fused_apply
    try: need(C, 40, 0)
    except Skip as e: return dict(fused_err=str(e))
    groups, state = [(tf, [0])], [None]
    f, vals = fused_apply('inductor', groups), [tf.resolve(replace(st, x=None))]
    def call(): _, s = f(groups, [slice(0, 1)], u, c, st, state, vals); state[0] = s[0]
    try:
        t0 = time.perf_counter(); call(); call(); sync(C.dev)
        return dict(fused_gpu_us=graph_us(call), fused_compile_s=time.perf_counter() - t0)
    except Exception as e: return dict(fused_err=err1(e))

def sec_guidance(C):
    "Every transform per call on one row: wall clock and GPU time; the loop's overhead with a zero-cost model."
    from cfg_guidance.transforms import Step
    from cfg_guidance.experiments import seed_experiments
    from cfg_guidance.generate import sample, init_latents
    gx = torch.randn(1, *C.lat_shape, device=C.dev, dtype=C.dtype)
    g_u, g_c = torch.randn_like(gx), gx + 0.1 * torch.randn_like(gx)
    st = Step(i=C.steps // 2, n=C.steps, t=500., sigma=1.0, alpha_bar=0.5, x=gx)
    tfs = {f'seed: {k}': v for k, v in seed_experiments(C.steps).items()}
    for k, e in registry().items():
        try: rule = make_rule(e, C.steps)
        except Exception as ex: tfs[f'rule: {k}'] = err1(ex); continue
        if rule.uncond != 'weak': tfs[f'rule: {k}'] = rule  # AutoGuidance's math is CFG's; its cost is the weak model
    ums = C.R.extra.get('unet_ms', {})
    ub2 = ums.get('eager b2') or unet_ms(C, 'eager', C.sd.unet, 2)
    per = {}
    for k, tf in tfs.items():
        if isinstance(tf, str): per[k] = tf; continue
        state = [None]
        def call(tf=tf, state=state): _, state[0] = tf(g_u, g_c, st, state[0])
        try: per[k] = dict(ms=per_call_ms(call, C.dev, n=40))
        except Exception as e: per[k] = err1(e); continue
        if C.gpu: per[k].update(rule_gpu(C, call))
        if C.gpu and k.startswith('rule: ') and C.a.fused_us: per[k].update(fused_gpu(C, tf, g_u, g_c, st))
    gsum = sum(v['ms'] for k, v in per.items() if k.startswith('seed:') and isinstance(v, dict))
    null = lambda x, t, cond: x  # the loop with a model that costs nothing (returns its input)
    hs = 'host_schedule' in inspect.signature(sample).parameters
    ovh = {}
    for nm, tl, b, kw in (('b1 CFG', cfg75(), 1, {}), ('grid of 10', exps(C.steps), 10, {}),
                          *((('grid of 10, host_schedule', exps(C.steps), 10, dict(host_schedule=True)),) if hs else ())):
        xs = init_latents(C.lat_shape, [0] * b, C.dtype, C.dev); cs = C.emb.expand(b, -1, -1).to(C.dtype)
        sch = copy.deepcopy(C.sd.scheduler)
        run = lambda: sample(null, sch, xs, cs, C.emb[:1].to(C.dtype), tl, C.steps, progress=False, **kw)
        ovh[nm] = timed(run, C.dev, 3)['s'] / C.steps * 1e3
    g = C.R.extra.setdefault('guidance', {})
    g.update(shape=str(tuple(gx.shape)), dtype=str(C.dtype).replace('torch.', ''), unet_b2_ms=ub2, per_tfm=per,
             grid_sum_ms=gsum, loop_overhead=ovh)
    if ums.get('eager b20'): g.update(unet_b20_ms=ums['eager b20'], grid_pct=100 * gsum / ums['eager b20'])
    C.R.save(); log('guidance', json.dumps(g, default=str)[:1500])

def sec_compile(C):
    "torch.compile(unet): ours b1 and grid, diffusers' pipeline b1 and b10 on the same compiled module."
    cu = comp(C, 'default'); cs = C.R.extra['compile_s']
    sdc, pc = with_unet(C.sd, cu), make_pipe(C.sd, AsDiffusersUNet(cu, C.sd.unet))
    dnote = 'pipe.unet = the same torch.compile(unet, dynamic=False) module as ours'
    unet_ms(C, 'compiled', cu, 2)
    row(C, 'ours b1 (CFG 7.5), torch.compile', 1, lambda s: ours(sdc, cfg75(), s, C.size), f"compile {cs.get('default b2', 0):.0f} s, not timed", cost=(8, 2))
    row(C, 'diffusers pipeline b1, torch.compile', 1, lambda s: diffusers_run(pc, 1, s, C.size, C.lat1), dnote, cost=(50, 2))
    ref = diffusers_run(pc, 1, C.csteps, C.size, C.lat1, output_type='latent')
    check(C, 'compiled: ours == diffusers pipeline, CFG 7.5', ours(sdc, cfg75(), C.csteps, C.size, latents=C.lat1)[1], ref)
    comp(C, 'default', ('grid',))
    unet_ms(C, 'compiled', cu, 20)
    row(C, 'ours grid of 10, torch.compile', 10, lambda s: ours(sdc, exps(s), s, C.size), f"compile {cs.get('default b20', 0):.0f} s, not timed", cost=(12, 2))
    row(C, 'diffusers pipeline b10, torch.compile', 10, lambda s: diffusers_run(pc, 10, s, C.size, C.lat10), dnote, cost=(50, 2))
    C.R.checks['compiled grid == eager grid'] = rel(ours(sdc, exps(C.csteps), C.csteps, C.size, latents=C.lat10)[1], grid_ref(C))

def fp8_linears(u):
    "torchao float8 (dynamic per-tensor scaling) on `u`'s linear layers whose features are multiples of 16 (what the fp8 GEMM takes)."
    from torchao.quantization import quantize_, Float8DynamicActivationFloat8WeightConfig
    quantize_(u, Float8DynamicActivationFloat8WeightConfig(),
              filter_fn=lambda m, fqn: isinstance(m, torch.nn.Linear) and m.in_features % 16 == 0 and m.out_features % 16 == 0)
    return u

def build_unet(C, parts, compiled):
    "A fresh copy of the UNet with the levers `parts` applied: (module, dtype, inductor options)."
    if 'inductor flags' in parts and not compiled: raise Skip('inductor flags need torch.compile (--compile)')
    if 'fp8 (torchao)' in parts:
        if not C.gpu: raise Skip('float8 matmuls need a CUDA GPU (sm89+)')
        try: from torchao.quantization import quantize_, Float8DynamicActivationFloat8WeightConfig
        except ImportError as e: raise Skip(f'torchao: {err1(e)}')
    dt = torch.bfloat16 if 'bf16' in parts else C.dtype
    u = copy.deepcopy(C.unet32).to(C.dev, dt) if dt != C.dtype else copy.deepcopy(C.sd.unet)
    if 'fuse_qkv_projections' in parts: u.fuse_qkv_projections()
    if 'fp8 (torchao)' in parts: fp8_linears(u)
    if 'channels_last' in parts: u = u.to(memory_format=torch.channels_last)
    return u.eval(), dt, INDUCTOR_FLAGS if 'inductor flags' in parts else None

def _lever(C, parts, compiled):
    "Measure the levers `parts`: compile, batch-20 forward, precision after check-steps, the grid. Returns (timing, fields)."
    from torch._dynamo.utils import counters
    # coordinate-descent tuning benchmarks every triton kernel's configs: a compile of minutes, not ~45 s
    need(C, (110 + 130 * ('inductor flags' in parts) if compiled else 25), 150 if compiled else 3)
    u, dt, opts = build_unet(C, parts, compiled)
    g0, tc = counters['stats']['unique_graphs'], time.perf_counter()
    cu = torch.compile(u, dynamic=False, **({'options': opts} if opts else {})) if compiled else u
    sdl = with_unet(C.sd, cu, dt)
    f = lambda s: ours(sdl, exps(s), s, C.size, **C.lkw)
    f(2); sync(C.dev)
    F = dict(compile_s=time.perf_counter() - tc if compiled else None, new_graphs=counters['stats']['unique_graphs'] - g0,
             dtype=str(dt).replace('torch.', ''))
    F['unet_ms_b20'] = per_call_ms(fwd(C, cu, 20, dt), C.dev, n=10 if C.gpu else 3)
    x = ours(sdl, exps(C.csteps), C.csteps, C.size, latents=C.lat10.to(dt), **C.lkw)[1]
    F['rel_l2_vs_fp16'] = rel(x, grid_ref(C))['rel_l2']
    return timed(lambda: f(C.steps), C.dev, C.a.reps, lambda: f(2)), F

def lever_row(C, parts, base, compiled, label=None):
    "Row 'ours grid of 10, <label>': a copy of the fp16 UNet with the levers `parts`; gain over row `base`."
    label = label or (' + '.join(parts) + ('' if compiled else ', eager'))
    name = f'ours grid of 10, {label}'
    try: r, F = _lever(C, parts, compiled)
    except Exception as e: w = why(e)
    else:
        note = ('compiled' + (f' with inductor options {INDUCTOR_FLAGS}' if 'inductor flags' in parts else '') if compiled else 'eager')
        if compiled and not F['new_graphs']: note += '; WARNING: no new graph compiled (a cached graph was reused)'
        o = C.R.add(name, 10, r, note + C.lnote, lever=label, parts=parts, base=base and base['name'],
                    gain=base['s'] / r['s'] if base else None, **F)
        free(); return o
    C.R.skip(name, w, lever=label); free(); return None

def sec_levers(C):
    "UNet levers each alone on a copy of the fp16 UNet, then the ones that paid, together."
    tag = ', share_first=False' if C.lkw else ''
    grid_ref(C)
    ebase = grid_row(C, 'ours grid of 10 experiments' + tag, C.sd.unet, 'eager baseline of the levers' + C.lnote,
                     gen=C.lkw, lever='baseline, eager')
    base = ebase
    if C.do_compile:
        cu = comp(C, 'default', ('grid',))
        base = grid_row(C, 'ours grid of 10, torch.compile' + tag, cu, 'compiled baseline of the levers' + C.lnote,
                        gen=C.lkw, lever='baseline, compiled')
        if base:
            x = ours(with_unet(C.sd, cu), exps(C.csteps), C.csteps, C.size, latents=C.lat10, **C.lkw)[1]
            base.update(rel_l2_vs_fp16=rel(x, grid_ref(C))['rel_l2'], unet_ms_b20=C.R.extra.get('unet_ms', {}).get('compiled b20'))
            C.R.save()
    pick = {LEVER_KEYS[k] for k in C.a.levers.split(',') if k}
    alone = dict(bf16=lever_row(C, ['bf16'], ebase, False)) if 'bf16' in pick else {}  # eager (cheap): against the eager fp16 grid
    for p in ('fuse_qkv_projections', 'channels_last', 'fp8 (torchao)', 'inductor flags'):  # the longest compile last
        if p not in pick: C.R.skip(f'ours grid of 10, {p}', 'not picked in this run (--levers)', lever=p); continue
        alone[p] = lever_row(C, [p], base, C.do_compile)
    paid = [p for p, o in alone.items() if o and o.get('gain') and o['gain'] > 1]
    log('levers that paid:', {p: round(o['gain'], 3) for p, o in alone.items() if o and o.get('gain')})
    if len(paid) >= 2: lever_row(C, paid, base, C.do_compile, label='all that paid: ' + ' + '.join(paid))
    else: C.R.skip('ours grid of 10, all that paid together', f"{'only ' + paid[0] if paid else 'no lever'} beat its baseline",
                   lever='all that paid together')

def sec_graphs(C):
    "mode='reduce-overhead' (CUDA graphs): ours b1 and grid, diffusers' pipeline b1 on the same module."
    cr = comp(C, 'reduce-overhead')
    sdr = with_unet(C.sd, cr)
    row(C, 'ours b1 (CFG 7.5), compile reduce-overhead', 1, lambda s: ours(sdr, cfg75(), s, C.size), 'CUDA graphs', cost=(6, 2))
    pr = make_pipe(C.sd, AsDiffusersUNet(cr, C.sd.unet))
    row(C, 'diffusers pipeline b1, CUDA graphs', 1, lambda s: diffusers_run(pr, 1, s, C.size, C.lat1),
        "pipe.unet = the same mode='reduce-overhead' module as ours (a new graph generation per call)", cost=(6, 2))
    comp(C, 'reduce-overhead', ('grid',))
    row(C, 'ours grid of 10, compile reduce-overhead', 10, lambda s: ours(sdr, exps(s), s, C.size), 'CUDA graphs', cost=(10, 2))
    C.R.checks['reduce-overhead grid == eager grid'] = rel(ours(sdr, exps(C.csteps), C.csteps, C.size, latents=C.lat10)[1], grid_ref(C))

def in_loop(C, key, label, unet, names, gen=None):
    """Extra time per step of each rule in the real b1 loop over plain CFG 7.5, as % of a CFG step. Warm-up: a full run,
    so every batch shape a rule makes (rules that skip the unconditional half call batch 1) is compiled before timing."""
    gen, reg = gen or {}, registry()
    dm = C.R.extra.setdefault('guidance', {}).setdefault('in_loop', {})[key] = dict(unet=label, rules={}, cfg_runs=[])
    sdv = with_unet(C.sd, unet)
    run = lambda tf_of: timed(lambda: ours(sdv, tf_of(C.steps), C.steps, C.size, **gen), C.dev, C.a.reps)
    def base():
        dm['cfg_runs'] += run(lambda s: cfg75())['runs']
        dm['cfg_s'] = statistics.median(dm['cfg_runs']); dm['step_ms'] = dm['cfg_s'] / C.steps * 1e3
        for v in dm['rules'].values():
            if isinstance(v, dict): v.update(delta_ms_per_step=(v['s'] - dm['cfg_s']) / C.steps * 1e3, pct=100 * (v['s'] - dm['cfg_s']) / dm['cfg_s'])
    try: need(C, 20, 2); base()
    except Exception as e: dm['skipped'] = why(e); C.R.save(); return
    log(f"in-loop {key}: CFG {dm['cfg_s']:.3f} s")
    for k in names:
        try: need(C, (C.a.reps + 1) * dm['cfg_s'] * 1.3 + 50, 2)  # + room for one new shape's compile in a warm-up
        except Skip as e: dm['skipped'] = f'{e}; {len(dm["rules"])} of {len(names)} rules done'; break
        try: r = run(lambda s, e=reg[k]: make_rule(e, s))
        except Exception as e: dm['rules'][k] = err1(e)
        else:
            dm['rules'][k] = dict(s=r['s'], runs=r['runs'], pct=100 * (r['s'] - dm['cfg_s']) / dm['cfg_s'],
                                  delta_ms_per_step=(r['s'] - dm['cfg_s']) / C.steps * 1e3)
            log(f"in-loop {key} {k}: {r['s']:.3f} s, {dm['rules'][k]['pct']:+.2f} % of a step")
        C.R.save()
    try: need(C, 10, 2); base()  # CFG again at the end: drift over the rules shows in cfg_runs, the median absorbs it
    except Exception: pass
    C.R.save()

def sec_rules(C):
    "What each registry rule costs in the loop: compiled and CUDA graphs (every rule), eager (the named ones), fused."
    names = []
    for k, e in registry().items():
        try:
            if make_rule(e, C.steps).uncond != 'weak': names.append(k)
        except Exception: pass
    named = [k for k in NAMED_RULES if k in names]
    # --rule-modes: which loops, and 'mode:named' for the rules the issue names only (each full run costs device time)
    modes = dict((m.split(':') + ['all'])[:2] for m in C.a.rule_modes.split(',') if m)
    which = lambda m: names if modes.get(m) == 'all' or not C.gpu else named
    il, best = C.R.extra.setdefault('guidance', {}).setdefault('in_loop', {}), ('eager', C.sd.unet)
    for key, mode, m in (('CUDA graphs', 'reduce-overhead', 'graphs'), ('compiled', 'default', 'compiled')):
        if m not in modes: il[key] = dict(skipped='not picked in this run (--rule-modes)'); continue
        try: u = comp(C, mode)  # batch 2 only: the b1 loop's shape
        except Exception as e: il[key] = dict(skipped=why(e)); continue
        in_loop(C, key, key, u, which(m))
        if best[0] == 'eager': best = (key, u)
    if 'eager' in modes: in_loop(C, 'eager', 'eager', C.sd.unet, which('eager'))
    if 'fused' not in modes: il['fused'] = dict(skipped='not picked in this run (--rule-modes)')
    elif lib_has('fuse'): in_loop(C, 'fused', best[0], best[1], which('fused'), gen=dict(fuse=True))
    else: il['fused'] = dict(unet=best[0], skipped=NOT_IN)

def sec_loop(C):
    "The loop's levers on the grid: share_first=False, host_schedule=True, fuse=True; eager, compiled, CUDA graphs."
    have = {k: lib_has(k) for k in ('share_first', 'host_schedule', 'fuse')}
    for k, h in have.items():
        if not h: C.R.skip(f'ours grid of 10, {k}', NOT_IN, loop_lever=k)
    if not any(have.values()): return
    V = [('eager', 'ours grid of 10 experiments', C.sd.unet)]
    try: V.append(('torch.compile', 'ours grid of 10, torch.compile', comp(C, 'default', ('b1', 'grid'))))
    except Skip as e: log(f'loop levers: no compiled rows ({e})')
    if ('reduce-overhead', 'grid') in C.warm:
        V.append(('CUDA graphs', 'ours grid of 10, compile reduce-overhead', C.comp['reduce-overhead']))
    for v, base, u in V: grid_row(C, base, u, f'{v}; the loop levers\' baseline')
    levers = (('share_first=False', dict(share_first=False), ('eager', 'torch.compile')),
              ('host_schedule=True', dict(host_schedule=True), ('eager', 'torch.compile', 'CUDA graphs')),
              ('fuse=True', dict(fuse=True), ('torch.compile',) if len(V) > 1 else ('eager',)))
    for lab, kw, vs in levers:
        if not have[next(iter(kw))]: continue
        for v, base, u in V:
            if v in vs: grid_row(C, f'{base}, {lab}', u, f'{v}; loop lever {lab}', gen=kw, cost=(40, 3),
                                 warm=C.steps if 'fuse' in kw else 2,  # the fused rules compile per run length: warm at full length
                                 loop_lever=lab, variant=v, base=base)

class StaticBatch:
    """A UNet compiled for one batch (dynamic=False) that only ever sees that batch: a call at any other batch runs the
    eager module instead (counted in `eager_calls`), so whatever the loop does, it never starts a new compile."""
    def __init__(self, fn, base, batch): self.fn, self.base, self.batch, self.eager_calls = fn, base, batch, Counter()
    def __getattr__(self, k): return getattr(self.__dict__['base'], k)
    def __call__(self, x, *a, **k):
        if x.shape[0] == self.batch: return self.fn(x, *a, **k)
        self.eager_calls[x.shape[0]] += 1
        return self.base(x, *a, **k)

SWEEP_CHUNK = 10  # rows per chunk: UNet batch 20, the shape the grid's static compile (comp's 'grid') already has

def sec_sweep(C):
    """16 prompts x the ten experiments (160 rows) in fixed chunks of 10 rows (UNet batch 20), against the UNet rate at
    that batch. Compiled only by reusing the grid's static-shape compile (`comp(C, 'default', ('grid',))`: batch 20, no
    new shape), else eager; never a dynamic-shape compile (two GPU calls hung > 7 min in torch.compile(dynamic=True)).
    Then, if the budget allows, max_rows='auto' with the eager UNet."""
    from torch._dynamo.utils import counters
    P, k = SWEEP_PROMPTS, SWEEP_CHUNK; n, kb = 10 * len(P), 2 * SWEEP_CHUNK
    prompts = [p for _ in range(10) for p in P]
    tfs = lambda s: [tf for tf in exps(s) for _ in P]  # rows of one rule contiguous: slices, no index tensors
    u, cu, lab, was_warm = C.sd.unet, None, 'eager', ('default', 'grid') in C.warm
    if not C.do_compile: log('sweep: eager UNet (torch.compile off)')
    elif ('default', 'grid') not in C.warm and C.left() < 80 + 150 + 30:  # the grid's compile, the sweep, the rate
        log(f'sweep: eager UNet ({C.left():.0f} s of budget left: no room to compile the grid shape first)')
    else:
        try: cu = comp(C, 'default', ('grid',))
        except Skip as e: log(f'sweep: eager UNet ({e})')
        else: u, lab = StaticBatch(cu, C.sd.unet, kb), f"compiled (static batch {kb}, the grid's compile)"
    rec = Recorder(u, C.sd.unet); sdv = with_unet(C.sd, rec)
    if lib_has('max_rows'):
        how = f'generate(..., max_rows={k})'
        fn = lambda s: ours(sdv, tfs(s), s, C.size, prompts=prompts, max_rows=k)
    else:
        how = f'generate on chunks of {k} rows (max_rows {NOT_IN})'
        fn = lambda s: [ours(sdv, tfs(s)[i:i + k], s, C.size, prompts=prompts[i:i + k]) for i in range(0, n, k)]
    sw = C.R.extra['sweep'] = dict(rows=n, how=how, unet=lab, chunking=f'{n // k} fixed chunks of {k} rows (UNet batch {kb})')
    if cu is not None:
        sw['compile'] = ("torch.compile(unet, dynamic=False) at batch 20 (comp's 'grid' shape), " +
                         ('already compiled by an earlier section' if was_warm else
                          f"compiled here in {C.R.extra.get('compile_s', {}).get('default b20', 0):.0f} s"))
    name, g0 = f'sweep: {len(P)} prompts x 10 experiments ({n} rows)', counters['stats']['unique_graphs']
    r = row(C, name, n, fn, f'{how}, {lab} UNet', reps=1, cost=(150, 10))
    if r and r.get('run') == C.R.meta['run_id']:
        sw.update(s=r['s'], images_per_s=n / r['s'], chunk_rows=max(rec.batches) // 2, batches=sorted(rec.batches), peak_gib=r['peak_gib'])
    else: sw['skipped'] = next((o.get('skipped') for o in C.R.rows if o['name'] == name), '?')
    if cu is not None: sw['eager_calls'] = dict(u.eager_calls)  # batches the static compile did not cover: {} expected
    C.R.save()
    src = 'eager'
    ms = per_call_ms(fwd(C, C.sd.unet, kb), C.dev, n=5)
    if cu is not None:
        try: need(C, 20, 30); ms, src = per_call_ms(fwd(C, cu, kb), C.dev, n=5), 'compiled'
        except Skip as e: log(f'sweep: compiled batch-{kb} rate not measured ({e})')
    sw.update(unet_rate=k / (ms * C.steps / 1e3), unet_rate_from=f'{src} batch-{kb} forward {ms:.1f} ms x {C.steps} steps = {k} images')
    if sw.get('images_per_s'): sw['vs_unet_rate'] = sw['images_per_s'] / sw['unet_rate']
    if cu is not None: sw['new_graphs'] = counters['stats']['unique_graphs'] - g0  # 0: nothing compiled in this section
    C.R.save()
    # the same rows, chunked by max_rows='auto' (chunk size from free memory), eager: chunk shapes vary, so no compile
    aname = f'sweep: {len(P)} prompts x 10 experiments ({n} rows), max_rows=auto, eager'
    if not lib_has('max_rows'): C.R.skip(aname, NOT_IN); return
    ra = Recorder(C.sd.unet, C.sd.unet); sda = with_unet(C.sd, ra)
    r = row(C, aname, n, lambda s: ours(sda, tfs(s), s, C.size, prompts=prompts, max_rows='auto'),
            "generate(..., max_rows='auto'), eager UNet", reps=1, cost=(150, 10))
    sw['auto_eager'] = (dict(s=r['s'], images_per_s=n / r['s'], chunk_rows=max(ra.batches) // 2, batches=sorted(ra.batches),
                             peak_gib=r['peak_gib']) if r and r.get('run') == C.R.meta['run_id'] else
                        dict(skipped=next((o.get('skipped') for o in C.R.rows if o['name'] == aname), '?')))
    C.R.save()

def sec_profile(C):
    "torch.profiler over 3 steps of the eager and the compiled grid."
    P, texts = C.R.extra.setdefault('profile', {}), []
    for label, get in (('eager grid', lambda: C.sd), ('compiled grid', lambda: with_unet(C.sd, comp(C, 'default', ('b1', 'grid'))))):
        try: need(C, 30, 5); P[label], txt = profile_grid(C, label, get())
        except Exception as e: P[label] = dict(skipped=why(e)); log(f'profile {label}: {why(e)}'); continue
        texts.append(txt); (C.R.out / f"profile_{C.R.meta['card']}.txt").write_text('\n'.join(texts)); C.R.save()
    e = P.get('eager grid', {})
    if e.get('sync_like_calls') is not None:
        C.R.extra['profile_summary'] = (f"{e['steps']} steps of the eager grid: sync-like calls " +
            ', '.join(f'{k}: {v}' for k, v in e['sync_like_calls'].items()) + f". Full tables in profile_{C.R.meta['card']}.txt.")

def sec_options(C):
    "Eager options on the grid: channels_last, cudnn.benchmark, timesteps kept on the CPU."
    fng = lambda s: ours(C.sd, exps(s), s, C.size)
    C.sd.unet.to(memory_format=torch.channels_last)
    try: row(C, 'ours grid, channels_last', 10, fng, 'option: channels_last UNet, eager', reps=2)
    finally: C.sd.unet.to(memory_format=torch.contiguous_format)
    torch.backends.cudnn.benchmark = True
    try: row(C, 'ours grid, cudnn.benchmark', 10, fng, 'option: cudnn autotuning', reps=2)
    finally: torch.backends.cudnn.benchmark = False
    sdt = with_unet(C.sd, TimestepToDevice(C.sd.unet)); sdt.scheduler = CPUTimesteps(sdt.scheduler)
    row(C, 'ours grid, timesteps on CPU', 10, lambda s: ours(sdt, exps(s), s, C.size), 'what-if: no per-step GPU sync from float(t)', reps=2)

def sec_seed(C):
    "The seed-style loop (attention slicing, one experiment at a time), and our grid with slicing."
    unet_sl = copy.deepcopy(C.sd.unet); unet_sl.set_attention_slice(unet_sl.config.attention_head_dim // 2)
    fs = lambda s, n=10: seed_style(C.sd, unet_sl, exps(s)[:n], s, C.lat1)
    row(C, 'seed-style loop, 10 experiments in turn', 10, fs, 'attention slicing (head_dim//2), batch 2 per experiment, '
        'decode to PIL; ratio vs diffusers b1', reps=1, warm=1, cost=(60, 10), ref_batch=1)
    fsg = lambda s: ours(with_unet(C.sd, unet_sl), exps(s), s, C.size)
    row(C, 'ours grid, attention slicing', 10, fsg, 'option: slicing instead of SDPA', reps=2 if C.gpu else C.a.reps, cost=(40, 5))

def sec_chunks(C):
    "A 40-row sweep (the grid x 4 seeds) in chunks of 10, 20 and 40 rows, eager."
    seeds40 = list(range(1000, 1040))
    for chunk in (10, 20, 40):
        def fc(s, chunk=chunk):
            tf = exps(s) * 4
            return [ours(C.sd, tf[i:i + chunk], s, C.size, seeds=seeds40[i:i + chunk]) for i in range(0, 40, chunk)]
        row(C, f'sweep of 40 rows in chunks of {chunk}', 40, fc, f'eager, {40 // chunk} batches of {chunk}', reps=1, cost=(25, 5))

def sec_autotune(C):
    "mode='max-autotune-no-cudagraphs' on the grid (a long compile)."
    if not C.do_compile: raise Skip('torch.compile off (--compile)')
    need(C, 200, 200)
    tc = time.perf_counter()
    sda = with_unet(C.sd, torch.compile(C.sd.unet, mode='max-autotune-no-cudagraphs', dynamic=False))
    fa = lambda s: ours(sda, exps(s), s, C.size)
    fa(2); C.R.extra.setdefault('compile_s', {})['max-autotune b20'] = time.perf_counter() - tc
    row(C, 'ours grid of 10, max-autotune-no-cudagraphs', 10, fa, 'autotuned kernels', cost=(15, 3))

# (name, function, runs only on a GPU or with --all-sections); most important first: the budget cuts the tail
SECTIONS = (('checks', sec_checks, False), ('unet', sec_unet, False), ('eager', sec_eager, False),
            ('guidance', sec_guidance, False), ('compile', sec_compile, False), ('levers', sec_levers, True),
            ('graphs', sec_graphs, False), ('rules', sec_rules, True), ('loop', sec_loop, True), ('sweep', sec_sweep, True),
            ('profile', sec_profile, False), ('options', sec_options, True), ('seed', sec_seed, False),
            ('chunks', sec_chunks, False), ('autotune', sec_autotune, False))

def run_section(C, name, fn):
    "Run one section: timestamps in the log; a skip or an error is recorded as a row and the run goes on."
    C.R.section, t = name, time.perf_counter()
    log(f"==== {name} at {datetime.datetime.now(datetime.timezone.utc):%H:%M:%S} UTC, {C.left():.0f} s of budget left")
    try: fn(C); st = 'ok'; C.R.drop(f'section {name}')  # an earlier run's failure of this section is stale now
    except Exception as e:
        st = ('skipped: ' if isinstance(e, Skip) else 'error: ') + why(e)
        if not isinstance(e, Skip): import traceback; traceback.print_exc(limit=6)
        C.R.skip(f'section {name}', why(e))
    free()
    C.R.extra.setdefault('sections', {})[name] = dict(s=round(time.perf_counter() - t, 1), status=st, end_s=round(elapsed(), 1))
    log(f'==== {name} {st} ({time.perf_counter() - t:.1f} s)'); C.R.save()

# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True, help='folder for speed_<card>.json/.md and profile_<card>.txt')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--steps', type=int, default=None, help='denoising steps (default 50 on GPU, 10 on CPU)')
    ap.add_argument('--size', type=int, default=None, help='pixels (default 512 on GPU, 64 on CPU)')
    ap.add_argument('--check-steps', type=int, default=None, help='steps of the correctness checks (default 10 GPU, steps CPU)')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--budget', type=float, default=540, help='seconds from start: what would run past this is skipped')
    ap.add_argument('--sections', default='all', help='comma list of sections to run (all: ' + ','.join(s[0] for s in SECTIONS[:-1]) + '; autotune with --autotune)')
    ap.add_argument('--levers', default='bf16,qkv,cl,fp8,flags', help='UNet levers to try: ' + ','.join(LEVER_KEYS))
    ap.add_argument('--rule-modes', default='graphs:all,compiled:all,eager:named,fused:named',
                    help="in-loop rule cost: loops among graphs,compiled,eager,fused; ':named' = the issue's five rules only")
    ap.add_argument('--fused-us', action='store_true', help='guidance: also each rule compiled as the fused loop runs it (GPU)')
    ap.add_argument('--merge', default=None, help="an earlier speed_<card>.json to start from: its rows stay unless re-measured")
    ap.add_argument('--compile', default='auto', choices=['auto', 'yes', 'no'], help='torch.compile variants (auto: GPU only)')
    ap.add_argument('--reduce-overhead', default='auto', choices=['auto', 'yes', 'no'], help="mode='reduce-overhead' (CUDA graphs)")
    ap.add_argument('--autotune', action='store_true', help="also mode='max-autotune-no-cudagraphs' (long compile)")
    ap.add_argument('--all-sections', action='store_true', help='run the GPU-only sections on any device (testing)')
    a = ap.parse_args()
    names = [s[0] for s in SECTIONS]
    sel = set(names[:-1] + (['autotune'] if a.autotune else [])) if a.sections == 'all' else set(a.sections.split(','))
    if sel - set(names): ap.error(f"unknown sections {sorted(sel - set(names))}; choose from {','.join(names)}")
    C = setup(a)
    for name, fn, gpu_only in SECTIONS:
        if name not in sel: continue
        if gpu_only and not C.full:
            C.R.extra.setdefault('sections', {})[name] = dict(status='not run: a GPU section (--all-sections runs it here)')
            continue
        run_section(C, name, fn)
    C.R.section = None; C.R.meta['wall_s'] = elapsed(); C.R.save()
    print('\n' + (C.R.out / f"speed_{C.R.meta['card']}.md").read_text(), flush=True)

def setup(a):
    "Models, latents, pipeline, meta data and the results file: what every section shares."
    import diffusers, transformers
    from cfg_guidance.generate import init_latents, text_embeddings
    dev = torch.device(a.device); gpu = dev.type == 'cuda'
    steps, size = a.steps or (50 if gpu else 10), a.size or (512 if gpu else 64)
    dtype = torch.float16 if gpu else torch.float32
    do_compile = a.compile == 'yes' or (a.compile == 'auto' and gpu)
    C = SimpleNamespace(a=a, dev=dev, gpu=gpu, full=gpu or a.all_sections, steps=steps, size=size, dtype=dtype,
                        csteps=a.check_steps or (10 if gpu else steps), do_compile=do_compile, tol=1e-2 if gpu else 1e-4,
                        do_ro=do_compile and (a.reduce_overhead == 'yes' or (a.reduce_overhead == 'auto' and gpu)),
                        left=lambda: a.budget - elapsed(), comp={}, warm=set(), xg=None)
    torch.set_grad_enabled(False)
    import torch._dynamo as dynamo
    for k in ('cache_size_limit', 'recompile_limit'):
        if hasattr(dynamo.config, k): setattr(dynamo.config, k, 64)
    # levers and loop rows run the grid with share_first=False: step 0 at batch 20 too, one compiled shape per lever
    C.lkw = dict(share_first=False) if lib_has('share_first') else {}
    C.lnote = '; share_first=False' if C.lkw else ''
    C.sd, C.unet32, model_desc = build_models(dev, dtype, size)
    f = 2 ** (len(C.sd.vae.config.block_out_channels) - 1); h = size // f
    C.lat_shape = (C.sd.unet.config.in_channels, h, h)
    now = datetime.datetime.now(datetime.timezone.utc)
    meta = dict(card=card_name(dev), device_name=torch.cuda.get_device_name(dev) if gpu else f'CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)',
                date=now.strftime('%Y-%m-%d %H:%M UTC'), run_id=now.strftime('%Y-%m-%dT%H:%M:%S.%f'),
                torch=torch.__version__, diffusers=diffusers.__version__, transformers=transformers.__version__,
                python=platform.python_version(), cuda=torch.version.cuda if gpu else None, model=model_desc,
                steps=steps, size=size, dtype=str(dtype).replace('torch.', ''), check_steps=C.csteps, reps=a.reps,
                scheduler='LMSDiscreteScheduler', compile=do_compile, budget_s=a.budget, sections=a.sections,
                loop_kwargs={k: lib_has(k) for k in LOOP_KW},
                cpu_note=None if gpu else 'CPU run: tiny model, fewer steps; checks plumbing and Python overhead, not GPU speed')
    meta['unet_flops_b2'] = unet_flops(C.sd.unet, 2, h)
    meta['unet_flops_image'] = meta['unet_flops_b2'] * steps
    meta['vae_flops_image'] = vae_decode_flops(C.sd.vae, h)
    if gpu: meta['floor_s_per_image'], meta['peak_note'] = meta['unet_flops_image'] / PEAK_FLOPS, PEAK_NOTE
    C.R = Results(a.out, meta, a.merge)
    log(f"{meta['device_name']} torch {torch.__version__} diffusers {diffusers.__version__}; {model_desc}; "
        f"UNet b2 {meta['unet_flops_b2'] / 1e9:.1f} GFLOP; generate's loop levers {meta['loop_kwargs']}")
    C.lat1 = init_latents(C.lat_shape, [1024], dtype, dev)
    C.lat10 = C.lat1.expand(10, *C.lat_shape).contiguous()
    C.pipe = make_pipe(C.sd)
    C.emb = text_embeddings(C.sd, [PROMPT])
    return C

if __name__ == '__main__': main()

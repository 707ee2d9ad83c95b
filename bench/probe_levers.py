"""A GPU probe run before bench/speed.py's levers section: the loop's host_schedule on every scheduler (tiny SD, equal
latents), fuse=True with inductor on the tiny SD, and the SD v1 UNet's compiled batch-20 forward under each lever
(plain compile, fuse_qkv_projections, channels_last, diffusers' inductor flags, fp8 through torchao, all together).
Its H200 result (2026-12-01) is bench/results/probe_levers_h200.json; the call's 560 s ran out during the inductor-flags
compile (coordinate-descent tuning), so fp8 and the rule section did not run here.

    python3 bench/probe_levers.py        # on the device machine, with OUT set; carry .whl (diffusers, fastcore, torchao)
"""
import copy, json, os, sys, time, statistics, traceback
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
torch.set_grad_enabled(False)
OUT = os.environ.get('OUT', '/tmp/out'); R = {}
T0 = time.time()
def log(*a): print(f'[{time.time()-T0:6.1f}s]', *a, flush=True)
def save(): open(f'{OUT}/probe.json', 'w').write(json.dumps(R, indent=1, default=str))
dev = torch.device('cuda')
R['card'] = torch.cuda.get_device_name(); R['torch'] = torch.__version__; R['date'] = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
import torch._dynamo as dynamo
for k in ('cache_size_limit', 'recompile_limit'):
    if hasattr(dynamo.config, k): setattr(dynamo.config, k, 64)
R['specialize_float'] = getattr(dynamo.config, 'specialize_float', None)
def sync(): torch.cuda.synchronize()
def ms(fn, n=10, blocks=3, warm=2):
    for _ in range(warm): fn()
    ts = []
    for _ in range(blocks):
        sync(); t = time.perf_counter()
        for _ in range(n): fn()
        sync(); ts.append((time.perf_counter() - t) / n * 1e3)
    return statistics.median(ts)
def section(name):
    def deco(f):
        try: log('==', name); f(); log('== done', name)
        except Exception as e: R.setdefault('errors', {})[name] = f'{type(e).__name__}: {e}'[:400]; traceback.print_exc()
        save()
    return deco

from cfg_guidance.tiny import tiny_sd_path
from cfg_guidance.load import load_sd, SCHEDULERS
from cfg_guidance.generate import generate, sample
from cfg_guidance.experiments import seed_experiments
from cfg_guidance.transforms import GUIDANCE, Step
import cfg_guidance.guiders

@section('host_schedule on GPU, every scheduler')
def _():
    out = {}
    for name in SCHEDULERS:
        try:
            sd = load_sd(tiny_sd_path(), dtype=torch.float32, device='cuda', scheduler=name)
            tf = list(seed_experiments(6).values())[:4]
            a = generate(sd, 'a horse', tf, steps=6, size=64, progress=False, seeds=[1, 2, 3, 4])[1]
            b = generate(sd, 'a horse', tf, steps=6, size=64, progress=False, seeds=[1, 2, 3, 4], host_schedule=True)[1]
            out[name] = float((a - b).norm() / b.norm())
        except Exception as e: out[name] = f'{type(e).__name__}: {e}'[:200]
    R['host_schedule_rel'] = out; log(out)

@section('fuse on GPU (inductor), tiny SD')
def _():
    sd = load_sd(tiny_sd_path(), dtype=torch.float16, device='cuda', scheduler='lms')
    steps = 10
    rules = list(seed_experiments(steps).values()) + [GUIDANCE[k].make(3., steps) for k in GUIDANCE if GUIDANCE[k].make(3., steps).uncond != 'weak']
    n = len(rules)
    a = generate(sd, 'a horse', rules, steps=steps, size=64, progress=False)[1]
    graphs = []
    from torch._dynamo.utils import counters
    counters.clear()
    t = time.time(); b = generate(sd, 'a horse', rules, steps=steps, size=64, progress=False, fuse=True)[1]; tc = time.time() - t
    t = time.time(); b2 = generate(sd, 'a horse', rules, steps=steps, size=64, progress=False, fuse=True)[1]; sync(); t2 = time.time() - t
    t = time.time(); a2 = generate(sd, 'a horse', rules, steps=steps, size=64, progress=False)[1]; sync(); t3 = time.time() - t
    R['fuse'] = dict(rows=n, first_run_s=tc, second_run_s=t2, unfused_s=t3, rel=float((a - b).float().norm() / a.float().norm()),
                     counters={k: dict(v) for k, v in counters.items() if k in ('stats', 'graph_break', 'recompiles')})
    log(R['fuse'])

# SD v1 shapes
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from speed import SD_V1_UNET  # the same SD v1 shapes as the speed benchmark
from diffusers import UNet2DConditionModel
with torch.device(dev):
    torch.manual_seed(0); base = UNet2DConditionModel(**SD_V1_UNET).half().eval()
x20 = torch.randn(20, 4, 64, 64, device=dev, dtype=torch.float16); e20 = torch.randn(20, 77, 768, device=dev, dtype=torch.float16)
t500 = torch.tensor(500., device=dev)
ref = base(x20, t500, encoder_hidden_states=e20).sample.float()
U = R.setdefault('unet_b20_ms', {})
def lever(name, make, cfg=None):
    @section(f'lever {name}')
    def _():
        import torch._inductor.config as ic
        old = {k: getattr(ic, k) for k in (cfg or {})}
        for k, v in (cfg or {}).items(): setattr(ic, k, v)
        try:
            dynamo.reset()
            m = make(); t = time.time()
            xx = x20.to(memory_format=torch.channels_last) if 'cl' in name else x20
            f = torch.compile(m, dynamic=False)
            y = f(xx, t500, encoder_hidden_states=e20).sample; sync(); comp = time.time() - t
            U[name] = dict(ms=ms(lambda: f(xx, t500, encoder_hidden_states=e20)), compile_s=comp,
                           rel_l2_vs_fp16_eager=float((y.float() - ref).norm() / ref.norm()))
            log(name, U[name]); del f, m; torch.cuda.empty_cache()
        finally:
            for k, v in old.items(): setattr(ic, k, v)
U['eager'] = dict(ms=ms(lambda: base(x20, t500, encoder_hidden_states=e20)))
log('eager', U['eager'])
def fused_qkv():
    m = copy.deepcopy(base); m.fuse_qkv_projections(); return m
def cl():
    return copy.deepcopy(base).to(memory_format=torch.channels_last)
def fp8():
    from torchao.quantization import quantize_, Float8DynamicActivationFloat8WeightConfig
    m = copy.deepcopy(base)
    quantize_(m, Float8DynamicActivationFloat8WeightConfig(), filter_fn=lambda mod, fqn: isinstance(mod, torch.nn.Linear) and mod.in_features % 16 == 0 and mod.out_features % 16 == 0)
    return m
FLAGS = dict(conv_1x1_as_mm=True, coordinate_descent_tuning=True, epilogue_fusion=False, coordinate_descent_check_all_directions=True)
lever('compile', lambda: base)
lever('fuse_qkv', fused_qkv)
lever('cl', cl)
lever('inductor_flags', lambda: base, FLAGS)
lever('fp8', fp8)
lever('all_cl_fp8_qkv_flags', lambda: (lambda m: (m.fuse_qkv_projections(), m)[1])(fp8()).to(memory_format=torch.channels_last), FLAGS)

@section('rule GPU cost via CUDA graph replay, (1,4,64,64) fp16')
def _():
    g = torch.Generator(device='cuda').manual_seed(0)
    u = torch.randn(1, 4, 64, 64, device=dev, dtype=torch.float16, generator=g); c = u + 0.1 * torch.randn_like(u)
    st = Step(i=25, n=50, t=500., sigma=1.0, alpha_bar=0.5, x=torch.randn_like(u))
    out = {}
    for k, e in GUIDANCE.items():
        rule = e.make(e.grid[3], 50, **e.tune[0])
        if rule.uncond == 'weak': continue
        try:
            state = None
            for _ in range(3): p, state = rule(u, c, st, state)
            s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(2): rule(u, c, st, state)
            torch.cuda.current_stream().wait_stream(s)
            gr = torch.cuda.CUDAGraph()
            with torch.cuda.graph(gr):
                for _ in range(20): p, _s = rule(u, c, st, state)
            gr.replay(); sync()
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record(); [gr.replay() for _ in range(10)]; e1.record(); sync()
            out[k] = dict(gpu_us=e0.elapsed_time(e1) / 200 * 1e3, wall_ms=ms(lambda: rule(u, c, st, state), n=40))
        except Exception as ex: out[k] = f'{type(ex).__name__}: {ex}'[:200]
    R['rule_gpu'] = out; log(out)
save(); log('end')

"""The full guidance benchmark on one GPU: every registered rule, tuned on a held-out seed, on every testbed.

Run on the device machine from the repo root (carry .whl and .carry, see CONTRIBUTING.md):
    python3 bench/run_full.py --out $OUT [--testbeds underfit wellfit flow] [--n 500] [--tune-n 200] [--budget 540]
    python3 bench/run_full.py --out $OUT --jobs 3 --compile --n 300 --tune-n 120 --seeds 3 4 5 --deadline 535
    python3 bench/run_full.py --out $OUT --jobs 3 --n 300 --seeds 3 4 5 --tuning-from DIR   # fresh seeds, DIR's tuning
CPU dry run of the plumbing (minutes):
    python3 bench/run_full.py --out /tmp/dry --device cpu --testbeds flow --methods cfg autoguidance mambo --n 10 --tune-n 10 --steps 2 --n-ref 500

For each testbed, in order, `cfg_guidance.bench.run_bench` tunes every method with more than one setting on seed 100
(`tune_n` samples per tuning run, three strengths per setting), then sweeps every method at its chosen setting over
six strengths and the evaluation seeds (`--seeds`, default 0 1 2; `n` samples per run), scoring every run in every
feature space. Then `bench/rescore.py` re-scores the evaluation runs' samples with an independent judge (a fixed
random conv net's features, FD computed by torchmetrics' own code) as a check on the verdicts.
The sweeps live in --work (samples are too large to bring back); $OUT gets, per testbed, <testbed>.tar.gz with
results.csv, rescore.csv, tuning.json, floor.json, config.json, front.png, samples.png, and timings.json for all.
One after another (--jobs 1): a testbed is only started while the time used is under --budget seconds, and each
testbed's re-scoring runs beside the next testbed's sweep (--no-overlap: after it; its rescore_s then counts from the
end of its own sweep). --jobs K runs K testbeds at once, each in its own process (a small model that cannot fill the
GPU leaves room for the others). At --deadline seconds whatever still runs is stopped, and its folder's rows so far
come back as <testbed>.partial.tar.gz: what is not run or not finished is listed in timings.json.
"""
import argparse, json, os, shutil, signal, subprocess, sys, tarfile, time
from datetime import datetime, timezone
from pathlib import Path

PACKED = ('results.csv', 'rescore.csv', 'tuning.json', 'floor.json', 'config.json', 'timings.json', 'front.png', 'samples.png')

def pack(d:Path, fn:Path, tb:str):
    "Write the files of results folder `d` that come back (no samples) into the tarball `fn`, under `tb/`."
    with tarfile.open(fn, 'w:gz') as t:
        for name in PACKED:
            if (d/name).is_file(): t.add(d/name, arcname=f'{tb}/{name}')

def header(a, card, torch_version)->dict:
    return dict(card=card, date=datetime.now(timezone.utc).isoformat(timespec='seconds'), n=a.n, tune_n=a.tune_n,
                steps=a.steps, seeds=a.seeds, tune_seed=a.tune_seed, tuning_from=a.tuning_from, torch=torch_version, compile=a.compile, jobs=a.jobs, testbeds={}, not_run=[],
                command='python3 bench/run_full.py ' + ' '.join(sys.argv[1:]))

def sequential(a, out:Path, work:Path):
    import torch
    # eager, batch shapes vary with the rows that need u (autotuning each would cost more); compiled, every call is one
    # static chunk, so cuDNN's algorithm search runs once
    torch.backends.cudnn.benchmark = bool(a.compile)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    from cfg_guidance.bench import run_bench
    card = torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'
    tim, t_all, pending = header(a, card, torch.__version__), time.time(), []

    def finish(tb, d, t1, proc, log):  # wait for a testbed's re-scoring, then pack its folder
        proc.wait(); log.close()
        print(Path(log.name).read_text()[-3000:], flush=True)
        tim['testbeds'][tb].update(rescore_s=round(time.time() - t1, 1), rescore_rc=proc.returncode,
                                   rescore_overlapped=a.overlap)
        pack(d, out/f'{tb}.tar.gz', tb)
        print(f'== {tb}: {tim["testbeds"][tb]}', flush=True)
        tim['total_s'] = round(time.time() - t_all, 1)
        (out/'timings.json').write_text(json.dumps(tim, indent=1))

    for tb in a.testbeds:
        if time.time() - t_all > a.budget: tim['not_run'].append(tb); continue
        d, t0 = work/tb, time.time()
        run_bench(out=d, testbed=tb, n=a.n, tune_n=a.tune_n, steps=a.steps, device=a.device, progress=False, seeds=a.seeds,
                  max_batch=a.max_batch, methods=a.methods, n_ref=a.n_ref, compile=a.compile, tune_seed=a.tune_seed,
                  tuned=Path(a.tuning_from)/tb/'tuning.json' if a.tuning_from else None)
        t1 = time.time()
        tim['testbeds'][tb] = dict(sweep_s=round(t1 - t0, 1))
        # the independent re-scoring runs in its own process; with --overlap it runs beside the next testbed's sweep
        log = open(work/f'rescore_{tb}.log', 'w')  # a file, not a pipe: nobody reads while the next sweep runs
        proc = subprocess.Popen([sys.executable, str(Path(__file__).parent/'rescore.py'), str(d), '--device', a.device],
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        pending.append((tb, d, t1, proc, log))
        if not a.overlap: finish(*pending.pop())
    for job in pending: finish(*job)
    tim['total_s'] = round(time.time() - t_all, 1)
    (out/'timings.json').write_text(json.dumps(tim, indent=1))
    print(json.dumps(tim, indent=1))

def concurrent(a, out:Path, work:Path):
    "Run the testbeds `a.jobs` at a time, each as its own `--jobs 1` process; stop them all at `a.deadline`."
    import torch
    card = torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'
    tim, t_all, queue, running = header(a, card, torch.__version__), time.time(), list(a.testbeds), {}
    def child_args(tb):  # the parent's settings, one testbed, one process
        args = ['--testbeds', tb, '--out', str(work/f'_out_{tb}'), '--work', str(work), '--jobs', '1', '--budget', '1e9',
                '--n', str(a.n), '--tune-n', str(a.tune_n), '--steps', str(a.steps), '--seeds', *map(str, a.seeds), '--tune-seed', str(a.tune_seed),
                '--max-batch', str(a.max_batch), '--device', a.device, '--no-overlap']
        if a.methods: args += ['--methods', *a.methods]
        if a.n_ref: args += ['--n-ref', str(a.n_ref)]
        if a.tuning_from: args += ['--tuning-from', a.tuning_from]
        return args + (['--compile'] if a.compile else [])
    while queue or running:
        while queue and len(running) < a.jobs:
            tb = queue.pop(0)
            log = open(out/f'log_{tb}.txt', 'w')
            running[tb] = (subprocess.Popen([sys.executable, __file__, *child_args(tb)], stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True), log, time.time())
        for tb, (p, log, t0) in list(running.items()):
            if p.poll() is None: continue
            log.close(); del running[tb]
            sub = work/f'_out_{tb}'
            rec = json.loads((sub/'timings.json').read_text())['testbeds'].get(tb, {}) if (sub/'timings.json').exists() else {}
            tim['testbeds'][tb] = dict(rec, wall_s=round(time.time() - t0, 1), rc=p.returncode)
            if (sub/f'{tb}.tar.gz').exists(): shutil.copy(sub/f'{tb}.tar.gz', out/f'{tb}.tar.gz')
            else: pack(work/tb, out/f'{tb}.partial.tar.gz', tb)
        if time.time() - t_all > a.deadline:
            for tb, (p, log, t0) in running.items():
                os.killpg(p.pid, signal.SIGTERM); p.wait(); log.close()
                tim['testbeds'][tb] = dict(stopped_at_deadline=True, wall_s=round(time.time() - t0, 1))
                pack(work/tb, out/f'{tb}.partial.tar.gz', tb)
            tim['not_run'] += queue; queue, running = [], {}
        tim['total_s'] = round(time.time() - t_all, 1)
        (out/'timings.json').write_text(json.dumps(tim, indent=1))
        time.sleep(1)
    print(json.dumps(tim, indent=1))

def main(a):
    out, work = Path(a.out), Path(a.work); out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
    if a.jobs < 1: sys.exit(f'run_full.py: --jobs must be >= 1, got {a.jobs}')
    if len(set(a.testbeds)) != len(a.testbeds): sys.exit(f'run_full.py: a testbed is named twice in --testbeds {a.testbeds}')
    (concurrent if a.jobs > 1 else sequential)(a, out, work)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', default='/tmp/bench_work')
    ap.add_argument('--testbeds', nargs='+', default=['underfit', 'wellfit', 'flow'])
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--tune-n', type=int, default=200)
    ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='evaluation seeds')
    ap.add_argument('--tune-seed', type=int, default=100, help='the tuning seed (never an evaluation seed)')
    ap.add_argument('--max-batch', type=int, default=8192)
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--methods', nargs='+', default=None, help='a subset of the registry (default: every method; for dry runs)')
    ap.add_argument('--n-ref', type=int, default=None, help='real test images for FD/KID (default: all 10,000)')
    ap.add_argument('--overlap', action=argparse.BooleanOptionalAction, default=True,
                    help="re-score a testbed while the next one's sweep runs (--no-overlap: one after the other)")
    ap.add_argument('--compile', action='store_true', help='torch.compile the testbed UNets (one static chunk of 2048 rows, channels-last)')
    ap.add_argument('--budget', type=float, default=540, help='one after another: start no new testbed after this many seconds')
    ap.add_argument('--tuning-from', default=None, help="a folder of earlier results (<testbed>/tuning.json): reuse their tuning, don't tune")
    ap.add_argument('--jobs', type=int, default=1, help='testbeds run at once, each in its own process')
    ap.add_argument('--deadline', type=float, default=560, help='with --jobs > 1: stop what still runs after this many seconds')
    main(ap.parse_args())

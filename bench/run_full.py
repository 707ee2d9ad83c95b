"""The full guidance benchmark on one GPU: every registered rule, tuned on a held-out seed, on every testbed.

Run on the device machine from the repo root (carry .whl and .carry, see CONTRIBUTING.md):
    python3 bench/run_full.py --out $OUT [--testbeds underfit wellfit flow] [--n 500] [--tune-n 200] [--budget 540]
CPU dry run of the plumbing (minutes):
    python3 bench/run_full.py --out /tmp/dry --device cpu --testbeds flow --methods cfg autoguidance mambo --n 10 --tune-n 10 --steps 2 --n-ref 500

For each testbed, in order, `cfg_guidance.bench.run_bench` tunes every method with more than one setting on seed 100
(`tune_n` samples per tuning run, three strengths per setting), then sweeps every method at its chosen setting over
six strengths and seeds 0, 1, 2 (`n` samples per run), scoring every run in every feature space. Then
`bench/rescore.py` re-scores the evaluation runs' samples with an independent judge (a fixed random conv net's
features, FD computed by torchmetrics' own code) as a check on the verdicts.
The sweeps live in --work (samples are too large to bring back); $OUT gets, per testbed, <testbed>.tar.gz with
results.csv, rescore.csv, tuning.json, floor.json, config.json, front.png, samples.png, and timings.json for all.
A testbed is only started while the time used is under --budget seconds; what is not run is listed in timings.json.
Each testbed's re-scoring runs beside the next testbed's sweep (--no-overlap: after it); its rescore_s then counts
from the end of its own sweep.
"""
import argparse, json, os, shutil, subprocess, sys, tarfile, time
from datetime import datetime, timezone
from pathlib import Path

def main(a):
    import torch
    torch.backends.cudnn.benchmark = False  # batch shapes vary with the rows that need u: autotuning each would cost more
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    from cfg_guidance.bench import run_bench
    out, work = Path(a.out), Path(a.work); out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
    card = torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'
    tim = dict(card=card, date=datetime.now(timezone.utc).isoformat(timespec='seconds'), n=a.n, tune_n=a.tune_n,
               steps=a.steps, torch=torch.__version__, compile=a.compile, testbeds={}, not_run=[])
    t_all, pending = time.time(), []

    def finish(tb, d, t1, proc, log):  # wait for a testbed's re-scoring, then pack its folder
        proc.wait(); log.close()
        print(Path(log.name).read_text()[-3000:], flush=True)
        tim['testbeds'][tb].update(rescore_s=round(time.time() - t1, 1), rescore_rc=proc.returncode,
                                   rescore_overlapped=a.overlap)
        with tarfile.open(out/f'{tb}.tar.gz', 'w:gz') as t:
            for p in sorted(d.iterdir()):
                if p.is_file() and p.name != '.lock': t.add(p, arcname=f'{tb}/{p.name}')
        print(f'== {tb}: {tim["testbeds"][tb]}', flush=True)
        tim['total_s'] = round(time.time() - t_all, 1)
        (out/'timings.json').write_text(json.dumps(tim, indent=1))

    for tb in a.testbeds:
        if time.time() - t_all > a.budget: tim['not_run'].append(tb); continue
        d, t0 = work/tb, time.time()
        run_bench(out=d, testbed=tb, n=a.n, tune_n=a.tune_n, steps=a.steps, device=a.device, progress=False,
                  max_batch=a.max_batch, methods=a.methods, n_ref=a.n_ref, compile=a.compile)
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

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', default='/tmp/bench_work')
    ap.add_argument('--testbeds', nargs='+', default=['underfit', 'wellfit', 'flow'])
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--tune-n', type=int, default=200)
    ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--max-batch', type=int, default=8192)
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--methods', nargs='+', default=None, help='a subset of the registry (default: every method; for dry runs)')
    ap.add_argument('--n-ref', type=int, default=None, help='real test images for FD/KID (default: all 10,000)')
    ap.add_argument('--overlap', action=argparse.BooleanOptionalAction, default=True,
                    help="re-score a testbed while the next one's sweep runs (--no-overlap: one after the other)")
    ap.add_argument('--compile', action='store_true', help='torch.compile the testbed UNets (dynamic batch, channels-last)')
    ap.add_argument('--budget', type=float, default=540, help='start no new testbed after this many seconds')
    main(ap.parse_args())

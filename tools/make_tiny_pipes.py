"""Rebuild the tiny random-weight pipelines shipped in the package (cfg_guidance/models/tiny-<name>).

Usage: python tools/make_tiny_pipes.py [NAME ...] [--seed 0] [--check]
NAME is any of the keys of cfg_guidance.tiny.TINY (sd, sd2, sdxl, sd3, flux); default: all.
Each folder is deleted and written again, so no stale file survives. The same seed gives the same bytes for the
weights and the tokenizers; the JSON configs also record the installed diffusers/transformers versions.
--check writes to a temporary folder instead and exits 1 if any weights or tokenizer differ from the shipped ones.
"""
import argparse, hashlib, os, shutil, sys, tempfile
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from transformers.utils import logging as tlogging
from diffusers.utils import logging as dlogging
from cfg_guidance.tiny import TINY, build_tiny, save_tiny, save_tiny_sd, tiny_path
tlogging.disable_progress_bar(); dlogging.disable_progress_bar()

def listing(folder):
    "Relative path -> (size, short sha256) for every file under `folder`."
    return {str(f.relative_to(folder)): (f.stat().st_size, hashlib.sha256(f.read_bytes()).hexdigest()[:12])
            for f in sorted(folder.rglob('*')) if f.is_file()}

def pinned(name):
    "Files whose bytes must not depend on library versions: the weights and the tokenizers."
    return name.endswith('.safetensors') or name.startswith('tokenizer')

def write(name, dest, seed):
    "Build the tiny pipeline `name` and save it to `dest`."
    return (save_tiny_sd if name == 'sd' else save_tiny)(dest, build_tiny(name, seed))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('names', nargs='*', help=f'which pipelines (default: all of {", ".join(TINY)})')
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--check', action='store_true')
    a = ap.parse_args()
    bad = [n for n in a.names if n not in TINY]
    if bad: ap.error(f'unknown tiny pipeline(s) {bad}; choose from {list(TINY)}')
    rc, total = 0, 0
    for name in a.names or list(TINY):
        dest = tiny_path(name)
        if a.check:
            with tempfile.TemporaryDirectory() as d:
                new, old = listing(write(name, Path(d)/name, a.seed)), listing(dest) if dest.exists() else {}
            diff = sorted(k for k in new.keys() | old.keys() if k not in new or k not in old or pinned(k) and new[k] != old[k])
            print(f'tiny-{name} is up to date' if not diff else f'tiny-{name} differs from a fresh build: {diff}')
            rc |= bool(diff); continue
        if dest.exists(): shutil.rmtree(dest)
        files = listing(write(name, dest, a.seed))
        size = sum(s for s, _ in files.values()); total += size
        for k, (s, sha) in files.items(): print(f'{s:>10,}  {sha}  tiny-{name}/{k}')
        print(f'{size/2**20:.2f} MiB in {len(files)} files -> {dest}')
    if total: print(f'total {total/2**20:.2f} MiB')
    return rc

if __name__ == '__main__': sys.exit(main())

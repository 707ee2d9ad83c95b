"""Rebuild the tiny random-weight Stable Diffusion folder shipped in the package (cfg_guidance/models/tiny-sd).

Usage: python tools/make_tiny_sd.py [--seed 0] [--check]
The folder is deleted and written again, so no stale file survives. The same seed gives the same bytes for the
weights and the tokenizer; the JSON configs also record the installed diffusers/transformers versions.
--check writes to a temporary folder instead and exits 1 if its weights or tokenizer differ from the shipped ones.
"""
import argparse, hashlib, os, shutil, sys, tempfile
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from transformers.utils import logging as tlogging
from cfg_guidance.tiny import build_tiny_sd, save_tiny_sd, tiny_sd_path
tlogging.disable_progress_bar()

def listing(folder):
    "Relative path -> (size, short sha256) for every file under `folder`."
    return {str(f.relative_to(folder)): (f.stat().st_size, hashlib.sha256(f.read_bytes()).hexdigest()[:12])
            for f in sorted(folder.rglob('*')) if f.is_file()}

def pinned(name):
    "Files whose bytes must not depend on library versions: the weights and the tokenizer."
    return name.endswith('.safetensors') or name.startswith('tokenizer/')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--check', action='store_true')
    a = ap.parse_args()
    dest = tiny_sd_path()
    if a.check:
        with tempfile.TemporaryDirectory() as d:
            new, old = listing(save_tiny_sd(Path(d)/'tiny-sd', build_tiny_sd(a.seed))), listing(dest)
        bad = sorted(k for k in new.keys() | old.keys() if k not in new or k not in old or pinned(k) and new[k] != old[k])
        print('tiny-sd is up to date' if not bad else f'tiny-sd differs from a fresh build: {bad}')
        return 1 if bad else 0
    if dest.exists(): shutil.rmtree(dest)
    save_tiny_sd(dest, build_tiny_sd(a.seed))
    files = listing(dest)
    for k, (size, sha) in files.items(): print(f'{size:>10,}  {sha}  {k}')
    print(f'{sum(s for s, _ in files.values())/2**20:.2f} MiB in {len(files)} files -> {dest}')
    return 0

if __name__ == '__main__': sys.exit(main())

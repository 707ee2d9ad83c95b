"""Execute notebooks top to bottom in a fresh kernel and save their outputs (what the docs show).

Usage: python tools/run_nbs.py nbs/02_transforms.ipynb [...] [--flags "cuda hub slow"]
Cells flagged with a test flag (settings.ini `tst_flags`) are skipped unless named in --flags,
exactly as `nbdev_test` skips them, so saved outputs never come from hand-run cells.
"""
import argparse, os, sys
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from fastcore.foundation import working_directory
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc

def run_nb(fn, flags=()):
    "Run notebook `fn` in a fresh shell, skipping flagged cells not in `flags`; save outputs in place."
    fn = Path(fn).resolve()
    skip = set(get_config().tst_flags.split()) - set(flags)
    nb = read_nb(fn)
    proc = NBProcessor(fn, procs=FrontmatterProc, process=True).nb  # parses directives_
    for cell, pc in zip(nb.cells, proc.cells): cell.directives_ = getattr(pc, 'directives_', {}) or {}
    def _skip(cell):
        if cell.cell_type != 'code': return True
        d = cell.directives_
        if d.get('eval:', [''])[0].lower() == 'false': return True
        if skip & d.keys():
            cell.outputs = []  # never keep stale outputs from a cell that did not run
            return True
        return False
    for c in nb.cells:  # a cell that prints nothing this time must not keep last time's output
        if c.cell_type == 'code': c.outputs = []
    os.environ['IN_TEST'] = '1'
    sh = CaptureShell(fn)
    with working_directory(fn.parent): sh.run_all(nb, exc_stop=True, preproc=_skip)
    for c in nb.cells: c.pop('directives_', None)
    write_nb(nb, fn)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('nbs', nargs='+'); ap.add_argument('--flags', default='')
    a = ap.parse_args()
    for f in a.nbs:
        print(f'running {f}', flush=True)
        run_nb(f, a.flags.split())

"""Check that nbdev's docs build can run every cell it runs: no cell with an import may need a name from a demo cell.

While building the docs, nbdev's `exec_show_docs` runs only the exported cells and every cell whose AST holds an
import (even inside a function or a `try`), skipping the cells in between. Such a cell fails there if it uses a
name that only a skipped cell defines. This replays that selection statically and exits 1 naming each cell that
would fail (CI runs it). Keep imports in the import cells.
"""
import ast, builtins, json, re, sys
from pathlib import Path

def _names(tree):
    "(names loaded, names bound) anywhere in `tree`."
    load, bound = set(), set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name): (load if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): bound.add(n.name)
        elif isinstance(n, ast.arg): bound.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)): bound |= {(a.asname or a.name).split('.')[0] for a in n.names}
        elif isinstance(n, ast.ExceptHandler) and n.name: bound.add(n.name)
    return load, bound

def problems(fn):
    "Cells of notebook `fn` that the docs build runs and that use names only skipped cells define."
    known = set(dir(builtins)) | {'show_doc', 'get_ipython', 'display'}
    for i, c in enumerate(json.loads(Path(fn).read_text())['cells']):
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or re.search(r'^#\|\s*eval:\s*false', src, re.M): continue
        try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        exported = re.search(r'^#\|\s*(export|exports|exporti|exec_doc)\b', src, re.M)
        runs = exported or any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
        if not runs: continue
        load, bound = _names(tree)
        missing = load - bound - known
        if missing and not exported: yield i, sorted(missing)
        known |= bound

if __name__ == '__main__':
    bad = [(f, i, m) for f in sorted(Path('nbs').rglob('*.ipynb')) if not f.name.startswith('_') for i, m in problems(f)]
    for f, i, m in bad: print(f'{f} cell {i}: has an import, so the docs build runs it alone, but it needs {", ".join(m)}')
    sys.exit(1 if bad else 0)

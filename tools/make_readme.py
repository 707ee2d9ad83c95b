"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without Quarto).

nbdev_readme renders index.ipynb to GitHub markdown with Quarto, which cannot be installed offline. nbconvert's
markdown exporter does the same for a notebook whose outputs are text: prose as is, code in ```python fences,
outputs as plain fences. `--check` exits 1 if README.md is not what index.ipynb gives (CI runs it).
"""
import argparse, re, sys
from pathlib import Path
from nbconvert import MarkdownExporter
import nbformat

def readme(nb_path='nbs/index.ipynb')->str:
    "README text from the index notebook: title block as markdown, hidden/directive lines dropped."
    nb = nbformat.read(nb_path, as_version=4)
    nb.metadata['language_info'] = {'name': 'python'}  # fences code as ```python
    for c in nb.cells:
        if c.cell_type == 'code':
            c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|'))
    md, _ = MarkdownExporter().from_notebook_node(nb)
    md = re.sub(r'\n{3,}', '\n\n', md).strip() + '\n'
    md = md.replace('](images/', '](nbs/images/')  # README.md sits at the top, the notebook's images in nbs/
    return '<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook -->\n\n' + md

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='fail if README.md is out of date')
    a = ap.parse_args()
    new, p = readme(), Path('README.md')
    if a.check:
        if p.read_text() != new: sys.exit('README.md is out of date: run python tools/make_readme.py')
        print('README.md is up to date')
    else: p.write_text(new); print('wrote README.md')

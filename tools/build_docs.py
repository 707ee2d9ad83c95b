"""Build the docs site offline: nbdev's processed notebooks -> a static HTML site in `_docs/`, no Quarto, no CDN.

`nbdev_docs` renders with Quarto, which cannot be installed without GitHub. This script keeps nbdev's half of that
pipeline (`proc_nbs`: frontmatter from `# Title` / `> subtitle`, show_doc cells, directives, doc links, written to
`_proc/`) and replaces only Quarto's render with nbconvert's maintained HTML exporter (its JupyterLab cell
template) inside a small page template (`docs_assets/nbconvert/site/`). The glue below is what Quarto does and
nbconvert does not: cell options (`#| echo/output/include/code-fold`), pandoc's fenced divs and link attributes,
the title block, pandoc's heading ids, `.ipynb` and absolute doc links made relative, the sidebar (from
`nbs/sidebar.yml`, written from the notebooks present), the table of contents, previous/next links in sidebar order,
and search (an index of every page's title, headings and text in `search-index.js`, filtered in the browser by
docs_assets/site.js: no server, no network). One addition to nbdev: show_doc
gets nbdev's classic docments table (fastcore 1.14 only prints the docments as comments in the signature); the
GitHub workflow renders the same `_proc/` with Quarto, so both sites show it. Math is typeset in the browser by
the vendored KaTeX in `docs_assets/katex/` (see docs_assets/site.js); PNG outputs are embedded as data URIs, and
files beside the notebooks (`nbs/images/*.png`, linked from markdown as `images/x.png`) are copied into the site.

Usage (from the repo root, after `nbdev_export`):
    python tools/build_docs.py                  # refresh nbs/nbdev.yml + nbs/sidebar.yml, process, render _docs/
    python tools/build_docs.py --sidebar-only   # only the two yml files
    python tools/build_docs.py --proc-only      # yml files + _proc/ (the GitHub workflow then runs Quarto there)
    python tools/build_docs.py --force          # re-process every notebook (ignore nbdev's _proc/ cache)
"""
import argparse, contextlib, copy, inspect, json, os, posixpath, re, shutil, subprocess, sys, tarfile, tempfile, time
from html import unescape
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')  # nbdev's processing runs the notebooks' import cells (torch)
os.environ.setdefault('HF_HUB_OFFLINE', '1')

import yaml
from nbdev.config import get_config

ASSETS = Path(__file__).resolve().parent.parent/'docs_assets'
STATIC_EXTS = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.csv', '.pdf', '.txt', '.json'}

# --- configuration, as Quarto reads it --------------------------------------------------------------------------

def check_quarto_yml(root, nbs):
    "Fail unless the top-level `_quarto.yml` and `nbs/_quarto.yml` (the one nbdev renders from) are identical."
    top, inner = root/'_quarto.yml', nbs/'_quarto.yml'
    if top.exists() and inner.exists() and top.read_text() != inner.read_text():
        sys.exit(f'{top} and {inner} differ: nbdev renders from {inner}; copy one over the other')

def nb_list(nbs):
    "Notebooks the docs show, relative to `nbs`, skipping `_`/`.` files and folders (nbdev's own glob)."
    from nbdev.doclinks import nbglob
    return sorted(Path(p).relative_to(nbs) for p in nbglob(nbs, as_path=True))

def sidebar_contents(rels):
    "Sidebar entries: index first, top-level notebooks as 'Reference', each folder its own section."
    res = ['index.ipynb'] if Path('index.ipynb') in rels else []
    top = [r.as_posix() for r in rels if len(r.parts) == 1 and r.name != 'index.ipynb']
    if top: res.append({'section': 'Reference', 'contents': top})
    for d in sorted({r.parts[0] for r in rels if len(r.parts) > 1}):
        res.append({'section': d.replace('_', ' ').title(), 'contents': [r.as_posix() for r in rels if r.parts[0] == d]})
    return res

def write_sidebar(nbs, rels):
    "Write `nbs/sidebar.yml` (Quarto's sidebar) from the notebooks present; only touch the file when it changes."
    from nbdev.quarto import IndentDumper
    yml = yaml.dump({'website': {'sidebar': {'contents': sidebar_contents(rels)}}}, Dumper=IndentDumper, sort_keys=False)
    f = nbs/'sidebar.yml'
    if not f.exists() or f.read_text() != yml: f.write_text(yml)

def _merge(a, b):
    "Deep-merge dict `b` into a copy of `a` (Quarto's rule for metadata-files)."
    res = dict(a)
    for k, v in b.items(): res[k] = _merge(res[k], v) if isinstance(v, dict) and isinstance(res.get(k), dict) else v
    return res

def site_config(nbs):
    "`nbs/_quarto.yml` merged with its `metadata-files` (nbdev.yml, sidebar.yml)."
    q = yaml.safe_load((nbs/'_quarto.yml').read_text()) or {}
    for f in q.get('metadata-files', []):
        if (nbs/f).exists(): q = _merge(q, yaml.safe_load((nbs/f).read_text()) or {})
    return q

# --- Quarto's cell options and markdown extensions -------------------------------------------------------------

_re_opt = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

def cell_options(src):
    "Split leading `#| key: value` lines off a code cell: (options, code without them)."
    lines, opts = src.splitlines(), {}
    while lines and (m := _re_opt.match(lines[0])):
        opts[m[1]] = m[2].strip('"\'').lower() if m[2] else 'true'
        lines.pop(0)
    return opts, '\n'.join(lines)

_re_div = re.compile(r'^:::+\s*(?:\{([^}]*)\}|([\w-]+))?\s*$')

def fenced_divs(md):
    "Turn pandoc fenced divs (`::: {.callout-note}` ... `:::`) into HTML divs that keep markdown inside."
    out = []
    for line in md.splitlines():
        m = _re_div.match(line)
        if not m: out.append(line); continue
        attrs, word = m.groups()
        if attrs is None and word is None: out.append('\n</div>\n'); continue
        toks = (attrs or '').split()
        cls = [t[1:] for t in toks if t.startswith('.')] + ([word] if word else [])
        ids = [t[1:] for t in toks if t.startswith('#')]
        out.append(f'<div class="{" ".join(cls)}"' + (f' id="{ids[0]}"' if ids else '') + '>\n')
    return '\n'.join(out)

_re_attr_link = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}')

def _attr_link(m):
    "A pandoc link with attributes (`[source](url){target=\"_blank\" style=...}`, as show_doc writes) as an HTML link."
    txt, url, attrs = m.groups()
    cls = ' '.join(t[1:] for t in attrs.split() if t.startswith('.'))
    kv = ' '.join(re.findall(r'[\w-]+="[^"]*"', attrs))
    return f'<a href="{url}"' + (f' class="{cls}"' if cls else '') + (f' {kv}' if kv else '') + f'>{txt}</a>'

def pandoc_md(md):
    "The pandoc markdown that nbdev writes and Python-Markdown/mistune lack: fenced divs, link attributes."
    return _re_attr_link.sub(_attr_link, fenced_divs(md))

def quarto_cells(nb):
    "Apply what Quarto would to nbdev's processed notebook: drop hidden cells, honour echo/output/include/code-fold."
    cells = []
    for c in nb.cells:
        if c.get('source') is None or c.cell_type == 'raw': continue  # source removed by nbdev (export/hide/frontmatter)
        if c.cell_type == 'markdown': c.source = pandoc_md(c.source)
        if c.cell_type == 'code':
            opts, c.source = cell_options(c.source)
            if opts.get('include') == 'false': continue
            if opts.get('echo') == 'false' or not c.source.strip(): c.metadata.setdefault('transient', {})['remove_source'] = True
            if opts.get('output') == 'false': c.outputs = []
            if opts.get('output') == 'asis':  # printed text is markdown
                for o in c.outputs:
                    if o.get('output_type') == 'stream' and o.get('name') == 'stdout':
                        o.update(output_type='display_data', data={'text/markdown': o.pop('text')}, metadata={}); o.pop('name')
            for o in c.outputs:
                if 'text/markdown' in o.get('data', {}): o.data['text/markdown'] = pandoc_md(o.data['text/markdown'])
            if opts.get('code-fold') in ('show', 'true'):
                c.metadata['docs'] = {'code_fold': opts['code-fold'], 'code_summary': opts.get('code-summary', 'Code')}
            if c.metadata.get('transient', {}).get('remove_source') and not c.outputs: continue
        cells.append(c)
    nb.cells = cells
    return nb

def frontmatter(nb):
    "The YAML frontmatter nbdev put in the first raw cell (title, description, output-file)."
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            return yaml.safe_load(c.source.strip().strip('-')) or {}
    return {}

# --- links and table of contents ---------------------------------------------------------------------------------

_re_link = re.compile(r'(href|src)="([^"#?]*)([^"]*)"')

def fix_links(html, page_dir, site_url, html_of):
    "Make nbdev's absolute doc links and `.ipynb` links relative to the page (both point into this site)."
    def sub(m):
        attr, url, frag = m.groups()
        if site_url and (url + '/').startswith(site_url + '/'): target = url[len(site_url):].lstrip('/') or 'index.html'
        elif url.endswith('.ipynb') and '://' not in url:
            nb = posixpath.normpath(posixpath.join(page_dir, url))
            target = html_of.get(nb, nb[:-len('.ipynb')] + '.html')
        else: return m[0]
        return f'{attr}="{posixpath.relpath(target, page_dir or ".")}{frag}"'
    return _re_link.sub(sub, html)

_re_fig = re.compile(r'<p>\s*(<img\b[^>]*\balt="([^"]+)"[^>]*>)\s*</p>')

def implicit_figures(html):
    "An image alone in its paragraph becomes a figure captioned by its alt text (pandoc's implicit_figures, as Quarto)."
    return _re_fig.sub(lambda m: f'<figure class="figure">{m[1]}<figcaption>{m[2]}</figcaption></figure>', html)

_re_hid = re.compile(r'<h([1-6]) id="([^"]+)">(.*?)</h\1>', re.S)

def _text(html): return re.sub(r'<a class="anchor-link".*?</a>|<[^>]+>', '', html, flags=re.S).strip()

def pandoc_ids(html):
    "Heading ids as pandoc (so Quarto and nbdev's doc links, `core.html#bnorm`) makes them: lower case, hyphens."
    seen = {}
    def sub(m):
        lvl, old, inner = m.groups()
        t = unescape(_text(inner)).lower()
        new = re.sub(r'^[^a-z]+', '', re.sub(r'\s+', '-', re.sub(r'[^\w\s.-]', '', t).strip())) or 'section'
        n, seen[new] = seen.get(new, 0), seen.get(new, 0) + 1
        new = f'{new}-{n}' if n else new
        return f'<h{lvl} id="{new}">' + inner.replace(f'href="#{old}"', f'href="#{new}"') + f'</h{lvl}>'
    return _re_hid.sub(sub, html)

_re_head = re.compile(r'<h([23]) id="([^"]+)">(.*?)</h\1>', re.S)

def nav_order(contents):
    "The sidebar's notebooks flattened in reading order (previous/next links follow it)."
    res = []
    for it in contents:
        if isinstance(it, dict) and 'contents' in it: res += [r for r in nav_order(it['contents']) if r not in res]
        elif (r := it if isinstance(it, str) else it.get('href')) not in res: res.append(r)
    return res

def pager(order, r, page_of):
    "Previous and next pages of notebook `r` in sidebar order, as {'prev'|'next': {'html', 'title'}}."
    order = [o for o in order if o in page_of]
    if r not in order: return {}
    i, res = order.index(r), {}
    if i > 0: res['prev'] = {k: page_of[order[i-1]][k] for k in ('html', 'title')}
    if i < len(order) - 1: res['next'] = {k: page_of[order[i+1]][k] for k in ('html', 'title')}
    return res

def toc_html(html):
    "A table of contents of the page's h2/h3 headings (Quarto's `toc: true`)."
    items = [(lvl, hid, _text(txt)) for lvl, hid, txt in _re_head.findall(html)]
    if not items: return ''
    lis = ''.join(f'<li class="toc-h{lvl}"><a href="#{hid}">{txt}</a></li>' for lvl, hid, txt in items)
    return f'<h2>On this page</h2><ul>{lis}</ul>'

# --- search ---------------------------------------------------------------------------------------------------------

SECTION_CHARS = 5000  # text kept per section in the search index (its first part; the heading is always kept)

def search_entries(html, page):
    """Search entries of one rendered page: the page itself (title, subtitle, text before the first heading), then one per
    h1-h4 heading with its anchor and the prose under it (markdown and show_doc output; code cells and outputs are left out)."""
    from bs4 import BeautifulSoup, NavigableString, Comment
    main = BeautifulSoup(html, 'html.parser').select_one('main')
    secs = [{'href': page['html'], 'page': page['title'], 'title': page['title'], 'text': [page['description']]}]
    for el in main.descendants if main else []:
        if getattr(el, 'name', None) in ('h1', 'h2', 'h3', 'h4') and el.get('id') and not el.find_parent('header'):
            secs.append({'href': f"{page['html']}#{el['id']}", 'page': page['title'], 'title': unescape(_text(str(el))), 'text': []})
        elif isinstance(el, NavigableString) and not isinstance(el, Comment) and el.strip():
            if el.find_parent(['h1', 'h2', 'h3', 'h4', 'header', 'script', 'style']) or el.find_parent('a', class_='anchor-link'): continue
            if el.find_parent(class_='jp-RenderedMarkdown'): secs[-1]['text'].append(str(el))
    for e in secs: e['text'] = ' '.join(' '.join(e['text']).split())[:SECTION_CHARS]
    return [e for e in secs if e['title'] or e['text']]

def write_search_index(out, entries):
    "The index as a script (`window.DOCS_INDEX = [...]`): a script loads from file:// as well as over HTTP, JSON would not."
    keys = ['href', 'page', 'title', 'text']  # entries are lists in this order (smaller than repeating the keys)
    data = json.dumps({'keys': keys, 'entries': [[e[k] for k in keys] for e in entries]}, separators=(',', ':'))
    (out/'search-index.js').write_text(f'window.DOCS_INDEX = {data};\n')
    return len(data)

# --- nbdev's processing, with show_doc's docments table ---------------------------------------------------------

def _cell(o, text=False):
    "A docments value as a markdown table cell (pipes escaped: `str | None` must not split the row)."
    if o is inspect.Parameter.empty or (text and o is None): return ''
    s = o if text else getattr(o, '__name__', None) or repr(o)
    return ' '.join(str(s).split()).replace('|', '\\|')

def docments_table(sym):
    "nbdev's classic Type / Default / Details table of `sym`'s docments ('' when nothing is documented)."
    from fastcore.docments import docments
    try: dm = docments(sym, full=True)
    except Exception: return ''  # no source to read docments from (builtins, C extensions)
    dm.pop('self', None)
    ret = dm.pop('return', {})
    if not any(v.get('docment') for v in [*dm.values(), ret]): return ''
    rows = ['|    | **Type** | **Default** | **Details** |', '| -- | -------- | ----------- | ----------- |']
    rows += [f"| {k} | {_cell(v['anno'], isinstance(v['anno'], str))} | {_cell(v['default'])} | {_cell(v['docment'], True)} |" for k, v in dm.items()]
    if ret.get('docment') or ret.get('anno', inspect.Parameter.empty) is not inspect.Parameter.empty:
        rows.append(f"| **Returns** | {_cell(ret['anno'], isinstance(ret['anno'], str))} |  | {_cell(ret['docment'], True)} |")
    return '\n'.join(rows)

def _doc_md(self):
    "show_doc's body on the site: the signature without comments, the docstring, the docments table."
    dt = copy.copy(self.dm)  # nbdev's DocmentText; with the docments blanked it prints a plain signature
    dt.dm = {k: {**v, 'docment': None} for k, v in dt.dm.items()}
    res = f'```python\n{dt}\n```'
    if self.docs: res += '\n\n' + re.sub(r'^(\s*)(.+)', r'\1*\2*', self.docs, count=1)
    tbl = docments_table(self.sym)
    return res + ('\n\n' + tbl if tbl else '')

@contextlib.contextmanager
def docments_tables():
    "While processing, show_doc draws nbdev's classic docments table (fastcore 1.14 prints comments in the signature)."
    from fastcore.docments import MarkdownRenderer
    old, MarkdownRenderer._repr_markdown_ = MarkdownRenderer._repr_markdown_, _doc_md
    try: yield
    finally: MarkdownRenderer._repr_markdown_ = old

def process(nbs, force=False):
    "nbdev's `proc_nbs` into `_proc/`, in this process (so the table patch applies; imports load once)."
    from nbdev.serve import proc_nbs
    cache = get_config().config_path/'_proc'
    mark = cache/'.docments-tables'  # a cache from plain nbdev_proc_nbs has no tables: redo it
    force = force or not mark.exists() or mark.stat().st_mtime < Path(__file__).stat().st_mtime
    with docments_tables():
        try: cache = proc_nbs(nbs, force=force, n_workers=0)
        except Exception as e:  # nbdev runs import, export and show_doc cells here; say which one failed and why
            sys.exit(f'nbdev could not process the notebooks: {e}\n-> {e.__cause__!r}')
    mark.touch()
    return cache

# --- rendering ------------------------------------------------------------------------------------------------------

def exporter():
    "nbconvert's HTML exporter with our page template (lab cells, no prompts)."
    from nbconvert import HTMLExporter
    return HTMLExporter(template_name='site', extra_template_basedirs=[str(ASSETS/'nbconvert')],
                        exclude_input_prompt=True, exclude_output_prompt=True)

def nav_tree(contents, page_of, current):
    "The sidebar entries as dicts the template renders (title and site-relative href per notebook)."
    res = []
    for it in contents:
        if isinstance(it, dict) and 'contents' in it:
            res.append({'section': it.get('section', ''), 'contents': nav_tree(it['contents'], page_of, current)})
        else:
            p = page_of.get(it if isinstance(it, str) else it.get('href'))
            if p: res.append({'href': p['html'], 'title': p['title'], 'active': p['html'] == current})
    return res

def render_page(exp, nb, page, site, nav, page_of, html_of, pages=None):
    "Render one processed notebook to a complete HTML page (`pages`: its previous/next pages)."
    page_dir = posixpath.dirname(page['html'])
    res = {'page': page, 'site': site, 'root': '../' * len(Path(page_dir).parts),
           'nav': nav_tree(nav, page_of, page['html']), 'pager': pages or {}}
    html, res = exp.from_notebook_node(quarto_cells(nb), resources=res)
    html = implicit_figures(pandoc_ids(fix_links(html, page_dir, site['url'], html_of)))
    if site['toc']: html = html.replace('<!--site-toc-->', toc_html(html), 1)
    return html, res

def write_static(out, nbs, site, exp, css):
    "Local copies of everything the pages load: JupyterLab + pygments CSS, KaTeX, site CSS/JS, project CSS."
    st = out/'_static'
    st.mkdir(parents=True, exist_ok=True)
    lab = next(Path(p)/'static' for p in exp.template_paths if (Path(p)/'static'/'index.css').exists())
    (st/'nb.css').write_text('\n'.join([(lab/'index.css').read_text(), (lab/'theme-light.css').read_text(), *css]))
    shutil.copytree(ASSETS/'katex', st/'katex', dirs_exist_ok=True)
    for f in ('site.css', 'site.js'): shutil.copy(ASSETS/f, st/f)
    for f in site['css']:
        if (nbs/f).exists(): shutil.copy(nbs/f, out/f)

def copy_files(nbs, out):
    """Images and other files beside the notebooks (`nbs/images/seed_grid.png`) go to the same place in the site, so
    markdown's `![grid](images/seed_grid.png)` works in both; `_`/`.` files and folders are skipped, as nbdev does."""
    for f in nbs.rglob('*'):
        rel = f.relative_to(nbs)
        if f.is_file() and f.suffix.lower() in STATIC_EXTS and not any(p.startswith(('_', '.')) for p in rel.parts):
            (out/rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, out/rel)

_re_img = re.compile(r'<img\b[^>]*?\bsrc="([^"]+)"')

def missing_images(out, rel_html, html):
    "Local images a page links to that the site lacks (shown as broken images; tools/check_site.py fails on them)."
    srcs = [unescape(s) for s in _re_img.findall(html) if not s.startswith(('data:', 'http:', 'https:', '//'))]
    base = posixpath.dirname(rel_html)
    return [s for s in srcs if not (out/posixpath.normpath(posixpath.join(base, s.split('#')[0].split('?')[0]))).is_file()]

def placeholder_index(rels):
    "A stand-in landing page while nbs/index.ipynb does not exist yet."
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f'No `nbs/index.ipynb` yet; {len(rels)} notebook(s) in the sidebar.')]
    return nb

def build(force=False, stage='html'):
    "Refresh the yml files (stage 'yml'), process the notebooks with nbdev (stage 'proc'), render them into `doc_path`."
    import nbformat
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    from nbdev.quarto import refresh_quarto_yml
    t0, cfg = time.time(), get_config()
    root, nbs, out = cfg.config_path, cfg.nbs_path, cfg.doc_path
    check_quarto_yml(root, nbs)
    refresh_quarto_yml()  # nbs/nbdev.yml from settings.ini, exactly as nbdev_docs does
    rels = nb_list(nbs)
    write_sidebar(nbs, rels)
    if stage == 'yml': return
    cache = process(nbs, force)
    if stage == 'proc': return print(f'processed {len(rels)} notebook(s) into {cache} in {time.time()-t0:.1f}s')
    q = site_config(nbs)
    web, html_opts = q.get('website', {}), q.get('format', {}).get('html', {})
    css = html_opts.get('css', [])
    site = {'title': web.get('title', cfg.title), 'url': web.get('site-url', '').rstrip('/'), 'repo_url': web.get('repo-url', ''),
            'css': [css] if isinstance(css, str) else css, 'toc': bool(html_opts.get('toc', True))}
    read = lambda f: nbformat.v4.nbjson.JSONReader().to_notebook(json.loads(f.read_text()))  # no validation: nbdev drops sources
    nbs_of = {r.as_posix(): read(cache/r) for r in rels}
    if 'index.ipynb' not in nbs_of: nbs_of['index.ipynb'] = placeholder_index(rels)
    page_of = {}
    for r, nb in nbs_of.items():
        fm = frontmatter(nb)
        desc = str(fm.get('description', ''))
        page_of[r] = {'html': posixpath.join(posixpath.dirname(r), fm.get('output-file', Path(r).stem + '.html')),
                      'title': str(fm.get('title', Path(r).stem)), 'description': desc,
                      'description_html': re.sub(r'^<p>|</p>\s*$', '', markdown2html_mistune(desc).strip())}
    if 'title' not in frontmatter(nbs_of['index.ipynb']): page_of['index.ipynb']['title'] = site['title']
    nav = web.get('sidebar', {}).get('contents', []) or sidebar_contents(rels)
    if 'index.ipynb' not in nav: nav = ['index.ipynb', *nav]
    order = nav_order(nav)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    copy_files(nbs, out)
    exp, css_out, index, missing = exporter(), [], [], []
    for r in sorted(nbs_of, key=lambda r: order.index(r) if r in order else len(order)):  # index entries in sidebar order
        page = page_of[r]
        html, res = render_page(exp, nbs_of[r], page, site, nav, page_of, {k: v['html'] for k, v in page_of.items()},
                                pager(order, r, page_of))
        dest = out/page['html']
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(html)
        css_out = css_out or res.get('inlining', {}).get('css', [])
        index += search_entries(html, page)
        missing += [f"{page['html']}: {s}" for s in missing_images(out, page['html'], html)]
    write_static(out, nbs, site, exp, css_out)
    size = write_search_index(out, index)
    (out/'.nojekyll').touch()
    for m in missing: print(f'warning: image not in the site (put it in {nbs.name}/images/): {m}')
    print(f'built {len(nbs_of)} page(s) into {out} in {time.time()-t0:.1f}s; search index: {len(index)} entries, {size//1024} KiB')

def vendor_katex(version):
    "Refresh docs_assets/katex from the npm registry (`npm pack katex@VERSION`)."
    with tempfile.TemporaryDirectory() as d:
        tgz = subprocess.check_output(['npm', 'pack', f'katex@{version}', '--silent'], cwd=d, text=True).split()[-1]
        with tarfile.open(Path(d)/tgz) as t: t.extractall(d, filter='data')
        dist, dst = Path(d)/'package'/'dist', ASSETS/'katex'
        shutil.rmtree(dst/'fonts', ignore_errors=True)
        (dst/'fonts').mkdir(parents=True)
        for f in ('katex.min.js', 'katex.min.css'): shutil.copy(dist/f, dst/f)
        for f in (dist/'fonts').glob('*.woff2'): shutil.copy(f, dst/'fonts'/f.name)
        shutil.copy(Path(d)/'package'/'LICENSE', dst/'LICENSE')
    print(f'vendored katex {version} into {dst}; update {dst}/README.md')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sidebar-only', action='store_true', help='only write nbs/nbdev.yml and nbs/sidebar.yml')
    ap.add_argument('--force', action='store_true', help='re-process all notebooks (ignore the _proc/ cache)')
    ap.add_argument('--proc-only', action='store_true', help='stop after nbdev processing into _proc/ (for Quarto)')
    ap.add_argument('--vendor-katex', metavar='VERSION', help='refresh docs_assets/katex from npm and exit')
    a = ap.parse_args()
    if a.vendor_katex: vendor_katex(a.vendor_katex)
    else: build(force=a.force, stage='yml' if a.sidebar_only else 'proc' if a.proc_only else 'html')

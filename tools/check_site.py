"""Check the built docs site in a real headless Chromium, page by page, and save a screenshot of each.

For every page in the site: it loads (HTTP 200, a title), no request failed or left localhost (DevTools performance
log), no JavaScript error, every <img> decoded (naturalWidth > 0) and visible, formulas typeset by KaTeX where the
page's markdown has $...$ (no KaTeX errors, no `$` math left as text), no markdown table, fenced div or link
attribute left as text, every sidebar link and every internal link answers 200 (a #fragment with no element to
land on is only a warning), no code block, output, table or image sticks out of the content column unless inside a
sideways scroll box (wide code scrolls: overflow-x auto, never hidden), and the page has previous/next links.
For the site: the sidebar lists every page; previous/next follow the sidebar's order; at least one wide code block
really scrolls (scrollLeft moves); the search index covers every page; searching from the search box finds known
terms (typed into the box, from a top-level page and from a page in a folder), a page's title puts that page
first, nonsense says "No results", and clicking a result opens a page holding the term (at the heading's anchor
when it has one); the landing page's pictures load. Screenshots: one per page, plus the search results shown.
Exit 1 with one line per failure. Needs Debian's `chromium` and `chromium-driver` and PyPI `selenium`.

Usage: python tools/check_site.py [--site _docs] [--shots _docs_shots]
"""
import argparse, base64, functools, json, re, sys, tempfile, threading, time, urllib.error, urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--window-size=1400,900', '--hide-scrollbars']
MAX_SHOT_H = 10000  # px; longer pages are cut in the screenshot (the checks still cover the whole page)

class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # the browser dropping a connection is not a site error
        if not isinstance(sys.exc_info()[1], ConnectionError): super().handle_error(request, client_address)

def serve(site):
    "Serve `site` on a free localhost port in a daemon thread; returns (server, base url)."
    srv = Server(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'

def status(url):
    "HTTP status of `url` (GET)."
    try:
        with urllib.request.urlopen(url, timeout=10) as r: return r.status
    except urllib.error.HTTPError as e: return e.code
    except OSError as e: return str(e)

def browser(chromium, driver, profile):
    "Headless Chromium through chromedriver, with performance and console logs on and a fresh profile."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for f in FLAGS + [f'--user-data-dir={profile}']: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'performance': 'ALL', 'browser': 'ALL'})
    return webdriver.Chrome(options=opts, service=Service(executable_path=driver))

# pandoc's rules for $ (as in docs_assets/site.js): "$5 and $6" is not math; "$\|c-u\|$" is
MATH_RE = r'\$\$[\s\S]+?\$\$|\$(?![\s$])(?:\\[\s\S]|[^$\\])*?(?:\\[\s\S]|[^\s\\$])\$(?!\d)'
_re_math = re.compile(MATH_RE)

def has_math(html):
    "Whether the served page has $...$ in its rendered markdown (prose and show_doc output, not code or text)."
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(html, 'html.parser')
    for el in soup.select('.jp-RenderedMarkdown'):
        for c in el.select('pre, code, script'): c.decompose()
        if _re_math.search(el.get_text()): return True
    return False

_JS_PAGE = r"""
const re = new RegExp(arguments[0]);
const vis = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && +s.opacity > 0
         && el.offsetParent !== null; };
const left = [];
document.querySelectorAll('.jp-RenderedMarkdown').forEach(el => {
  const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {acceptNode: n =>
    n.parentElement.closest('pre, code, script, .katex, .katex-error') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  for (let n; (n = w.nextNode());) if (re.test(n.textContent)) left.push(n.textContent.trim().slice(0, 60)); });
return {title: document.title, h1: (document.querySelector('h1.title') || {}).textContent || '',
  math: document.documentElement.dataset.math, katex: document.querySelectorAll('.katex').length,
  katex_errors: [...document.querySelectorAll('.katex-error')].map(e => e.textContent.slice(0, 60)),
  math_left: left,
  imgs: [...document.images].map(i => ({src: i.src.slice(0, 60), w: i.naturalWidth, ok: i.complete, vis: vis(i)})),
  raw_md: [...document.querySelectorAll('.jp-RenderedMarkdown p')].map(p => p.textContent)
          .filter(t => /\|\s*-{2,}\s*\||^\s*:::|\]\{|\)\{[.#\w]/.test(t)).map(t => t.trim().slice(0, 60)),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  sidebar: [...document.querySelectorAll('nav.site-sidebar a')].map(a => a.href),
  links: [...document.querySelectorAll('main a[href]')].map(a => a.href),
  pager: Object.fromEntries([...document.querySelectorAll('main nav.page-nav a[rel]')].map(a => [a.rel, a.href])),
  search_box: !!document.querySelector('header .site-search input[type=search]'),
  page_wide: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  ...widths()};
"""

# What is wider than the content column: a code block, output, table or image whose right edge passes the column's
# must sit in a box that scrolls sideways (overflow-x auto/scroll) and ends inside the column; otherwise it is cut
# off (an overflow: hidden ancestor) or makes the page scroll. `scrolls`: the wide boxes that do scroll.
_JS_WIDTHS = r"""
function widths() {
  const main = document.querySelector('main'), right = main.getBoundingClientRect().right + 1, cut = [], scrolls = [];
  const sx = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const name = el => (el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '')
                      + ' "' + (el.innerText || el.getAttribute('src') || '').trim().slice(0, 40) + '"');
  main.querySelectorAll('pre, table, img, .jp-OutputArea-output, .katex-display').forEach(el => {
    const r = el.getBoundingClientRect();
    if (!r.width) return;  // not shown (closed code fold)
    if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'IMG') {
      if (sx(el)) scrolls.push(el.tagName.toLowerCase());
      else if (el.tagName === 'PRE') cut.push('code cut off, not scrollable (overflow-x ' + getComputedStyle(el).overflowX + '): ' + name(el));
    }
    if (r.right <= right) return;
    for (let a = el.parentElement; a && a !== main; a = a.parentElement)
      if (sx(a) && a.getBoundingClientRect().right <= right) return;  // inside a box that scrolls
    cut.push('wider than the page column by ' + Math.round(r.right - right) + 'px (cut off or page scrolls): ' + name(el));
  });
  const widest = Math.max(0, ...[...main.querySelectorAll('pre')].map(p => p.scrollWidth - p.clientWidth));
  return {cut, scrolls: scrolls.length, widest};
}
"""
_JS_PAGE = _JS_WIDTHS + _JS_PAGE

def net_failures(logs, base):
    "Failed, erroring or external requests in a DevTools performance log."
    urls, bad, short = {}, [], lambda u: u[len(base):] if u.startswith(base) else u[:100]
    for e in logs:
        m = json.loads(e['message'])['message']
        p = m.get('params', {})
        if m['method'] == 'Network.requestWillBeSent':
            if not p.get('documentURL', '').startswith(base): continue  # the browser's own pages (new tab, ...)
            url = urls[p['requestId']] = p['request']['url']
            if not url.startswith((base, 'data:')): bad.append(f'external request {url[:100]}')
        elif p.get('requestId') not in urls: continue
        elif m['method'] == 'Network.responseReceived' and p['response']['status'] >= 400:
            bad.append(f"HTTP {p['response']['status']} for {short(p['response']['url'])}")
        elif m['method'] == 'Network.loadingFailed' and not p.get('canceled'):
            bad.append(f"failed request {short(urls[p['requestId']])}: {p.get('errorText')}")
    return bad

def screenshot(drv, fn):
    "Full-page PNG via the DevTools protocol (capped at MAX_SHOT_H px)."
    m = drv.execute_cdp_cmd('Page.getLayoutMetrics', {})['cssContentSize']
    clip = {'x': 0, 'y': 0, 'width': m['width'], 'height': min(m['height'], MAX_SHOT_H), 'scale': 1}
    png = drv.execute_cdp_cmd('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': True, 'clip': clip})
    fn.write_bytes(base64.b64decode(png['data']))

def check_page(drv, base, rel, shots, link_status):
    "All checks for one page; returns failure strings."
    url, fails = base + rel, []
    drv.get_log('performance'); drv.get_log('browser')  # drop entries of the previous page
    drv.get(url)
    t0 = time.time()
    while drv.execute_script('return document.readyState !== "complete" || !document.documentElement.dataset.math'):
        if time.time() - t0 > 20: fails.append('page did not finish loading or the math script did not run'); break
        time.sleep(0.1)
    drv.execute_async_script('document.fonts.ready.then(arguments[0])')
    info = drv.execute_script(_JS_PAGE, MATH_RE)
    fails += net_failures(drv.get_log('performance'), base)
    fails += [f"console error: {e['message'][:150]}" for e in drv.get_log('browser') if e['level'] == 'SEVERE']
    if not info['title'].strip() or not info['h1'].strip(): fails.append('no page title')
    for i in info['imgs']:
        if not (i['ok'] and i['w'] > 0): fails.append(f"image not decoded: {i['src']}")
        elif not i['vis']: fails.append(f"image not visible: {i['src']}")
    with urllib.request.urlopen(url, timeout=10) as r: raw = r.read().decode()
    if has_math(raw) and info['katex'] == 0: fails.append('page has $...$ but no KaTeX output')
    fails += [f'KaTeX error: {e}' for e in info['katex_errors']]
    fails += [f'math left as text: {t}' for t in info['math_left']]
    fails += [f'markdown left as text (table, fenced div or attributes): {t}' for t in info['raw_md']]
    fails += info['cut'][:5] + ([f"... and {len(info['cut']) - 5} more" ] if len(info['cut']) > 5 else [])
    if info['page_wide'] > 1: fails.append(f"the page scrolls sideways by {info['page_wide']}px")
    if not info['search_box']: fails.append('no search box in the header')
    if not info['sidebar']: fails.append('no sidebar links')
    for kind, links in (('sidebar link', info['sidebar']), ('link', info['links'])):
        for l in {urldefrag(l)[0] for l in links if l.startswith(base)}:
            if l not in link_status: link_status[l] = status(l)
            if link_status[l] != 200: fails.append(f'{kind} {l[len(base):]} -> {link_status[l]}')
    if shots: screenshot(drv, shots/(rel.replace('/', '__').removesuffix('.html') + '.png'))
    return fails, info

def check_anchors(base, pages):
    "Links with a #fragment into the site (doc links like core.html#bnorm) that land on no element with that id."
    fails = []
    for rel, info in pages.items():
        for l in set(info['links']) | set(info['sidebar']):
            url, frag = urldefrag(l)
            tgt = pages.get(url[len(base):]) if url.startswith(base) else None
            if frag and tgt and unquote(frag) not in tgt['ids']: fails.append(f'{rel}: link to missing anchor {l[len(base):]}')
    return fails

def check_nav(base, pages, infos):
    "The sidebar lists every page, in the same order on every page; previous/next links walk that order."
    fails, order = [], [l[len(base):] for l in infos.get('index.html', next(iter(infos.values())))['sidebar']]
    fails += [f'{p}: not in the sidebar' for p in pages if p not in order]
    for rel, info in infos.items():
        if [l[len(base):] for l in info['sidebar']] != order: fails.append(f'{rel}: sidebar differs from index.html\'s')
        if rel not in order: continue
        i = order.index(rel)
        want = {k: base + order[j] for k, j in (('prev', i - 1), ('next', i + 1)) if 0 <= j < len(order)}
        for k in ('prev', 'next'):
            if info['pager'].get(k) != want.get(k):
                fails.append(f"{rel}: {k} link is {(info['pager'].get(k) or 'missing')[len(base):] or 'missing'}, "
                             f"sidebar order says {(want.get(k) or 'none')[len(base):] or 'none'}")
    return fails

def check_scroll(drv, base, infos, shots):
    "A wide code block exists somewhere and really scrolls sideways (scrollLeft moves); screenshot it scrolled."
    rel = max((r for r, i in infos.items() if i['scrolls']), key=lambda r: infos[r]['widest'], default=None)
    if rel is None: return ['no wide code block anywhere scrolls sideways (nothing wider than the column, or scrolling off)']
    drv.get(base + rel)
    res = drv.execute_script("""
      const p = [...document.querySelectorAll('main pre')].filter(p => p.getBoundingClientRect().width)
                .sort((a, b) => (b.scrollWidth - b.clientWidth) - (a.scrollWidth - a.clientWidth))[0];
      if (!p || p.scrollWidth <= p.clientWidth + 1) return null;
      p.scrollIntoView({block: 'center'}); p.scrollLeft = p.scrollWidth;
      return {left: p.scrollLeft, sw: p.scrollWidth, cw: p.clientWidth, ox: getComputedStyle(p).overflowX};""")
    if not res: return [f'{rel}: the wide code block was not found again']
    print(f"wide code on {rel}: scrollWidth {res['sw']} > clientWidth {res['cw']}, overflow-x {res['ox']}, scrolled to {res['left']}")
    if shots: drv.save_screenshot(str(shots/'_wide_code_scrolled.png'))
    return [] if res['left'] > 0 else [f"{rel}: wide code block does not scroll (overflow-x {res['ox']})"]

def index_pages(site):
    "Pages the search index (search-index.js) has entries for."
    f = Path(site)/'search-index.js'
    if not f.exists(): return None
    ix = json.loads(f.read_text().split('=', 1)[1].strip().rstrip(';'))
    return {urldefrag(e[ix['keys'].index('href')])[0] for e in ix['entries']}

_JS_HITS = "return [...document.querySelectorAll('#site-search-results li')].map(li => ({cls: li.className, " \
           "href: (li.querySelector('a') || {}).href || '', text: li.innerText.slice(0, 120)}))"

def term_re(q):
    "The search's matching rule (docs_assets/site.js): the query's letters, with punctuation or spaces allowed between."
    return re.compile(r'[^a-z0-9]{0,2}'.join(map(re.escape, re.sub(r'[^a-z0-9]', '', q.lower()))), re.I)

def search(drv, base, rel, query, shot=None):
    "Type `query` into the search box of page `rel`; the result list once it settles."
    from selenium.webdriver.common.by import By
    drv.get(base + rel)
    box = drv.find_element(By.ID, 'site-search')
    box.click(); box.send_keys(query)
    t0, hits = time.time(), []
    while time.time() - t0 < 10:
        hits = drv.execute_script(_JS_HITS)
        if hits and drv.execute_script("const l = document.getElementById('site-search-results'); "
                                       "return !l.hidden && l.dataset.query === arguments[0]", query): break
        time.sleep(0.1)
    if shot: drv.save_screenshot(str(shot))
    return hits

def check_search(drv, base, pages, infos, site, shots):
    "Search from the box: known terms found, a page title ranks its page first, nonsense finds nothing, results open."
    from selenium.webdriver.common.by import By
    fails, covered = [], index_pages(site)
    drv.get_log('browser')  # only this check's messages
    if covered is None: return ['no search-index.js in the site']
    fails += [f'{p}: not in the search index' for p in pages if p not in covered]
    sub = next((p for p in pages if '/' in p), pages[0])  # results' links must work from a page in a folder too
    for rel, q in [('index.html', 'AutoGuidance'), (sub, 'T-Norm'), ('index.html', 'tnorm')]:
        hits = search(drv, base, rel, q, shots and shots/f"_search__{re.sub(r'[^a-z0-9]+', '_', q.lower())}.png")
        found = [h for h in hits if 'site-search-none' not in h['cls']]
        if not found: fails.append(f'search for {q!r} on {rel} found nothing'); continue
        drv.find_element(By.CSS_SELECTOR, '#site-search-results li a').click()
        t0 = time.time()
        while (drv.current_url == base + rel or drv.execute_script('return document.readyState') != 'complete') \
              and time.time() - t0 < 10: time.sleep(0.1)
        url, frag = urldefrag(drv.current_url)
        if drv.current_url != found[0]['href']: fails.append(f"search {q!r}: first result {found[0]['href']} opened {drv.current_url}")
        if urldefrag(found[0]['href'])[0][len(base):] not in pages: fails.append(f"search {q!r}: result {found[0]['href']} is not a page")
        text = drv.execute_script("return document.querySelector('main').innerText")
        if not term_re(q).search(text): fails.append(f"search {q!r}: the opened page {url[len(base):]} does not mention it")
        if frag and not drv.execute_script('return !!document.getElementById(arguments[0])', unquote(frag)):
            fails.append(f"search {q!r}: the opened page has no anchor #{frag}")
        print(f"search {q!r} from {rel}: {len(found)} result(s), first opened {drv.current_url[len(base):]}")
    order = [l[len(base):] for l in infos['index.html']['sidebar']] if 'index.html' in infos else pages
    for rel in order[2:4]:  # a page's own title ranks that page first
        title = infos[rel]['h1'].strip()
        hits = [h for h in search(drv, base, 'index.html', title) if 'site-search-none' not in h['cls']]
        if not hits or hits[0]['href'] != base + rel:
            fails.append(f"search for the title {title!r} ranks {(hits[0]['href'][len(base):] if hits else 'nothing')} first, not {rel}")
    hits = search(drv, base, 'index.html', 'qqxzzyv')
    if not (len(hits) == 1 and 'site-search-none' in hits[0]['cls']): fails.append(f'search for nonsense did not say "No results": {hits[:2]}')
    fails += [f"console error while searching: {e['message'][:150]}" for e in drv.get_log('browser') if e['level'] == 'SEVERE']
    return fails

def main(site='_docs', shots='_docs_shots', chromium='/usr/bin/chromium', driver='/usr/bin/chromedriver'):
    site, shots = Path(site), Path(shots) if shots else None
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob('*.html') if not p.name.startswith('_'))
    if not pages: sys.exit(f'no pages in {site}: run tools/build_docs.py first')
    if shots: shots.mkdir(parents=True, exist_ok=True)
    srv, base = serve(site)
    failures, link_status, infos, t0 = [], {}, {}, time.time()
    with tempfile.TemporaryDirectory() as profile:
        drv = browser(chromium, driver, profile)
        try:
            for rel in pages:
                fails, infos[rel] = check_page(drv, base, rel, shots, link_status)
                info = infos[rel]
                print(f"{'ok  ' if not fails else 'FAIL'} {rel}: {len(info['imgs'])} img, {info['katex']} math, "
                      f"{len(info['sidebar'])} sidebar links", flush=True)
                failures += [f'{rel}: {f}' for f in fails]
            if 'index.html' in infos:
                n = len(infos['index.html']['imgs'])
                print(f'landing page: {n} picture(s) loaded' if n else 'warning: the landing page shows no pictures')
            for kind, check in (('sidebar and previous/next', lambda: check_nav(base, pages, infos)),
                                ('wide code scrolls', lambda: check_scroll(drv, base, infos, shots)),
                                ('search', lambda: check_search(drv, base, pages, infos, site, shots))):
                fs = check()
                print(f"{'ok  ' if not fs else 'FAIL'} {kind}", flush=True)
                failures += [f'{kind}: {f}' for f in fs]
        finally: drv.quit(); srv.shutdown()
    for w in check_anchors(base, infos): print('warning:', w)  # the page exists; only the scroll target is missing
    for f in failures: print(f)
    bad = {f.split(':')[0] for f in failures}
    print(f'site: {len(pages) - len(bad & set(pages))} of {len(pages)} pages passed, {len(bad - set(pages))} site-wide check(s) '
          f'failed ({time.time()-t0:.1f}s, screenshots in {shots})')
    return 1 if failures else 0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--site', default='_docs', help='the built site')
    ap.add_argument('--shots', default='_docs_shots', help="folder for one screenshot per page ('' for none)")
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--driver', default='/usr/bin/chromedriver')
    sys.exit(main(**vars(ap.parse_args())))

"""Check the built docs site in a real headless Chromium, page by page, and save a screenshot of each.

For every page in the site: it loads (HTTP 200, a title), no request failed or left localhost (DevTools performance
log), no JavaScript error, every <img> decoded (naturalWidth > 0) and visible, formulas typeset by KaTeX where the
page's markdown has $...$ (no KaTeX errors, no `$` math left as text), no markdown table, fenced div or link
attribute left as text, every sidebar link and every internal link answers 200 (a #fragment with no element to
land on is only a warning). Exit 1 with one line per failure. Needs Debian's `chromium` and `chromium-driver` and PyPI `selenium`.

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

# pandoc's rules for $ (as in docs_assets/site.js): "$5 and $6" is not math
MATH_RE = r'\$\$[\s\S]+?\$\$|\$(?![\s$])(?:\\[\s\S]|[^$\\])*?[^\s\\]\$(?!\d)'
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
  links: [...document.querySelectorAll('main a[href]')].map(a => a.href)};
"""

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
        finally: drv.quit(); srv.shutdown()
    for w in check_anchors(base, infos): print('warning:', w)  # the page exists; only the scroll target is missing
    for f in failures: print(f)
    bad = len({f.split(':')[0] for f in failures})
    print(f'site: {len(pages)-bad} passed, {bad} failed ({time.time()-t0:.1f}s, screenshots in {shots})')
    return 1 if failures else 0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--site', default='_docs', help='the built site')
    ap.add_argument('--shots', default='_docs_shots', help="folder for one screenshot per page ('' for none)")
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--driver', default='/usr/bin/chromedriver')
    sys.exit(main(**vars(ap.parse_args())))

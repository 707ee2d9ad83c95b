// Typeset TeX with the vendored KaTeX inside rendered markdown (prose and show_doc output), never in code or text
// outputs, following pandoc's rules for $ (Quarto's): $$...$$ is display math; $...$ is inline math only when the
// opening $ has a non-space after it and the closing $ a non-space before it and no digit after it, so
// "costs $5 and $6" stays text. KaTeX's auto-render extension has no such rules, hence these few lines.
// When done, <html data-math="N"> tells tests how many formulas were typeset.
// The last character before the closing $ may be an escaped one, as in $\|c-u\|$.
var DOCS_MATH = /\$\$([\s\S]+?)\$\$|\$(?![\s$])((?:\\[\s\S]|[^$\\])*?(?:\\[\s\S]|[^\s\\$]))\$(?!\d)/g;

function docsTypeset(root) {
  var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: function (n) {
    return n.parentElement.closest("pre, code, script, style, textarea, .katex, .katex-error")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT; }});
  var nodes = [];
  for (var n = walker.nextNode(); n; n = walker.nextNode()) if (n.textContent.indexOf("$") >= 0) nodes.push(n);
  nodes.forEach(function (node) {
    var text = node.textContent, frag = document.createDocumentFragment(), last = 0, m;
    DOCS_MATH.lastIndex = 0;
    while ((m = DOCS_MATH.exec(text))) {
      var display = m[1] !== undefined, span = document.createElement("span");
      span.className = "math " + (display ? "display" : "inline");
      katex.render(display ? m[1] : m[2], span, {displayMode: display, throwOnError: false});
      frag.append(text.slice(last, m.index), span);
      last = DOCS_MATH.lastIndex;
    }
    if (last) { frag.append(text.slice(last)); node.replaceWith(frag); }
  });
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".jp-RenderedMarkdown").forEach(docsTypeset);
  document.documentElement.dataset.math = String(document.querySelectorAll(".katex").length);
});

// Search: tools/build_docs.py writes search-index.js (window.DOCS_INDEX: one entry per page and per heading, with
// the prose under it); it is loaded on first use and filtered here, in the page: no server, no network. Every word
// of the query must occur; "tnorm" finds T-Norm and TNorm (letters may be separated by punctuation or spaces).
// Arrow keys move through the results, Enter opens one, Escape closes them, "/" jumps to the box.
var DOCS_SEARCH = {entries: null, loading: null, active: -1};

function docsRoot() { return document.body.dataset.root || ""; }

function docsLoadIndex() {
  if (DOCS_SEARCH.entries) return Promise.resolve(DOCS_SEARCH.entries);
  if (!DOCS_SEARCH.loading) DOCS_SEARCH.loading = new Promise(function (resolve, reject) {
    var s = document.createElement("script");
    s.src = docsRoot() + "search-index.js";
    s.onload = function () {
      var ix = window.DOCS_INDEX, keys = ix.keys;
      DOCS_SEARCH.entries = ix.entries.map(function (row) {
        var e = {}; keys.forEach(function (k, i) { e[k] = row[i]; }); return e; });
      resolve(DOCS_SEARCH.entries);
    };
    s.onerror = function () { DOCS_SEARCH.loading = null; reject(new Error("search index not found")); };
    document.head.appendChild(s);
  });
  return DOCS_SEARCH.loading;
}

function docsTermRe(term) {  // "t-norm" -> /t[^a-z0-9]*n[^a-z0-9]*o.../i
  var chars = term.toLowerCase().replace(/[^a-z0-9]/g, "").split("");
  if (!chars.length) return null;
  return new RegExp(chars.map(function (c) { return c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); })
                         .join("[^a-z0-9]{0,2}"), "i");
}

function docsSearch(entries, query) {
  var res = [], q = query.trim().toLowerCase(), terms = query.split(/\s+/).map(docsTermRe).filter(Boolean);
  if (!terms.length) return res;
  entries.forEach(function (e) {
    var score = 0, title = e.title.toLowerCase();
    for (var i = 0; i < terms.length; i++) {
      var re = terms[i], t = re.test(e.title), p = re.test(e.page), x = t || p || re.test(e.text);
      if (!x) return;
      score += (t ? 10 : 0) + (p ? 3 : 0) + 1;
    }
    if (title === q) score += 50; else if (title.indexOf(q) === 0) score += 20;
    if (e.href.indexOf("#") < 0) score += 2;  // the page itself before its sections
    res.push({e: e, score: score});
  });
  res.sort(function (a, b) { return b.score - a.score; });
  return res.slice(0, 20).map(function (r) { return r.e; });
}

function docsMark(el, text, terms) {  // append text to el with the query's matches in <mark> (no innerHTML)
  var spans = [];
  terms.forEach(function (re) {
    var g = new RegExp(re.source, "gi"), m;
    while ((m = g.exec(text))) { if (!m[0].length) { g.lastIndex++; continue; } spans.push([m.index, m.index + m[0].length]); }
  });
  spans.sort(function (a, b) { return a[0] - b[0]; });
  var pos = 0;
  spans.forEach(function (s) {
    if (s[0] < pos) return;
    el.append(text.slice(pos, s[0]));
    var mk = document.createElement("mark"); mk.textContent = text.slice(s[0], s[1]); el.append(mk);
    pos = s[1];
  });
  el.append(text.slice(pos));
}

function docsSnippet(text, terms) {  // ~160 characters around the first match
  var at = -1;
  terms.forEach(function (re) { var m = re.exec(text); if (m && (at < 0 || m.index < at)) at = m.index; });
  if (at < 0) return text.slice(0, 160) + (text.length > 160 ? "…" : "");
  var a = Math.max(0, at - 60), b = Math.min(text.length, at + 100);
  return (a > 0 ? "…" : "") + text.slice(a, b) + (b < text.length ? "…" : "");
}

function docsShowResults(input, list, query) {
  docsLoadIndex().then(function (entries) {
    if (input.value !== query) return;  // typed on meanwhile
    var hits = docsSearch(entries, query), terms = query.split(/\s+/).map(docsTermRe).filter(Boolean);
    list.replaceChildren();
    DOCS_SEARCH.active = -1;
    if (!query.trim()) { docsCloseResults(input, list); return; }
    if (!hits.length) {
      var li = document.createElement("li"); li.className = "site-search-none"; li.textContent = "No results for “" + query + "”";
      list.append(li);
    }
    hits.forEach(function (e, i) {
      var li = document.createElement("li"), a = document.createElement("a");
      li.setAttribute("role", "option"); li.id = "site-search-hit-" + i;
      a.href = docsRoot() + e.href;
      var head = document.createElement("span"); head.className = "site-search-title";
      if (e.title !== e.page) { var pg = document.createElement("span"); pg.className = "site-search-page"; pg.textContent = e.page + " › "; head.append(pg); }
      docsMark(head, e.title, terms);
      a.append(head);
      if (e.text) { var sn = document.createElement("span"); sn.className = "site-search-snippet"; docsMark(sn, docsSnippet(e.text, terms), terms); a.append(sn); }
      li.append(a); list.append(li);
    });
    list.dataset.query = query;  // the query these results are for
    list.hidden = false; input.setAttribute("aria-expanded", "true");
  }, function (err) {
    list.replaceChildren(); var li = document.createElement("li"); li.className = "site-search-none";
    li.textContent = "Search is unavailable: " + err.message; list.append(li); list.hidden = false;
  });
}

function docsCloseResults(input, list) { list.hidden = true; input.setAttribute("aria-expanded", "false"); DOCS_SEARCH.active = -1; }

function docsMove(input, list, d) {
  var items = list.querySelectorAll("li[role=option]");
  if (!items.length) return;
  if (DOCS_SEARCH.active >= 0) items[DOCS_SEARCH.active].classList.remove("active");
  DOCS_SEARCH.active = (DOCS_SEARCH.active + d + items.length) % items.length;
  var it = items[DOCS_SEARCH.active];
  it.classList.add("active"); it.scrollIntoView({block: "nearest"});
  input.setAttribute("aria-activedescendant", it.id);
}

function docsInitSearch() {
  var input = document.getElementById("site-search"), list = document.getElementById("site-search-results");
  if (!input || !list) return;
  input.addEventListener("focus", function () { docsLoadIndex().catch(function () {}); if (input.value.trim()) docsShowResults(input, list, input.value); });
  input.addEventListener("input", function () { docsShowResults(input, list, input.value); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") { ev.preventDefault(); docsMove(input, list, ev.key === "ArrowDown" ? 1 : -1); }
    else if (ev.key === "Enter") {
      var items = list.querySelectorAll("li[role=option] a");
      if (items.length) { ev.preventDefault(); window.location.href = items[Math.max(DOCS_SEARCH.active, 0)].href; }
    } else if (ev.key === "Escape") { docsCloseResults(input, list); input.blur(); }
  });
  document.addEventListener("click", function (ev) { if (!ev.target.closest(".site-search")) docsCloseResults(input, list); });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && !ev.target.closest("input, textarea, [contenteditable]")) { ev.preventDefault(); input.focus(); }
  });
  var q = new URLSearchParams(window.location.search).get("q");  // page.html?q=apg opens with results shown
  if (q) { input.value = q; docsShowResults(input, list, q); }
}

document.addEventListener("DOMContentLoaded", docsInitSearch);

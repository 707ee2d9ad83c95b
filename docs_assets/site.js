// Typeset TeX with the vendored KaTeX inside rendered markdown (prose and show_doc output), never in code or text
// outputs, following pandoc's rules for $ (Quarto's): $$...$$ is display math; $...$ is inline math only when the
// opening $ has a non-space after it and the closing $ a non-space before it and no digit after it, so
// "costs $5 and $6" stays text. KaTeX's auto-render extension has no such rules, hence these few lines.
// When done, <html data-math="N"> tells tests how many formulas were typeset.
var DOCS_MATH = /\$\$([\s\S]+?)\$\$|\$(?![\s$])((?:\\[\s\S]|[^$\\])*?[^\s\\])\$(?!\d)/g;

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

// Comments on a passage, in the page view.
// - Each comment the server placed in the current text (data-quote, data-occurrence: the
//   how-many-th occurrence of the quote in the page's source) gets its passage highlighted,
//   found in the article's text with white space collapsed. On a wide screen the comment
//   stands in the margin beside its passage; on a narrow one under the passage's paragraph.
// - Selecting text in the article offers "Comment on this passage": the form sends the
//   selected text and which occurrence of it in the article's text was selected; the server
//   finds it in the Markdown (wiki/passages.py). Without JavaScript the comments stay in
//   the list under the page with their quote.
(function () {
  "use strict";
  const WIDE = window.matchMedia("(min-width: 1100px)");
  const article = document.querySelector("main article.page");
  if (!article) return;
  const main = article.closest("main");
  const body = article.closest(".page-body") || article.parentNode;
  const notes = Array.from(document.querySelectorAll("article.comment[data-quote]"));
  const marks = new Map();  // comment id -> its first <mark>

  // The article's text with runs of white space as one space, and where each character came from.
  function textIndex(root) {
    const chars = [], where = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let space = true;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.data;
      for (let i = 0; i < text.length; i++) {
        if (/\s/.test(text[i])) {
          if (space) continue;
          space = true; chars.push(" ");
        } else {
          space = false; chars.push(text[i]);
        }
        where.push([node, i]);
      }
    }
    return { text: chars.join(""), where: where };
  }

  function squash(text) { return text.replace(/\s+/g, " ").trim(); }

  function nth(haystack, needle, n) {
    let at = -1, last = -1;
    for (let i = 0; i <= n; i++) {
      at = haystack.indexOf(needle, at + 1);
      if (at < 0) return last;
      last = at;
    }
    return at;
  }

  // Wrap index.text[from, to) in <mark>s, one per text node it crosses.
  function highlight(index, from, to, id) {
    const pieces = new Map();
    for (let i = from; i < to; i++) {
      const [node, offset] = index.where[i];
      const piece = pieces.get(node) || [offset, offset];
      piece[1] = offset + 1;
      pieces.set(node, piece);
    }
    let first = null;
    pieces.forEach(function (span, node) {
      const range = document.createRange();
      range.setStart(node, span[0]); range.setEnd(node, span[1]);
      const mark = document.createElement("mark");
      mark.className = "passage-mark"; mark.dataset.comment = id;
      range.surroundContents(mark);
      first = first || mark;
    });
    return first;
  }

  function markPassages() {
    notes.forEach(function (note) {
      const index = textIndex(article);  // rebuilt: each mark splits text nodes
      const quote = squash(note.dataset.quote);
      const at = nth(index.text, quote, parseInt(note.dataset.occurrence, 10) || 0);
      if (!quote || at < 0) return;
      const id = note.id.replace("comment-", "");
      const mark = highlight(index, at, at + quote.length, id);
      if (!mark) return;
      marks.set(note, mark);
      mark.tabIndex = 0;
      mark.addEventListener("click", function () { focusNote(note); });
      mark.addEventListener("keydown", function (event) {
        if (event.key === "Enter") focusNote(note);
      });
      note.addEventListener("mouseenter", function () { lit(note, true); });
      note.addEventListener("mouseleave", function () { lit(note, false); });
    });
  }

  function lit(note, on) {
    article.querySelectorAll('mark[data-comment="' + note.id.replace("comment-", "") + '"]')
      .forEach(function (m) { m.classList.toggle("lit", on); });
    note.classList.toggle("lit", on);
  }

  function focusNote(note) {
    notes.forEach(function (n) { lit(n, false); });
    lit(note, true);
    note.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function blockOf(node) {
    while (node.parentNode && node.parentNode !== article) node = node.parentNode;
    return node.parentNode === article ? node : article.lastElementChild;
  }

  // Wide: a margin column beside the text, each comment level with its passage.
  // Narrow: each comment under the paragraph that holds its passage.
  function layout() {
    const placed = notes.filter(function (n) { return marks.has(n); });
    if (!placed.length) return;
    let margin = document.getElementById("passage-margin");
    if (!margin) {
      margin = document.createElement("aside");
      margin.id = "passage-margin"; margin.className = "passage-margin";
      main.appendChild(margin);
    }
    main.classList.toggle("has-passages", WIDE.matches);
    const note = document.getElementById("passage-note");
    if (note) note.hidden = false;
    article.querySelectorAll(".passage-inline").forEach(function (box) { box.remove(); });
    if (WIDE.matches) {
      placed.forEach(function (note) { margin.appendChild(note); });
      let bottom = 0;
      const top = margin.getBoundingClientRect().top;
      placed.forEach(function (note) {
        const want = marks.get(note).getBoundingClientRect().top - top;
        const y = Math.max(want, bottom);
        note.style.top = y + "px";
        bottom = y + note.offsetHeight + 8;
      });
      margin.style.minHeight = bottom + "px";
    } else {
      margin.remove();
      placed.forEach(function (note) {
        note.style.top = "";
        const block = blockOf(marks.get(note));
        let box = block.nextElementSibling;
        if (!box || !box.classList.contains("passage-inline")) {
          box = document.createElement("div");
          box.className = "passage-inline";
          block.after(box);
        }
        box.appendChild(note);
      });
    }
  }

  // -- commenting on a selection -------------------------------------------------
  const form = document.getElementById("passage-form");
  const start = document.getElementById("passage-start");

  function selectedHere() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    if (!article.contains(range.commonAncestorContainer)) return null;
    const quote = squash(selection.toString());
    return quote ? { range: range, quote: quote } : null;
  }

  // Which occurrence of the quote in the article's text the selection is: those before it.
  function occurrence(range, quote) {
    const index = textIndex(article);
    let begin = index.where.findIndex(function (w) {
      return range.comparePoint(w[0], w[1]) >= 0;
    });
    if (begin < 0) begin = index.text.length;
    let count = 0;
    for (let at = index.text.indexOf(quote); at >= 0 && at < begin;
      at = index.text.indexOf(quote, at + 1)) count++;
    return count;
  }

  function offer() {
    const chosen = selectedHere();
    if (!chosen || !form.hidden) { start.hidden = true; return; }
    const box = chosen.range.getBoundingClientRect();
    start.hidden = false;
    start.style.top = (window.scrollY + box.bottom + 6) + "px";
    start.style.left = Math.max(8, Math.min(window.scrollX + box.left,
      window.scrollX + document.documentElement.clientWidth - start.offsetWidth - 8)) + "px";
    start.onclick = function () {
      form.elements.anchor_quote.value = chosen.quote;
      form.elements.anchor_occurrence.value = occurrence(chosen.range, chosen.quote);
      form.querySelector(".passage-quote").textContent = chosen.quote;
      blockOf(chosen.range.startContainer.nodeType === 1 ? chosen.range.startContainer
        : chosen.range.startContainer.parentNode).after(form);
      form.hidden = false; start.hidden = true;
      form.elements.body.focus();
    };
  }

  if (form && start) {
    document.body.appendChild(start);
    document.addEventListener("selectionchange", function () {
      clearTimeout(offer.timer);
      offer.timer = setTimeout(offer, 150);
    });
    form.querySelector("[data-cancel]").addEventListener("click", function () {
      form.hidden = true;
    });
  }

  markPassages();
  layout();
  WIDE.addEventListener("change", layout);
  window.addEventListener("resize", function () {
    clearTimeout(layout.timer);
    layout.timer = setTimeout(layout, 200);
  });
  window.addEventListener("load", layout);  // images change where passages are
})();

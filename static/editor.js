// The Markdown editor, layered on a plain <textarea> (the form works without
// JavaScript): a toolbar with shortcuts, live preview from the server's own
// sanitising renderer, [[ page-name completion, and pasted or dropped images
// uploaded as attachments (a commit by the uploader). Live co-editing
// (live.bundle.js) swaps the textarea for its own editor through
// window.cowikiEditor.use(); the toolbar and uploads then edit that one.
(function () {
  "use strict";
  const area = document.getElementById("markdown");
  const preview = document.getElementById("preview");
  if (!area) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  // The wiki's own path: "" alone, "/w/<slug>" among many (cowiki --root).
  const root = (document.querySelector('meta[name="cowiki-root"]') || {}).content || "";
  const status = document.getElementById("editor-status");
  const t = window.cowikiText || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (m, key) { return values[key]; });
  };
  let pages = [];
  try { pages = JSON.parse(area.dataset.pages || "[]"); } catch (err) { pages = []; }
  let dirty = false;

  function say(text) { if (status) status.textContent = text; }
  function changed() { area.dispatchEvent(new Event("input", { bubbles: true })); }

  // The text being edited: this textarea, or the live editor in its place.
  const textarea = {
    live: false,
    value: function () { return area.value; },
    selection: function () { return { start: area.selectionStart, end: area.selectionEnd }; },
    replace: function (text, start, end) { area.setRangeText(text, start, end, "end"); },
    select: function (start, end) { area.selectionStart = start; area.selectionEnd = end; },
    focus: function () { area.focus(); },
  };
  let surface = textarea;

  // -- editing helpers ------------------------------------------------------
  function wrap(before, after, placeholder) {
    const at = surface.selection();
    const chosen = surface.value().slice(at.start, at.end) || placeholder;
    surface.replace(before + chosen + after, at.start, at.end);
    surface.select(at.start + before.length, at.start + before.length + chosen.length);
    surface.focus();
    changed();
  }

  function prefixLines(prefix) {
    const value = surface.value(), at = surface.selection();
    const start = value.lastIndexOf("\n", at.start - 1) + 1;
    let end = value.indexOf("\n", at.end);
    if (end === -1) end = value.length;
    const lines = value.slice(start, end).split("\n").map(function (line, i) {
      return (typeof prefix === "function" ? prefix(i) : prefix) + line;
    }).join("\n");
    surface.replace(lines, start, end);
    surface.select(start + lines.length, start + lines.length);
    surface.focus();
    changed();
  }

  function insert(text) {
    const at = surface.selection();
    surface.replace(text, at.start, at.end);
    surface.select(at.start + text.length, at.start + text.length);
    surface.focus();
    changed();
  }

  const actions = {
    heading: function () { prefixLines("## "); },
    bold: function () { wrap("**", "**", t("bold text")); },
    italic: function () { wrap("_", "_", t("italic text")); },
    link: function () { wrap("[", "](https://)", t("link text")); },
    wikilink: function () { wrap("[[", "]]", t("Page name")); },
    bullets: function () { prefixLines("- "); },
    numbers: function () { prefixLines(function (i) { return (i + 1) + ". "; }); },
    quote: function () { prefixLines("> "); },
    code: function () { wrap("`", "`", t("code")); },
    table: function () {
      const column = t("Column"), text = t("Text");
      insert("\n| " + column + " | " + column + " |\n|:--|:--|\n| " + text + " | " + text + " |\n");
    },
    image: function () { document.getElementById("image-file").click(); },
  };

  document.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () { actions[button.dataset.action](); });
  });
  const toolbar = document.getElementById("toolbar");
  if (toolbar && !area.readOnly) toolbar.hidden = false;  // readOnly: a reader watching

  area.addEventListener("keydown", function (event) {
    if (completion.open && completion.key(event)) return;
    if (!(event.ctrlKey || event.metaKey)) return;
    const key = event.key.toLowerCase();
    const map = { b: "bold", i: "italic", k: "link" };
    if (map[key]) { event.preventDefault(); actions[map[key]](); }
    if (key === "s") { event.preventDefault(); dirty = false; area.form.requestSubmit(); }
  });

  // -- images: pick, paste or drop ---------------------------------------------
  async function upload(file) {
    const form = new FormData();
    form.append("file", file, file.name || "pasted.png");
    say(t("Uploading %(name)s…", { name: file.name || t("image") }));
    try {
      const response = await fetch(root + "/attachments", {
        method: "POST", body: form, credentials: "same-origin",
        headers: { "X-CSRF-Token": token },
      });
      const body = await response.json();
      if (!response.ok) {
        say(t("Upload failed: %(reason)s", { reason: body.message || response.status }));
        return;
      }
      insert(body.markdown);
      say(t("Uploaded %(name)s.", { name: body.name }));
    } catch (err) {
      say(t("Upload failed (offline?)."));
    }
  }

  const picker = document.getElementById("image-file");
  if (picker) picker.addEventListener("change", function () {
    Array.from(picker.files).forEach(upload);
    picker.value = "";
  });
  area.addEventListener("paste", function (event) {
    const files = Array.from(event.clipboardData ? event.clipboardData.files : []);
    if (!files.length) return;
    event.preventDefault();
    files.forEach(upload);
  });
  area.addEventListener("dragover", function (event) { event.preventDefault(); });
  area.addEventListener("drop", function (event) {
    const files = Array.from(event.dataTransfer ? event.dataTransfer.files : []);
    if (!files.length) return;
    event.preventDefault();
    files.forEach(upload);
  });

  // -- [[ completion -------------------------------------------------------------
  const list = document.getElementById("link-suggestions");
  const completion = {
    open: false, items: [], active: 0,
    query: function () {
      const before = area.value.slice(0, area.selectionStart);
      const match = /\[\[([^\]\[\n|]{0,60})$/.exec(before);
      return match ? match[1] : null;
    },
    update: function () {
      const q = this.query();
      if (q === null || !list) { this.close(); return; }
      const needle = q.toLowerCase();
      this.items = pages.filter(function (p) { return p.toLowerCase().includes(needle); })
        .slice(0, 8);
      if (!this.items.length) { this.close(); return; }
      this.active = 0;
      this.render();
    },
    render: function () {
      list.innerHTML = "";
      this.items.forEach(function (name, i) {
        const li = document.createElement("li");
        li.id = "suggestion-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === completion.active ? "true" : "false");
        li.textContent = name;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); completion.pick(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      this.open = true;
      area.setAttribute("aria-activedescendant", "suggestion-" + this.active);
    },
    pick: function (i) {
      const q = this.query() || "";
      const start = area.selectionStart - q.length;
      area.setRangeText(this.items[i] + "]]", start, area.selectionStart, "end");
      this.close();
      area.focus();
      changed();
    },
    close: function () {
      if (list) list.hidden = true;
      this.open = false;
      area.removeAttribute("aria-activedescendant");
    },
    key: function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.active = (this.active + step + this.items.length) % this.items.length;
        this.render();
      } else if (event.key === "Enter" || event.key === "Tab") {
        this.pick(this.active);
      } else if (event.key === "Escape") {
        this.close();
      } else {
        return false;
      }
      event.preventDefault();
      return true;
    },
  };
  area.addEventListener("keyup", function (event) {
    if (["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].indexOf(event.key) === -1) {
      completion.update();
    }
  });
  // Close after a blur unless the focus came back meanwhile (a toolbar click
  // blurs the text for a moment; a stale timer must not close a fresh list).
  area.addEventListener("blur", function () {
    setTimeout(function () { if (document.activeElement !== area) completion.close(); }, 150);
  });

  // -- live preview -----------------------------------------------------------------
  let timer = null, sent = 0;
  function previewError(text) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = text;
    preview.replaceChildren(p);
  }
  async function render() {
    if (!preview) return;
    const ticket = ++sent;
    try {
      const response = await fetch(root + "/preview", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": token },
        body: new URLSearchParams({ markdown: area.value }),
      });
      if (ticket !== sent) return;  // a newer preview is on its way
      if (response.ok) preview.innerHTML = await response.text();
      else previewError(t("Preview unavailable (%(status)s).", { status: response.status }));
    } catch (err) {
      previewError(t("Preview unavailable (offline?)."));
    }
  }
  area.addEventListener("input", function () {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(render, 250);
  });
  // Save without leaving the page until the server has the text: a refusal
  // (too large, frozen, conflict) comes back as the editor with the reason, and
  // a lost connection or a server error keeps this editor and its text open.
  const saveError = document.getElementById("save-error");
  function saveFailed(text) {
    if (!saveError) return;
    saveError.textContent = text;
    saveError.hidden = false;
    saveError.scrollIntoView({ block: "nearest" });
  }
  area.form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const form = area.form, button = form.querySelector("button:not([type])");
    if (button) button.disabled = true;
    say(t("Saving…"));
    try {
      const response = await fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
      });
      if (response.ok) {
        dirty = false;
        window.location.assign((await response.json()).url);  // the page, with "Saved."
        return;
      }
      if (response.status === 409) {
        dirty = false;  // nothing was written: let the browser show the conflict page
        HTMLFormElement.prototype.submit.call(form);
        return;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const reason = page.querySelector("#save-error:not([hidden]), main .error, main .lead");
      saveFailed(reason && reason.textContent.trim()
        ? reason.textContent.trim()
        : t("Not saved (%(status)s). Your text is still here; try again.",
            { status: response.status }));
    } catch (err) {
      saveFailed(t("Not saved: the wiki could not be reached. Your text is still here; try again."));
    } finally {
      if (button) button.disabled = false;
      say("");
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !surface.live) { event.preventDefault(); event.returnValue = ""; }
  });
  window.cowikiEditor = {
    use: function (other) { surface = other || textarea; },
    isLive: function () { return surface.live; },
    // True while the live editor's text is shared (and kept by the wiki as typed).
    isShared: function () { return !!(surface.shared && surface.shared()); },
    // A draft into the shared text as its own changes: a promise, or null when
    // the text is this textarea's alone (then the draft simply replaces it).
    restoreDraft: function (draft) { return surface.restoreDraft ? surface.restoreDraft(draft) : null; },
    act: function (name) { actions[name](); },
    upload: upload,
    say: say,
  };
  render();
})();

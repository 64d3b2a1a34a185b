// @name completion in comment boxes (every textarea named "body", and any with
// data-mentions). Typing @ and the start of a name lists matching people from
// GET /api/v1/people?prefix= (the script tag's data-people); arrow keys and Enter
// or Tab pick one, Escape closes. A name with spaces goes in as @"Full Name", which
// wiki/mentions.py reads back. base.html loads this for people who are logged in.
(function () {
  "use strict";
  const script = document.currentScript;
  const endpoint = script && script.dataset.people;
  if (!endpoint) return;
  const list = document.createElement("ul");
  list.className = "mention-suggestions";
  list.id = "mention-suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", script.dataset.label || "People");
  list.hidden = true;
  let box = null, token = null, names = [], active = 0, asked = 0, timer = 0, picked = false;

  function isMentionBox(el) {
    return el && el.tagName === "TEXTAREA" && (el.name === "body" || el.hasAttribute("data-mentions"));
  }

  // The "@..." being typed just before the caret: {start, prefix}, or null.
  function tokenAt(el) {
    const before = el.value.slice(0, el.selectionStart);
    const at = before.lastIndexOf("@");
    if (at < 0 || el.selectionStart !== el.selectionEnd) return null;
    if (at > 0 && /[\p{L}\p{N}_@]/u.test(before[at - 1])) return null; // an e-mail address
    const typed = before.slice(at + 1);
    if (typed.length > 40 || /[\n@]/.test(typed) || (typed.match(/ /g) || []).length > 3) return null;
    return { start: at, prefix: typed.replace(/^"/, "") };
  }

  function close() {
    list.hidden = true;
    names = [];
    if (box) { box.removeAttribute("aria-activedescendant"); box.setAttribute("aria-expanded", "false"); }
  }

  function show() {
    list.replaceChildren();
    if (!names.length || !box) { close(); return; }
    names.forEach(function (name, i) {
      const item = document.createElement("li");
      item.id = "mention-option-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", i === active ? "true" : "false");
      item.textContent = name;
      item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(i); });
      list.appendChild(item);
    });
    const rect = box.getBoundingClientRect();
    if (!list.isConnected) document.body.appendChild(list);
    list.hidden = false;
    // Below the box, or above it when the window has no room under it.
    const above = rect.bottom + list.offsetHeight + 4 > window.innerHeight && rect.top > list.offsetHeight;
    list.style.left = (rect.left + window.scrollX) + "px";
    list.style.top = (window.scrollY + (above ? rect.top - list.offsetHeight - 2 : rect.bottom + 2)) + "px";
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-expanded", "true");
    box.setAttribute("aria-activedescendant", "mention-option-" + active);
  }

  function pick(i) {
    if (!box || !token || !names[i]) return;
    const name = names[i];
    const written = (/\s/.test(name) ? '@"' + name + '"' : "@" + name) + " ";
    const value = box.value, end = box.selectionStart;
    box.value = value.slice(0, token.start) + written + value.slice(end);
    const caret = token.start + written.length;
    box.setSelectionRange(caret, caret);
    close();
    picked = true;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }

  function ask(el) {
    token = tokenAt(el);
    if (!token) { close(); return; }
    box = el;
    const mine = ++asked;
    fetch(endpoint + "?prefix=" + encodeURIComponent(token.prefix), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : { people: [] };
    }).then(function (data) {
      if (mine !== asked) return; // a later keystroke asked again
      names = Array.isArray(data.people) ? data.people : [];
      active = 0;
      show();
    }).catch(close);
  }

  document.addEventListener("input", function (event) {
    if (!isMentionBox(event.target)) return;
    if (picked) { picked = false; return; } // our own insertion, not typing
    const el = event.target;
    clearTimeout(timer);
    timer = setTimeout(function () { ask(el); }, 120);
  });

  document.addEventListener("keydown", function (event) {
    if (list.hidden || event.target !== box) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : names.length - 1)) % names.length;
      show();
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("focusout", function (event) {
    if (event.target === box) setTimeout(close, 150);
  });
})();

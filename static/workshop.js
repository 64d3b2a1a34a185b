// The workshop around the editor: presence heartbeats, autosaved drafts and the
// "restore your draft" offer. On a page view it keeps "who is editing" fresh.
// Everything here is optional: forms and pages work without JavaScript.
(function () {
  "use strict";
  const HEARTBEAT_MS = 10000;
  const AUTOSAVE_MS = 4000;
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.content : "";
  // The wiki's own path: "" alone, "/w/<slug>" among many (cowiki --root).
  const root = (document.querySelector('meta[name="cowiki-root"]') || {}).content || "";
  const form = document.getElementById("editor-form");
  const area = document.getElementById("markdown");
  const shown = document.getElementById("presence");
  const t = window.cowikiText || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (m, key) { return values[key]; });
  };

  function api(path, suffix) {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    return root + "/api/v1/pages/" + encoded + "/" + suffix;
  }

  function send(url, method, data, keepalive) {
    return fetch(url, {
      method: method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: data === undefined ? undefined : JSON.stringify(data),
      credentials: "same-origin",
      keepalive: !!keepalive,
    });
  }

  function showEditors(box, editors, warnDirty) {
    box.textContent = "";
    if (!editors.length) { box.hidden = true; return; }
    editors.forEach(function (e, i) {
      const name = document.createElement("strong");
      name.textContent = e.name;
      box.appendChild(name);
      if (e.dirty) box.appendChild(document.createTextNode(t(" (unsaved changes)")));
      if (i < editors.length - 1) box.appendChild(document.createTextNode(", "));
    });
    box.appendChild(document.createTextNode(editors.length === 1
      ? t(" is editing this page right now.") : t(" are editing this page right now.")));
    const dirty = editors.some(function (e) { return e.dirty; });
    if (warnDirty && dirty) {
      box.appendChild(document.createTextNode(
        t(" They have unsaved changes: agree who edits what; overlapping saves will conflict.")));
    }
    box.classList.toggle("warn", warnDirty && dirty);
    box.hidden = false;
  }

  function watchPage(box) {
    const path = box.dataset.page;
    setInterval(async function () {
      if (document.hidden) return;
      try {
        const response = await fetch(api(path, "presence"), { credentials: "same-origin" });
        if (response.ok) showEditors(box, (await response.json()).editors, false);
      } catch (err) { /* offline: keep the last list */ }
    }, HEARTBEAT_MS);
  }

  function offerDraft(draft, editor) {
    const bar = document.createElement("div");
    bar.className = "notice draft-offer";
    bar.setAttribute("role", "status");
    const when = new Date(draft.saved * 1000).toLocaleString();
    bar.appendChild(document.createTextNode(t("Restore your unsaved draft from %(when)s? ", { when: when })));
    const restore = document.createElement("button");
    restore.type = "button"; restore.className = "button small"; restore.textContent = t("Restore draft");
    const discard = document.createElement("button");
    discard.type = "button"; discard.className = "small"; discard.textContent = t("Discard it");
    bar.append(restore, " ", discard);
    form.parentNode.insertBefore(bar, form);
    restore.addEventListener("click", function () {
      const shared = window.cowikiEditor && window.cowikiEditor.restoreDraft(draft);
      if (shared) { intoSharedText(shared); return; }
      area.value = draft.markdown;
      if (draft.base_revision) form.elements.base_revision.value = draft.base_revision;
      area.dispatchEvent(new Event("input"));
      editor.saved = draft.markdown;
      editor.pending = false;
      bar.remove();
    });
    // Live: the draft's changes join the others' text; the draft is then spent.
    function intoSharedText(done) {
      restore.disabled = discard.disabled = true;
      done.then(function (merged) {
        send(editor.draftUrl, "DELETE");
        editor.saved = area.value;
        editor.pending = false;
        bar.textContent = merged.overlapped
          ? t("Your draft is in the shared text. Where you and others changed the same words, both versions are there now: tidy them up together.")
          : t("Your draft is in the shared text, beside what the others typed.");
      }, function () {
        restore.disabled = discard.disabled = false;
        bar.firstChild.textContent = t("Your draft could not be added to the shared text just now. It is kept: try again. ");
      });
    }
    discard.addEventListener("click", function () {
      send(editor.draftUrl, "DELETE");
      editor.pending = false;
      bar.remove();
    });
  }

  function startEditor() {
    const path = decodeURIComponent(new URL(form.action).pathname.replace(/^\/p\//, "")
      .replace(/\/edit$/, ""));
    const initial = area.value;
    const editor = { saved: initial, pending: true, submitting: false,
      draftUrl: api(path, "draft") };
    const box = document.createElement("p");
    box.className = "presence"; box.id = "presence"; box.hidden = true;
    box.setAttribute("aria-live", "polite");
    form.parentNode.insertBefore(box, form);

    async function heartbeat() {
      try {
        const live = window.cowikiEditor && window.cowikiEditor.isLive();  // shared as typed
        const response = await send(api(path, "presence"), "POST",
                                    { dirty: !live && area.value !== initial });
        if (response.ok) showEditors(box, (await response.json()).editors, true);
      } catch (err) { /* offline: try again next beat */ }
    }

    function saveDraft(keepalive) {
      if (editor.pending || editor.submitting || area.value === editor.saved) return;
      // Shared live text is kept by the wiki as it is typed: a draft of it would
      // only come back later as a stale copy of everyone's text.
      if (window.cowikiEditor && window.cowikiEditor.isShared()) return;
      editor.saved = area.value;
      send(editor.draftUrl, "PUT",
        { markdown: area.value, base_revision: form.elements.base_revision.value }, keepalive)
        .catch(function () { editor.saved = null; });
    }

    fetch(editor.draftUrl, { credentials: "same-origin" }).then(async function (response) {
      const draft = response.status === 200 ? await response.json() : null;
      if (draft && draft.markdown !== area.value) offerDraft(draft, editor);
      else editor.pending = false;
    }).catch(function () { editor.pending = false; });

    heartbeat();
    setInterval(heartbeat, HEARTBEAT_MS);
    setInterval(function () { saveDraft(false); }, AUTOSAVE_MS);
    form.addEventListener("submit", function () { editor.submitting = true; });
    window.addEventListener("pagehide", function () {
      saveDraft(true);
      send(api(path, "presence"), "POST", { leaving: true }, true);
    });
  }

  if (form && area) startEditor();
  else if (shown && shown.dataset.page) watchPage(shown);
})();

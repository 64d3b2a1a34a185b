// Live co-editing: when the wiki hands out a ticket for this page, the textarea
// editor (static/editor.js) gives way to CodeMirror bound to the page's shared
// Yjs text, so everyone editing the page sees each other type, with names on
// their cursors. The textarea stays in the form, hidden, holding the same text:
// when the live connection cannot be made, or the live session is replaced, the
// classic editor comes back with that text and saves it with its base revision
// (merged three-way with whatever was saved meanwhile). Nothing typed is lost.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { EditorState, Compartment, ChangeSet } from "@codemirror/state";
import {
  EditorView, keymap, drawSelection, dropCursor, highlightSpecialChars,
} from "@codemirror/view";
import { defaultKeymap } from "@codemirror/commands";
import {
  markdownLanguage, insertNewlineContinueMarkup, deleteMarkupBackward,
} from "@codemirror/lang-markdown";
import { LanguageSupport, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";

const CONNECT_MS = 5000;      // no shared text by then: keep the classic editor
const RETRY_MS = [250, 500, 1000, 2000, 4000];
const CLOSE = { deleted: 4404, renamed: 4301, replaced: 4409, refused: 4403 };

const liveTexts = readJson("live-texts");

function readJson(id) {
  const block = document.getElementById(id);
  try { return JSON.parse(block ? block.textContent : "{}"); } catch (err) { return {}; }
}

// A visible text in the interface language (edit.html passes the translations).
function t(text, values) {
  const translated = liveTexts[text] || text;
  return translated.replace(/%\((\w+)\)s/g, function (match, key) {
    return values && key in values ? String(values[key]) : match;
  });
}

function encodePath(path) { return path.split("/").map(encodeURIComponent).join("/"); }
// The wiki's own path: "" alone, "/w/<slug>" among many (cowiki --root).
const root = (document.querySelector('meta[name="cowiki-root"]') || {}).content || "";
function api(path, suffix) { return root + "/api/v1/pages/" + encodePath(path) + "/" + suffix; }
function sleep(ms) { return new Promise(function (done) { setTimeout(done, ms); }); }

// The ticket for this page, or null when live editing is off for it (or the
// page is gone); throws when the wiki cannot answer right now.
async function fetchTicket(path) {
  const response = await fetch(api(path, "live"), {
    credentials: "same-origin", headers: { Accept: "application/json" },
  });
  if (response.status === 404 || response.status === 401 || response.status === 403) return null;
  if (!response.ok) throw new Error("ticket: " + response.status);
  const body = await response.json();
  return body && body.ticket ? body : null;
}

// Resolves true once the first sync with the room is done, false on a close or
// when `ms` pass first.
function firstSync(provider, ms) {
  return new Promise(function (done) {
    const timer = setTimeout(function () { done(false); }, ms);
    provider.on("sync", function (synced) { if (synced) { clearTimeout(timer); done(true); } });
    provider.on("closed", function () { clearTimeout(timer); done(false); });
  });
}

// The smallest single replacement that turns `before` into `after`, never
// splitting a UTF-16 surrogate pair (an emoji stays whole).
function difference(before, after) {
  let start = 0;
  const shortest = Math.min(before.length, after.length);
  while (start < shortest && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  if (start > 0 && /[\uD800-\uDBFF]/.test(before[start - 1])) start--;
  let tail = 0;
  while (tail < shortest - start &&
         before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) {
    tail++;
  }
  if (tail > 0 && /[\uDC00-\uDFFF]/.test(before[before.length - tail])) tail--;
  return { from: start, to: before.length - tail, insert: after.slice(start, after.length - tail) };
}

function userOf(ticket) {
  const colour = /^#[0-9a-f]{6}$/i.test(ticket.user.colour || "") ? ticket.user.colour : "#1f5f99";
  return { name: ticket.user.name, color: colour, colorLight: colour + "33" };
}

function lockReason(ticket) {
  if (ticket.frozen) return t("Read only: this page is frozen.");
  if (ticket.mode !== "write") return t("Read only: you can watch this page, not edit it.");
  return "";
}

const theme = EditorView.theme({
  "&": {
    border: "1px solid var(--line)", borderRadius: "6px",
    background: "var(--panel)", color: "var(--fg)", fontSize: ".95rem",
  },
  "&.cm-focused": { outline: "3px solid var(--focus)", outlineOffset: "2px" },
  ".cm-scroller": {
    fontFamily: "var(--mono)", lineHeight: "1.5", minHeight: "62vh", maxHeight: "75vh",
  },
  ".cm-content": { padding: "1.3em 0 .5rem" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  // On a phone the preview stacks below: leave it room on the first screen.
  "@media (max-width: 800px)": { ".cm-scroller": { minHeight: "40vh", maxHeight: "55vh" } },
  // Names always beside the other people's cursors, not only on hover.
  "& .cm-ySelectionInfo": {
    opacity: 1, top: "-1.25em", fontFamily: "var(--sans)", fontSize: ".75rem",
    lineHeight: "1.2", padding: "0 .25em", borderRadius: "3px", color: "#fff",
  },
});

async function start() {
  const form = document.getElementById("editor-form");
  const area = document.getElementById("markdown");
  const editor = window.cowikiEditor;
  const path = form && form.dataset.page;
  if (!area || !editor || !path || !window.WebSocket || !form.elements.base_revision.value) return;
  const status = document.getElementById("live-status");
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const typedBefore = area.value;

  function show(text) { status.textContent = text; status.hidden = !text; }

  let ticket;
  try { ticket = await fetchTicket(path); } catch (err) { ticket = null; }
  if (!ticket) return;  // live editing is off here: the classic editor it is
  show(t("Connecting to live editing…"));

  const base = ticket.revision || form.elements.base_revision.value;
  let room = ticket.room;  // null when nobody had the page open yet: learnt after joining
  const doc = new Y.Doc();
  const text = doc.getText("markdown");
  // The ticket names the socket (<root>/live/socket/<page>); the provider adds the page.
  const socketPath = ticket.socket.slice(0, ticket.socket.indexOf("/live/socket/")) + "/live/socket";
  const socket = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + socketPath;
  const provider = new WebsocketProvider(socket, encodePath(path), doc, {
    params: { ticket: ticket.ticket }, disableBc: true, maxBackoffTime: 4000,
    shouldReconnect: function () { return false; },  // each reconnect fetches a new ticket
  });
  provider.awareness.setLocalStateField("user", userOf(ticket));

  const synced = await firstSync(provider, CONNECT_MS);
  if (!synced || area.value !== typedBefore) {
    // No live room in time, or the person started typing (or restored a draft)
    // meanwhile: stay classic, and say which.
    provider.destroy();
    doc.destroy();
    show(area.readOnly ? t("Live editing is not available right now. This is the page as last saved.")
      : synced ? t("You changed the text before live editing was ready, so you edit on your own: saving merges your text with the others' changes.")
        : t("Live editing is not available right now: you edit on your own, and saving merges your text with other changes."));
    return;
  }
  if (!room) {
    try { room = ((await fetchTicket(path)) || {}).room || null; } catch (err) { room = null; }
  }

  // -- the live editor in place of the textarea ---------------------------------
  const locked = new Compartment();
  const pages = JSON.parse(area.dataset.pages || "[]");
  const label = form.querySelector('label[for="markdown"]');
  let mirroring = false;
  const restoring = new Set();  // what was typed since each restore's text was sent

  function lock(reason) {
    return reason ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : [];
  }

  function mirror() {  // the hidden textarea follows, for the preview, drafts and a fallback
    mirroring = true;
    area.value = view.state.doc.toString();
    area.dispatchEvent(new Event("input", { bubbles: true }));
    mirroring = false;
  }

  function pageNames(context) {
    const typed = context.matchBefore(/\[\[[^\][\n|]{0,60}/);
    if (!typed) return null;
    return {
      from: typed.from + 2,
      options: pages.map(function (name) { return { label: name, apply: name + "]]" }; }),
      validFor: /^[^\][\n|]*$/,
    };
  }

  function uploadFiles(list) {
    const files = Array.from(list || []);
    if (!files.length || view.state.readOnly) return false;
    files.forEach(editor.upload);
    return true;
  }

  const view = new EditorView({
    state: EditorState.create({
      doc: text.toString(),
      extensions: [
        highlightSpecialChars(), drawSelection(), dropCursor(), EditorView.lineWrapping,
        keymap.of([
          { key: "Mod-b", run: function () { editor.act("bold"); return true; } },
          { key: "Mod-i", run: function () { editor.act("italic"); return true; } },
          { key: "Mod-k", run: function () { editor.act("link"); return true; } },
          { key: "Mod-s", preventDefault: true, run: function () { saveVersion(); return true; } },
          { key: "Enter", run: insertNewlineContinueMarkup },
          { key: "Backspace", run: deleteMarkupBackward },
          ...completionKeymap, ...yUndoManagerKeymap, ...defaultKeymap,
        ]),
        // Markdown (GFM) without the embedded HTML, CSS and JavaScript languages.
        new LanguageSupport(markdownLanguage), syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        autocompletion({ override: [pageNames] }),
        yCollab(text, provider.awareness, { undoManager: new Y.UndoManager(text) }),
        locked.of(lock(lockReason(ticket))),
        EditorView.updateListener.of(function (update) {
          if (!update.docChanged) return;
          restoring.forEach(function (typed) { typed.changes = typed.changes.compose(update.changes); });
          mirror();
        }),
        EditorView.domEventHandlers({
          paste: function (event) {
            if (!uploadFiles(event.clipboardData && event.clipboardData.files)) return false;
            event.preventDefault();
            return true;
          },
          drop: function (event) {
            if (!uploadFiles(event.dataTransfer && event.dataTransfer.files)) return false;
            event.preventDefault();
            return true;
          },
        }),
        EditorView.contentAttributes.of({
          "aria-label": label ? label.textContent : "Markdown", spellcheck: "true",
        }),
        theme,
      ],
    }),
  });
  view.dom.id = "live-editor";
  area.after(view.dom);

  // Someone else changed the textarea: into the shared text. (A restored draft
  // goes through restoreDraft below instead, as its own changes.)
  area.addEventListener("input", function () {
    if (mirroring || view.state.readOnly) return;
    const now = view.state.doc.toString();
    if (area.value !== now) view.dispatch({ changes: difference(now, area.value) });
  });

  editor.use({
    live: true,
    value: function () { return view.state.doc.toString(); },
    selection: function () {
      const range = view.state.selection.main;
      return { start: range.from, end: range.to };
    },
    replace: function (insert, from, to) {
      if (!view.state.readOnly) view.dispatch({ changes: { from: from, to: to, insert: insert } });
    },
    select: function (anchor, head) {
      const length = view.state.doc.length;
      view.dispatch({ selection: { anchor: Math.min(anchor, length), head: Math.min(head, length) } });
    },
    focus: function () { view.focus(); },
    shared: function () { return !stopped && provider.wsconnected && provider.synced; },
    restoreDraft: restoreDraft,
  });

  // A restored draft (static/workshop.js) goes into the shared text as the changes
  // it made since its revision, merged by the wiki; never in place of what others
  // typed. Typing during the round trip is mapped over, so it stays too.
  async function restoreDraft() {
    if (stopped || view.state.readOnly) throw new Error("read only");
    const sent = view.state.doc.toString();
    const typed = { changes: ChangeSet.empty(sent.length) };
    restoring.add(typed);
    let answer;
    try {
      const response = await fetch(api(path, "draft/merge"), {
        method: "POST", credentials: "same-origin", body: JSON.stringify({ markdown: sent }),
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      });
      if (!response.ok) throw new Error("merge: " + response.status);
      answer = await response.json();
    } finally {
      restoring.delete(typed);
    }
    if (stopped || view.state.readOnly) throw new Error("live editing ended");
    const changes = answer.changes.map(function (change) {
      const from = typed.changes.mapPos(change[0], 1);
      return { from: from, to: Math.max(from, typed.changes.mapPos(change[1], -1)), insert: change[2] };
    });
    if (changes.length) view.dispatch({ changes: changes });
    return { overlapped: !!answer.overlapped };
  }

  // The save row: "Save version" and its answer in place of the summary and Save.
  const row = form.querySelector(".save-row");
  const classicSave = row.querySelectorAll(":scope > :not(a)");
  const saveButton = document.createElement("button");
  saveButton.type = "button"; saveButton.className = "button"; saveButton.id = "live-save";
  saveButton.textContent = t("Save version");
  const saved = document.createElement("span");
  saved.className = "editor-status"; saved.id = "live-saved";
  saved.setAttribute("role", "status"); saved.setAttribute("aria-live", "polite");
  const leave = row.querySelector(":scope > a");
  const cancelText = leave ? leave.textContent : "";
  row.insertBefore(saved, leave); row.insertBefore(saveButton, saved);
  const toolbar = document.getElementById("toolbar");
  area.hidden = true;
  classicSave.forEach(function (el) { el.style.display = "none"; });
  // Live typing is shared at once: a suggestion is for the classic editor's text.
  const suggestRow = form.querySelector(".suggest-row");
  if (suggestRow) suggestRow.style.display = "none";
  if (leave) leave.textContent = t("Close");  // nothing to cancel: the text is shared already
  mirror();
  applyLock(ticket);

  function applyLock(current) {
    const reason = lockReason(current);
    view.dispatch({ effects: locked.reconfigure(lock(reason)) });
    if (toolbar) toolbar.style.display = reason ? "none" : "";  // (its CSS outranks [hidden])
    saveButton.style.display = reason ? "none" : "";
    show(reason || t("Live: everyone editing this page sees your changes as you type."));
  }

  // -- the classic editor back, with the text ---------------------------------------
  let stopped = false;
  function stop() {  // no more live connection from this page
    if (!stopped) provider.destroy();
    stopped = true;
  }

  function toClassic(note) {
    stop();
    const kept = view.state.doc.toString();
    view.destroy();
    editor.use(null);
    area.value = kept;
    area.hidden = false;
    classicSave.forEach(function (el) { el.style.display = ""; });
    if (suggestRow) suggestRow.style.display = "";
    saveButton.remove();
    saved.remove();
    if (leave) leave.textContent = cancelText;
    if (toolbar) toolbar.style.display = "";
    show(note);
  }

  async function mergeClassically() {
    stop();
    const mine = view.state.doc.toString();
    try {  // everything already saved: a fresh live session instead of a save
      const response = await fetch(root + "/api/v1/pages/" + encodePath(path), { credentials: "same-origin" });
      if (response.ok && (await response.json()).markdown === mine) { location.reload(); return; }
    } catch (err) { /* save below: the classic form keeps the text if that fails too */ }
    toClassic(t("The live session was restarted. Your text is being saved and merged with the saved page…"));
    form.elements.base_revision.value = base;
    form.requestSubmit();
  }

  // -- connection state, reconnects with a fresh ticket ---------------------------------
  let failures = 0;
  provider.on("sync", function (synced) { if (synced) failures = 0; });
  provider.on("status", function (event) {
    if (stopped) return;
    if (event.status === "connected") applyLock(ticket);
    else if (event.status === "disconnected") show(t("Reconnecting… your changes are kept and sent when the connection is back."));
  });
  provider.on("closed", function (event) {
    if (stopped) return;
    if (event.code === CLOSE.deleted) {
      toClassic(t("This page was deleted while you were editing. Your text is still here; saving it makes the page again."));
    } else if (event.code === CLOSE.renamed && event.reason) {
      stop();  // the room saved everything before it closed
      show(t("This page was renamed to %(name)s. Opening it there…", { name: event.reason }));
      location.assign("/p/" + encodePath(event.reason) + "/edit");
    } else if (event.code === CLOSE.refused) {
      toClassic(t("Live editing is not allowed for your account."));
    } else {
      reconnect();
    }
  });

  async function reconnect() {
    while (!stopped) {
      await sleep(RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]);
      failures++;
      let fresh;
      try {
        fresh = await fetchTicket(path);
      } catch (err) {
        show(t("Offline: your changes are kept in this browser and sent when you are back online."));
        continue;
      }
      // Another room (or none: it closed after saving everything) would not know
      // this browser's copy of the text: merge it the classic way instead.
      if (!fresh || (room && fresh.room !== room)) { mergeClassically(); return; }
      room = room || fresh.room;
      ticket = fresh;
      provider.params = { ticket: fresh.ticket };
      provider.awareness.setLocalStateField("user", userOf(fresh));
      provider.connect();
      return;
    }
  }
  window.addEventListener("offline", function () {
    if (!stopped) show(t("Offline: your changes are kept in this browser and sent when you are back online."));
  });

  // -- "Save version": fold the session into commits now -----------------------------
  async function saveVersion() {
    if (stopped || saveButton.style.display === "none" || saveButton.disabled) return;
    saveButton.disabled = true;
    saved.textContent = t("Saving…");
    try {
      const response = await fetch(api(path, "live/save"), {
        method: "POST", credentials: "same-origin", body: "{}",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      });
      if (response.ok) saved.textContent = t("Saved as a version.");
      else if (response.status === 503) saved.textContent = t("Not saved as a version: live editing is not reachable right now. Your text is kept; try again soon.");
      else saved.textContent = t("Not saved as a version (%(status)s). Your text is kept; try again.", { status: response.status });
    } catch (err) {
      saved.textContent = t("Not saved as a version: the wiki could not be reached. Your text is kept; try again.");
    } finally {
      saveButton.disabled = false;
    }
  }
  saveButton.addEventListener("click", saveVersion);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

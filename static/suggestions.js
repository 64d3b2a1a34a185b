// The editor's Suggest button: sends the editor's text as a suggestion instead of saving it.
// The form's own submit handler (editor.js) always posts to the save address, so this one
// runs first (capture) and posts to the button's formaction. The live editor keeps the
// form's textarea in sync, so FormData carries the same text in both editors. Without
// JavaScript the button submits the form to its formaction by itself.
(function () {
  "use strict";
  let leaving = false;

  function failed(button, text) {
    const box = document.getElementById("save-error");
    if (!box) return;
    box.textContent = text || button.dataset.failed;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  window.addEventListener("submit", async function (event) {
    const button = event.submitter;
    if (!button || button.id !== "suggest") return;
    event.preventDefault();
    event.stopImmediatePropagation();
    const form = button.form;
    button.disabled = true;
    const status = document.getElementById("editor-status");
    if (status) status.textContent = button.dataset.busy;
    try {
      const response = await fetch(button.formAction, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
      });
      if (response.ok) {
        leaving = true;  // the text went into the suggestion: nothing unsaved is lost
        window.location.assign((await response.json()).url);
        return;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const reason = page.querySelector("#save-error:not([hidden]), main .error, main .lead");
      failed(button, reason && reason.textContent.trim());
    } catch (err) {
      failed(button);
    } finally {
      button.disabled = false;
      if (status) status.textContent = "";
    }
  }, true);

  // editor.js asks before leaving with unsaved text; after a suggestion it is not lost.
  window.addEventListener("beforeunload", function (event) {
    if (leaving) event.stopImmediatePropagation();
  }, true);
})();

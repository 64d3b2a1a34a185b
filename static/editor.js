// Live preview for the editor: posts the Markdown to /preview (the same sanitised
// renderer as the page) a moment after typing stops. The form works without it.
(function () {
  "use strict";
  const area = document.getElementById("markdown");
  const preview = document.getElementById("preview");
  if (!area || !preview) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  let timer = null;
  let sent = 0;
  let dirty = false;

  async function render() {
    const ticket = ++sent;
    const body = new URLSearchParams({ markdown: area.value });
    try {
      const response = await fetch("/preview", {
        method: "POST",
        headers: { "X-CSRF-Token": token },
        body: body,
        credentials: "same-origin",
      });
      if (ticket !== sent) return; // a newer preview is on its way
      preview.innerHTML = response.ok ? await response.text()
        : '<p class="error">Preview unavailable (' + response.status + ").</p>";
    } catch (err) {
      preview.innerHTML = '<p class="error">Preview unavailable (offline?).</p>';
    }
  }

  area.addEventListener("input", function () {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(render, 250);
  });
  area.form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  render();
})();

// Copy buttons: <button data-copy="ID"> copies the value (or text) of element ID.
// The buttons stay hidden without JavaScript; the text can still be selected by hand.
(function () {
  "use strict";
  const t = window.cowikiText || function (text) { return text; };
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async function () {
      const text = "value" in source ? source.value : source.textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = t("Copied");
      } catch (err) {
        source.select && source.select();
        button.textContent = t("Press Ctrl+C");
      }
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();

// Fields with data-select-on-focus select their whole value when focused (invite links),
// in place of an inline onfocus handler, which the Content-Security-Policy forbids.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
})();

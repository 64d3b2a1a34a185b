// Forms that do something hard to undo in one click carry data-confirm="question"
// (already in the interface language); this asks before they are sent. Without
// JavaScript the form is sent as it is; restoring a version goes through a
// confirmation page instead.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    const question = form.getAttribute("data-confirm") ||
      (window.cowikiText ? window.cowikiText("Are you sure?") : "Are you sure?");
    if (!window.confirm(question)) event.preventDefault();
  });
})();

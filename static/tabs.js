// On a phone the page tabs are one line that scrolls sideways (cowiki.css): when the
// current tab is past the right edge, the line scrolls so it shows. Only the tab bar
// scrolls, never the page.
(function () {
  "use strict";
  const bar = document.querySelector(".tabs");
  const current = bar && bar.querySelector('[aria-current="page"]');
  if (!current) return;
  const past = current.getBoundingClientRect().right - bar.getBoundingClientRect().right;
  if (past > 0) bar.scrollLeft += past + 8;
})();

// The control room reloads its live part every data-refresh seconds (15): it fetches
// the same page and swaps #room-live, unless someone is using a form in it or the tab
// is hidden. Without JavaScript the "Refresh now" link does the same.
(function () {
  "use strict";
  const live = document.getElementById("room-live");
  if (!live || !window.fetch || !window.DOMParser) return;
  const seconds = Math.max(5, parseInt(live.dataset.refresh, 10) || 15);

  function busy() {
    return document.hidden || live.contains(document.activeElement);
  }

  function refresh() {
    if (busy()) return;
    fetch(window.location.pathname, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text === null || busy()) return;
        const fresh = new DOMParser().parseFromString(text, "text/html").getElementById("room-live");
        if (fresh) live.replaceChildren.apply(live, Array.from(fresh.childNodes));
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  window.setInterval(refresh, seconds * 1000);
})();

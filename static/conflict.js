// Conflict view: pick mine / theirs / both per conflicting part; the text to save
// is rebuilt from the merge's segments. Without JavaScript the text (with every
// part resolved to the user's version) can still be edited and saved by hand.
(function () {
  "use strict";
  const data = document.getElementById("merge-segments");
  const area = document.getElementById("markdown");
  if (!data || !area) return;
  const t = window.cowikiText || function (text) { return text; };
  const segments = JSON.parse(data.textContent);
  let lastBuilt = area.value;
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  function pickOf(index) {
    const checked = document.querySelector('input[name="pick-' + index + '"]:checked');
    return checked ? checked.value : "ours";
  }

  function build() {
    let hunk = 0;
    return segments.map(function (segment) {
      if (typeof segment === "string") return segment;
      const pick = pickOf(hunk++);
      const parts = pick === "theirs" ? [segment.theirs]
        : pick === "both" ? [segment.ours, segment.theirs] : [segment.ours];
      return parts.filter(function (p) { return p !== ""; })
        .map(function (p) { return p + "\n"; }).join("");
    }).join("");
  }

  document.querySelectorAll(".picks input").forEach(function (input) {
    input.addEventListener("change", function () {
      if (area.value !== lastBuilt &&
          !window.confirm(t("Replace your manual edits with the versions you picked?"))) return;
      area.value = lastBuilt = build();
      area.dispatchEvent(new Event("input"));
    });
  });
})();

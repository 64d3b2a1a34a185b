// Texts for the scripts in the interface language. base.html renders the texts
// scripts show, translated, as JSON in #i18n-messages; cowikiText(text, values)
// looks one up by its English text and fills in %(name)s placeholders. A text
// that is not there reads as the English it was looked up by.
(function () {
  "use strict";
  let texts = null;

  function load() {
    const block = document.getElementById("i18n-messages");
    try { return JSON.parse(block ? block.textContent : "{}"); } catch (err) { return {}; }
  }

  window.cowikiText = function (text, values) {
    if (texts === null) texts = load();
    return (texts[text] || text).replace(/%\((\w+)\)s/g, function (match, key) {
      return values && key in values ? String(values[key]) : match;
    });
  };
})();

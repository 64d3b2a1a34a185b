// Tells the server the reader's time zone (a `tz` cookie), so the times it writes
// into pages are local and named ("14:07 CET"); wiki/views/templating.py checks it
// against the zone database. Pages before the first one that sends it use the default.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) return;
  var value = encodeURIComponent(zone);
  if (document.cookie.split("; ").indexOf("tz=" + value) !== -1) return;
  document.cookie = "tz=" + value + "; path=/; max-age=31536000; samesite=lax";
})();

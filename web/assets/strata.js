// Strata console: keeps a page current without reloading it. Every `data-refresh` seconds the
// page fetches itself and swaps in the new <main> when it changed; it pauses while a form field
// has focus or the tab is hidden, and marks the page stale when the server cannot be reached.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) { return; }
  var secs = parseInt(main.getAttribute("data-refresh") || "0", 10);
  var live = document.getElementById("live");
  function mark(ok) {
    document.body.classList.toggle("stale", !ok);
    if (live) { live.textContent = ok ? "live" : "stale: server unreachable"; }
  }
  if (!secs) { if (live) { live.textContent = ""; } return; }
  var busy = false;
  function refresh() {
    var a = document.activeElement;
    if (busy || document.hidden || (a && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(a.tagName))) { return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Strata-Refresh": "1" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("main");
        if (fresh && fresh.innerHTML !== main.innerHTML) { main.innerHTML = fresh.innerHTML; }
        mark(true);
      })
      .catch(function () { mark(false); })
      .then(function () { busy = false; });
  }
  mark(true);
  setInterval(refresh, secs * 1000);
})();

/* Nurture: page views of known leads. A click from a tracked mail carries
   ?nt=<signed lead reference>; this script keeps it on the site's own
   domain, removes it from the address bar, and reports each page view with
   it. Without a reference it does nothing. nurture.view() reports a view
   (for pages that change without loading); nurture.forget() drops it. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.JSON || !window.URL) return;
  var endpoint = me.src.replace(/\/t\.js(?:[?#].*)?$/, "/t/view");
  var key = "nurture_nt", valid = /^[A-Za-z0-9_-]{1,64}$/;

  function stored() {
    try {
      var v = window.localStorage.getItem(key);
      if (v && valid.test(v)) return v;
    } catch (e) {}
    var m = document.cookie.match(/(?:^|;\s*)nurture_nt=([A-Za-z0-9_-]{1,64})/);
    return m ? m[1] : "";
  }
  function keep(v) {
    try { window.localStorage.setItem(key, v); return; } catch (e) {}
    document.cookie = key + "=" + v + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
  function forget() {
    try { window.localStorage.removeItem(key); } catch (e) {}
    document.cookie = key + "=; path=/; max-age=0";
  }
  function id() {
    var b = new Uint8Array(12), s = "";
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (var i = 0; i < b.length; i++) b[i] = Math.random() * 256;
    for (var j = 0; j < b.length; j++) s += ("0" + b[j].toString(16)).slice(-2);
    return s;
  }

  var here = new URL(location.href);
  var nt = here.searchParams.get("nt");
  if (nt !== null) {
    if (valid.test(nt)) keep(nt);
    here.searchParams.delete("nt");
    try { history.replaceState(history.state, "", here.pathname + here.search + here.hash); } catch (e) {}
  }

  function view() {
    var t = stored();
    if (!t) return;
    var body = JSON.stringify({ nt: t, url: location.href, id: id() });
    if (window.fetch) {
      // text/plain keeps it a simple request: no preflight.
      fetch(endpoint, { method: "POST", body: body, keepalive: true, mode: "cors", credentials: "omit",
        headers: { "Content-Type": "text/plain" } })
        .then(function (r) { if (r.status === 404 || r.status === 410) forget(); })
        .catch(function () {});
    } else if (navigator.sendBeacon) {
      navigator.sendBeacon(endpoint, body);
    }
  }
  window.nurture = { view: view, forget: forget };
  view();
})();

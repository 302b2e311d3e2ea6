// Runs t.js (argv[2]) in a stand-in for a browser page at argv[4] whose
// /t/view answers argv[3], and prints what it stored, the address it left
// in the bar and the reports it sent.
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
const status = Number(process.argv[3]);
const store = {}, calls = [];
let replaced = null;
const crypto = require("crypto").webcrypto;
const fetch = (url, opts) => { calls.push({ url, opts }); return Promise.resolve({ status }); };
const window = {
  JSON, URL, crypto, fetch,
  localStorage: {
    getItem: k => (k in store ? store[k] : null),
    setItem: (k, v) => { store[k] = String(v); },
    removeItem: k => { delete store[k]; },
  },
};
const document = { currentScript: { src: "https://nurture.example/t.js" }, cookie: "" };
const location = { href: process.argv[4], protocol: "https:" };
const history = { state: null, replaceState: (s, t, u) => { replaced = u; location.href = new URL(u, location.href).href; } };
new Function("window", "document", "location", "history", "navigator", "crypto", "fetch", src)(window, document, location, history, {}, crypto, fetch);
setTimeout(() => console.log(JSON.stringify({
  store, replaced,
  calls: calls.map(c => ({ url: c.url, body: JSON.parse(c.opts.body), type: c.opts.headers["Content-Type"], keepalive: c.opts.keepalive, credentials: c.opts.credentials })),
})), 20);

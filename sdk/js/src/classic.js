// The classic-script build: installs the API on `window.centroid` and replays the calls the
// page snippet queued while the script was loading (see docs/tracker.md).

import * as api from "./index.js";

(function (w) {
  const stub = w.centroid;
  const queued = (stub && stub.q) || [];
  const script = document.currentScript;
  w.centroid = api;
  // `data-endpoint` and `data-write-key` on the script tag are an alternative to `init`.
  if (script && script.dataset.writeKey) {
    const endpoint = script.dataset.endpoint || new URL(script.src).origin;
    api.init({ endpoint, writeKey: script.dataset.writeKey });
  }
  for (const [name, args] of queued) {
    try {
      if (api[name]) api[name].apply(null, args);
    } catch (_) {}
  }
})(window);

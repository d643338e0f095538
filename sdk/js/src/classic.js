// The classic-script build: installs the API on `window.centroid` and replays the calls the
// page snippet queued while the script was loading (see docs/tracker.md).

import {
  addToCart,
  anonymousId,
  consent,
  context,
  flush,
  identify,
  init,
  like,
  page,
  purchase,
  rating,
  recommend,
  removeFromCart,
  renderRecommendations,
  reset,
  track,
  view,
  watch,
} from "./index.js";

const stub = window.centroid;
const queued = (stub && stub.q) || [];
const api = (window.centroid = {
  addToCart,
  anonymousId,
  consent,
  context,
  flush,
  identify,
  init,
  like,
  page,
  purchase,
  rating,
  recommend,
  removeFromCart,
  renderRecommendations,
  reset,
  track,
  view,
  watch,
});
for (const [name, args] of queued) {
  try {
    if (api[name]) api[name].apply(null, args);
  } catch (_) {}
}

// The ES module: `init` once, then call the functions below from anywhere on the page.
// Calls made before `init` are kept (up to 100) and replayed by it.

import { createTracker } from "./tracker.js";
import { watchMedia } from "./watch.js";
import { renderRecommendations as render } from "./widget.js";

export { createTracker } from "./tracker.js";

let tracker = null;
const early = [];

function call(name) {
  return function () {
    if (tracker) return tracker[name].apply(null, arguments);
    if (early.length < 100) early.push([name, arguments]);
  };
}

/** Starts the tracker; see `Options` in centroid.d.ts. */
export function init(options) {
  try {
    if (!tracker) {
      tracker = createTracker(options || {}, globalThis);
      early.splice(0).forEach(([name, args]) => tracker[name].apply(null, args));
    }
  } catch (error) {
    if (globalThis.console) globalThis.console.warn("centroid:", error);
  }
  return tracker;
}

export const page = call("page");
export const track = call("track");
export const view = call("view");
export const addToCart = call("addToCart");
export const removeFromCart = call("removeFromCart");
export const purchase = call("purchase");
export const like = call("like");
export const rating = call("rating");
export const identify = call("identify");
export const reset = call("reset");
export const consent = call("consent");
export const anonymousId = call("anonymousId");
export const context = call("context");

/** Sends queued events now. */
export function flush() {
  return tracker ? tracker.flush() : Promise.resolve();
}

/** The visitor's cluster and recommendations; null when the API cannot be reached. */
export function recommend(options) {
  return tracker ? tracker.recommend(options) : Promise.resolve(null);
}

/** Counts the seconds of `media` played (each once) as `watch` events about `item`. */
export function watch(media, item, options) {
  return tracker ? watchMedia(tracker, media, item, options) : () => {};
}

/** Renders the visitor's recommendations into `element`. */
export function renderRecommendations(element, options) {
  if (!tracker) return Promise.resolve(null);
  try {
    return render(tracker, element, options, globalThis).catch(() => null);
  } catch (_) {
    return Promise.resolve(null);
  }
}

// Watch time of a video or audio element: seconds of the content actually played, each
// counted once. Played stretches are kept as merged intervals per content (in storage, for a
// few recent items), so replaying after a pause or a seek back adds nothing, and a reload
// does not count the same seconds again.

import { idOf, itemOf } from "./tracker.js";

const KEEP = 20;

/** Adds [a, b] to a sorted list of disjoint intervals. */
export function addInterval(ranges, a, b) {
  const out = [];
  for (const [x, y] of ranges) {
    if (y < a || x > b) out.push([x, y]);
    else {
      a = Math.min(a, x);
      b = Math.max(b, y);
    }
  }
  out.push([a, b]);
  return out.sort((p, q) => p[0] - q[0]);
}

/** Total length of the intervals. */
export function covered(ranges) {
  return ranges.reduce((sum, [a, b]) => sum + b - a, 0);
}

/**
 * Follows `media` (anything with `currentTime`, `paused`, `playbackRate` and media events) and
 * sends `watch` events of the new seconds: every `every` seconds of play, on pause, on end and
 * when the page is left. Returns a function that stops following.
 */
export function watchMedia(tracker, media, item, options) {
  const every = (options && options.every) || 10;
  const id = idOf(itemOf(item));
  const all = tracker.store.get("w") || {};
  const saved = all[id] || { r: [], s: 0 };
  let ranges = saved.r;
  let reported = saved.s;
  let last = null;

  function advance() {
    const t = media.currentTime;
    // A jump longer than a few timeupdate periods is a seek the events did not announce.
    const limit = 2 * (media.playbackRate || 1) + 0.5;
    if (last != null && t > last && t - last <= limit) ranges = addInterval(ranges, last, t);
    last = media.paused || media.seeking ? null : t;
  }

  function report(force) {
    const seconds = Math.round((covered(ranges) - reported) * 1000) / 1000;
    if (seconds >= (force ? 0.5 : every)) {
      tracker.watchSeconds(item, seconds);
      reported += seconds;
    }
    const store = tracker.store.get("w") || {};
    delete store[id];
    store[id] = { r: ranges, s: reported };
    const ids = Object.keys(store);
    for (const old of ids.slice(0, Math.max(ids.length - KEEP, 0))) delete store[old];
    tracker.store.set("w", store);
  }

  const start = () => (last = media.currentTime);
  const stop = () => {
    advance();
    last = null;
    report(true);
  };
  const handlers = {
    play: start,
    playing: start,
    timeupdate: () => {
      advance();
      report(false);
    },
    seeking: () => (last = null),
    seeked: () => (last = media.paused ? null : media.currentTime),
    pause: stop,
    ended: stop,
  };
  for (const name in handlers) {
    handlers[name] = tracker.safe(handlers[name]);
    media.addEventListener(name, handlers[name]);
  }
  tracker.onExit(stop);
  return tracker.safe(() => {
    for (const name in handlers) media.removeEventListener(name, handlers[name]);
    report(true);
  });
}

// A fake browser for the tracker's unit tests: storage, clock, timers, fetch and beacon.
import { createTracker } from "../src/tracker.js";

export class MemoryStorage {
  constructor(quota = Infinity) {
    this.data = new Map();
    this.quota = quota;
  }
  getItem(key) {
    return this.data.has(key) ? this.data.get(key) : null;
  }
  setItem(key, value) {
    const size = [...this.data].reduce((n, [k, v]) => n + (k == key ? 0 : v.length), 0);
    if (size + value.length > this.quota) throw new Error("QuotaExceededError");
    this.data.set(key, String(value));
  }
  removeItem(key) {
    this.data.delete(key);
  }
  bytes() {
    return [...this.data.values()].reduce((n, v) => n + v.length, 0);
  }
}

/** Lets pending promise callbacks run. */
export async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A fake environment. `respond(request)` decides each fetch: a status number, or "fail" for a
 * network error (default 200).
 */
export function fakeEnv({ respond = () => 200, storage = new MemoryStorage() } = {}) {
  let t = 1_700_000_000_000;
  let seq = 0;
  const timers = new Map();
  const document = new EventTarget();
  document.visibilityState = "visible";
  // The window: an event target (for pagehide) with the globals the tracker uses.
  const env = Object.assign(new EventTarget(), {
    localStorage: storage,
    document,
    requests: [],
    beacons: [],
    Date: { now: () => t },
    setTimeout(fn, ms) {
      timers.set(++seq, { at: t + (ms || 0), fn });
      return seq;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    async fetch(url, init) {
      const request = { url, init, at: t, body: JSON.parse(init.body) };
      env.requests.push(request);
      const outcome = respond(request);
      if (outcome == "fail") throw new TypeError("network error");
      return {
        ok: outcome >= 200 && outcome < 300,
        status: outcome,
        json: async () => ({ ok: true }),
      };
    },
    navigator: {
      sendBeacon(url, blob) {
        env.beacons.push({ url, blob });
        return env.beaconQueued;
      },
    },
    beaconQueued: true,
    /** Moves the clock, firing due timers in order and letting their promises settle. */
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        await settle();
        const due = [...timers].filter(([, timer]) => timer.at <= end);
        if (!due.length) break;
        due.sort((a, b) => a[1].at - b[1].at);
        const [id, timer] = due[0];
        timers.delete(id);
        t = Math.max(t, timer.at);
        timer.fn();
      }
      t = end;
      await settle();
    },
    /** Events (canonical or Segment) in every request so far. */
    sent() {
      return env.requests.flatMap((r) => r.body.batch || []);
    },
    /** The bodies of the beacons sent so far. */
    async beaconBodies() {
      return Promise.all(env.beacons.map(async (b) => JSON.parse(await b.blob.text())));
    },
  });
  return env;
}

export function tracker(env, options = {}) {
  return createTracker({ endpoint: "https://api.test", writeKey: "pk_test", ...options }, env);
}

// The tracker: events in, batches out, with the session summary on the side.
//
// Everything a page calls is wrapped so that it never throws and never waits: failures are
// logged once to the console and swallowed. Unsent events live in a bounded, expiring queue in
// localStorage (falling back to memory), keep their `event_id` across retries, and leave with
// `sendBeacon` when the page is hidden or closed.

import { TYPES, categoriesOf, emptySummary, fold, toWire, trim, validId } from "./summary.js";

const DEFAULTS = {
  endpoint: "",
  apiPath: "/v1",
  consent: true,
  storagePrefix: "cx_",
  batchSize: 20,
  flushInterval: 1000,
  maxQueue: 200,
  maxQueueBytes: 60000,
  queueTtl: 864e5,
  maxAttempts: 8,
  maxBackoff: 6e4,
  sessionTimeout: 18e5,
  summaryTtl: 6048e5,
  maxSeen: 50,
  timeout: 5000,
};

// Storage keys of what identifies the visitor: anonymous id, user id, session, summary (with
// the seen list) and watch coverage. The queue is `q`, the consent `c`.
const PERSONAL = ["a", "u", "s", "m", "w"];

/** Random id (UUID v4 when the browser has `crypto.randomUUID`). */
export function uuid() {
  const c = globalThis.crypto;
  if (c && c.randomUUID) return c.randomUUID();
  let id = "";
  for (let i = 0; i < 32; i++) id += ((Math.random() * 16) | 0).toString(16);
  return id;
}

/** An item given as an object, or as its bare id. */
export function itemOf(item) {
  return typeof item == "object" && item ? item : { id: item };
}

/** The content id of an item (`content_id`, else `id`), as a string. */
export function idOf(item) {
  const id = item.content_id != null ? item.content_id : item.id;
  return id == null ? "" : String(id);
}

/** Storage that survives a blocked or full localStorage by keeping a copy in memory. */
export function keyValue(env, prefix) {
  const memory = {};
  let storage = null;
  try {
    // Reading the property itself throws where storage is blocked.
    storage = env.localStorage;
  } catch (_) {}
  let broken = !storage;
  return {
    get(key) {
      if (!broken) {
        try {
          const text = storage.getItem(prefix + key);
          return text == null ? undefined : JSON.parse(text);
        } catch (_) {
          broken = true;
        }
      }
      return memory[key];
    },
    set(key, value) {
      memory[key] = value;
      if (!broken) {
        try {
          storage.setItem(prefix + key, JSON.stringify(value));
        } catch (_) {
          broken = true;
        }
      }
    },
    remove(key) {
      delete memory[key];
      try {
        if (!broken) storage.removeItem(prefix + key);
      } catch (_) {}
    },
  };
}

/**
 * Creates a tracker. `env` is the window (tests pass a fake with the same names:
 * `localStorage`, `fetch`, `navigator.sendBeacon`, `Date.now`, `setTimeout`, `document`, ...).
 */
export function createTracker(options, env) {
  const o = Object.assign({}, DEFAULTS, options);
  const now = () => env.Date.now();
  const store = keyValue(env, o.storagePrefix);
  const base = o.endpoint.replace(/\/+$/, "") + o.apiPath;
  const inflight = new Set();
  const hooks = [];
  let pending = []; // events waiting for consent (memory only)
  let consented = !!(o.consent || store.get("c"));
  let timer = null;
  let sending = null;
  let warned = false;

  function warn(error) {
    if (!warned && env.console) env.console.warn("centroid:", error);
    warned = true;
  }

  // Every public method goes through `safe`: the host page never sees an exception.
  function safe(fn) {
    return function () {
      try {
        return fn.apply(null, arguments);
      } catch (error) {
        warn(error);
      }
    };
  }

  function anonymousId() {
    let id = store.get("a");
    if (!id) store.set("a", (id = uuid()));
    return id;
  }

  function sessionId() {
    const t = now();
    let s = store.get("s");
    if (!s || t - s.t > o.sessionTimeout) s = { id: uuid() };
    s.t = t;
    store.set("s", s);
    return s.id;
  }

  function loadQueue() {
    const t = now();
    const queue = store.get("q") || [];
    return queue.filter((entry) => entry && t - entry.t < o.queueTtl);
  }

  // Oldest entries go first when the queue is over its count or byte bound.
  function saveQueue(queue) {
    queue = queue.slice(-o.maxQueue);
    while (queue.length && JSON.stringify(queue).length > o.maxQueueBytes) queue.shift();
    store.set("q", queue);
  }

  function enqueue(message) {
    if (!consented) {
      if (pending.length < 50) pending.push(message);
      return;
    }
    message.anonymousId = message.anonymousId || anonymousId();
    const queue = loadQueue();
    queue.push({ id: message.event_id || message.messageId, e: message, t: now(), n: 0, at: 0 });
    saveQueue(queue);
    schedule(queue.length >= o.batchSize ? 0 : o.flushInterval);
  }

  function schedule(delay) {
    if (timer != null) env.clearTimeout(timer);
    timer = env.setTimeout(() => {
      timer = null;
      flush().catch(warn);
    }, delay);
  }

  // Canonical events use snake_case ids; Segment calls (identify, page, custom track) their own.
  function wire(entry) {
    const e = Object.assign({}, entry.e);
    if (e.event_id) {
      e.anonymous_id = e.anonymousId;
      delete e.anonymousId;
    }
    return e;
  }

  function removeFromQueue(ids) {
    saveQueue(loadQueue().filter((entry) => !ids.has(entry.id)));
  }

  function body(entries) {
    return JSON.stringify({ writeKey: o.writeKey, batch: entries.map(wire) });
  }

  function post(path, text) {
    const controller = typeof AbortController != "undefined" ? new AbortController() : null;
    const timeout = controller && env.setTimeout(() => controller.abort(), o.timeout);
    return new Promise((resolve) =>
      resolve(
        env.fetch(base + path, {
          method: "POST",
          body: text,
          headers: { "Content-Type": "text/plain" },
          keepalive: text.length < 60000,
          credentials: "omit",
          signal: controller ? controller.signal : undefined,
        }),
      ),
    ).finally(() => timeout && env.clearTimeout(timeout));
  }

  /** Sends what is due; resolves when the queue is empty or waiting for a retry. */
  function flush() {
    if (!consented || !env.fetch) return Promise.resolve();
    if (sending) return sending;
    const t = now();
    const queue = loadQueue();
    const due = queue
      .filter((entry) => entry.at <= t && !inflight.has(entry.id))
      .slice(0, o.batchSize);
    if (!due.length) {
      if (timer == null) scheduleNext(queue);
      return Promise.resolve();
    }
    const ids = new Set(due.map((entry) => entry.id));
    ids.forEach((id) => inflight.add(id));
    sending = post("/events", body(due))
      .then(
        (response) => {
          // A 4xx other than 408/429 will never succeed: the batch is dropped, not retried.
          const status = response.status;
          if (response.ok || (status >= 400 && status < 500 && status != 408 && status != 429)) {
            if (!response.ok) warn("events refused: " + status);
            return true;
          }
          return false;
        },
        () => false,
      )
      .then((delivered) => {
        ids.forEach((id) => inflight.delete(id));
        sending = null;
        if (delivered) {
          removeFromQueue(ids);
          return flush();
        }
        retry(ids);
      });
    return sending;
  }

  function retry(ids) {
    const t = now();
    // Exponential back-off with jitter (one draw per batch, so the batch stays together):
    // 1 s, 2 s, 4 s, ... up to `maxBackoff`, each within ±25 %.
    const jitter = 0.75 + Math.random() / 2;
    const queue = loadQueue()
      .map((entry) => {
        if (!ids.has(entry.id)) return entry;
        entry.n += 1;
        entry.at = t + Math.min(o.maxBackoff, 1000 * 2 ** (entry.n - 1)) * jitter;
        return entry;
      })
      .filter((entry) => entry.n < o.maxAttempts);
    saveQueue(queue);
    scheduleNext(queue);
  }

  // Wakes up when the earliest waiting entry is due.
  function scheduleNext(queue) {
    const next = Math.min(...queue.map((entry) => entry.at));
    if (isFinite(next)) schedule(Math.max(next - now(), 0));
  }

  /** The page is going away: everything queued leaves now, by beacon when possible. */
  function flushOnExit() {
    hooks.forEach((hook) => hook());
    if (!consented) return;
    let queue = loadQueue().filter((entry) => !inflight.has(entry.id));
    while (queue.length) {
      const chunk = queue.slice(0, o.batchSize);
      queue = queue.slice(o.batchSize);
      const text = body(chunk);
      let sent = false;
      try {
        const nav = env.navigator;
        const blob = new Blob([text], { type: "text/plain" });
        sent = !!(nav && nav.sendBeacon && nav.sendBeacon(base + "/events", blob));
      } catch (_) {}
      if (sent) removeFromQueue(new Set(chunk.map((entry) => entry.id)));
      else post("/events", text).catch(() => {});
    }
  }

  if (env.document) {
    const exit = safe(flushOnExit);
    env.document.addEventListener("visibilitychange", () => {
      if (env.document.visibilityState == "hidden") exit();
    });
    env.addEventListener("pagehide", exit);
  }

  function loadSummary() {
    const s = store.get("m");
    return s && now() - s.updated < o.summaryTtl ? s : Object.assign(emptySummary(), { seen: [] });
  }

  /** A canonical event about one content item; invalid ones are dropped, never thrown. */
  function event(type, item, value, extra) {
    item = itemOf(item);
    const id = idOf(item);
    if (!validId(id)) throw new Error(type + ": no content id");
    const properties = Object.assign({}, extra);
    for (const key of ["title", "price", "url", "image_url", "brand"]) {
      if (item[key] != null) properties[key] = item[key];
    }
    properties.categories = categoriesOf(item.categories != null ? item.categories : item.category);
    const message = {
      event_id: uuid(),
      type,
      content_id: id,
      timestamp: now(),
      session_id: consented ? sessionId() : undefined,
      properties,
    };
    if (value != null) message.value = value;
    const user = store.get("u");
    if (user) message.user_id = user;
    if (consented) remember(message);
    enqueue(message);
    return message.event_id;
  }

  // Folds a message into the stored summary (and its content into the seen list).
  function remember(message) {
    const summary = trim(fold(loadSummary(), message));
    const id = message.content_id;
    if (id)
      summary.seen = [id].concat((summary.seen || []).filter((x) => x != id)).slice(0, o.maxSeen);
    summary.updated = now();
    store.set("m", summary);
  }

  function segment(type, fields, whole) {
    const message = Object.assign({ type, messageId: uuid(), timestamp: now() }, fields);
    const user = store.get("u");
    if (user) message.userId = user;
    enqueue(message);
    return whole ? message : message.messageId;
  }

  function track(type, properties) {
    properties = properties || {};
    if (TYPES.includes(type)) return event(type, properties, properties.value);
    return segment("track", { event: String(type), properties });
  }

  function rating(item, value) {
    value = Number(value);
    if (!(value >= 0 && value <= 10)) throw new Error("rating: not in 0..10");
    return event("rating", item, value);
  }

  function purchase(items, properties) {
    const order = Object.assign({ order_id: uuid() }, properties);
    return (items || []).map((line) => {
      line = itemOf(line);
      const quantity = line.quantity == null ? 1 : Number(line.quantity);
      return event("purchase", line, quantity >= 0 ? quantity : 1, { order_id: order.order_id });
    });
  }

  function identify(userId) {
    userId = String(userId);
    if (!validId(userId)) throw new Error("identify: no user id");
    const anonymous = anonymousId();
    store.set("u", userId);
    return segment("identify", { userId, anonymousId: anonymous });
  }

  /** Logout: the next person on this browser starts with a new anonymous id and no history. */
  function reset() {
    flushOnExit();
    PERSONAL.forEach(store.remove);
    return consented ? anonymousId() : undefined;
  }

  function consent(granted) {
    if (granted) {
      consented = true;
      store.set("c", 1);
      const held = pending;
      pending = [];
      for (const message of held) {
        if (message.event_id) message.session_id = sessionId();
        remember(message);
        enqueue(message);
      }
    } else {
      consented = false;
      pending = [];
      PERSONAL.concat("q", "c").forEach(store.remove);
    }
  }

  function page(properties) {
    const loc = env.location || {};
    properties = Object.assign({ path: loc.pathname, url: loc.href }, properties);
    if (env.document) properties.title = properties.title || env.document.title;
    const message = segment("page", { properties }, true);
    if (consented) remember(message);
    return message.messageId;
  }

  /** What `/v1/assign` and `/v1/context` take: the summary and the content already seen. */
  function context() {
    const summary = loadSummary();
    return { summary: toWire(summary), exclude: (summary.seen || []).slice() };
  }

  /** Posts to the API (`path` below the API prefix); resolves to the JSON answer or null. */
  function request(path, payload) {
    if (!env.fetch) return Promise.resolve(null);
    const text = JSON.stringify(Object.assign({ writeKey: o.writeKey }, payload));
    return post(path, text)
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);
  }

  /** The visitor's cluster and recommendations (with attributes); null when unreachable. */
  function recommend(options) {
    options = options || {};
    if (!consented) return Promise.resolve(null);
    return flush().then(() => {
      const ctx = context();
      const payload = {
        anonymous_id: anonymousId(),
        summary: ctx.summary,
        exclude: (options.exclude || []).concat(ctx.exclude).slice(0, 200),
        metric: options.metric,
        limit: options.limit,
        category: options.category,
      };
      const user = store.get("u");
      if (user) payload.user_id = user;
      return request("/context", payload);
    });
  }

  // The same for functions that answer with a promise: it resolves (to null on failure).
  function settled(fn) {
    return function () {
      try {
        return fn.apply(null, arguments).catch(() => null);
      } catch (error) {
        warn(error);
        return Promise.resolve(null);
      }
    };
  }

  return {
    safe,
    store,
    anonymousId: safe(() => (consented ? anonymousId() : undefined)),
    page: safe(page),
    track: safe(track),
    view: safe((item) => event("view", item)),
    addToCart: safe((item, quantity) => event("add_to_cart", item, quantity)),
    removeFromCart: safe((item, quantity) => event("remove_from_cart", item, quantity)),
    purchase: safe(purchase),
    like: safe((item) => event("like", item)),
    rating: safe(rating),
    watchSeconds: safe((item, seconds) => event("watch", item, seconds)),
    identify: safe(identify),
    reset: safe(reset),
    consent: safe(consent),
    flush: settled(flush),
    context: safe(context),
    recommend: settled(recommend),
    onExit: (hook) => hooks.push(safe(hook)),
    queue: safe(loadQueue),
  };
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, fakeEnv, settle, tracker } from "./helpers.js";

test("events wait for the flush interval and leave in batches", async () => {
  const env = fakeEnv();
  const t = tracker(env, { batchSize: 4, flushInterval: 1000 });
  t.view("a");
  t.like("a");
  await env.advance(500);
  assert.equal(env.requests.length, 0);

  await env.advance(600);

  assert.equal(env.requests.length, 1);
  const { url, init, body } = env.requests[0];
  assert.equal(url, "https://api.test/v1/events");
  assert.equal(init.headers["Content-Type"], "text/plain");
  assert.equal(body.writeKey, "pk_test");
  assert.deepEqual(
    body.batch.map((e) => e.type),
    ["view", "like"],
  );
  assert.ok(body.batch.every((e) => e.anonymous_id && e.session_id && e.event_id));
  assert.deepEqual(t.queue(), []);
});

test("a full batch leaves at once; the rest follows", async () => {
  const env = fakeEnv();
  const t = tracker(env, { batchSize: 4 });
  for (let i = 0; i < 6; i++) t.view("c" + i);

  await env.advance(0);

  assert.deepEqual(
    env.requests.map((r) => r.body.batch.length),
    [4, 2],
  );
  assert.equal(new Set(env.sent().map((e) => e.event_id)).size, 6);
});

test("retries keep the event ids and back off", async () => {
  let calls = 0;
  const env = fakeEnv({ respond: () => (++calls <= 2 ? "fail" : 200) });
  const t = tracker(env);
  t.view("a");
  t.rating("a", 4);

  await env.advance(10_000);

  assert.equal(env.requests.length, 3);
  const [first, second, third] = env.requests.map((r) => r.at);
  assert.ok(second - first >= 750 && second - first <= 1250, `first back-off ${second - first}`);
  assert.ok(third - second >= 1500 && third - second <= 2500, `second back-off ${third - second}`);
  const ids = env.requests.map((r) => r.body.batch.map((e) => e.event_id).join());
  assert.equal(new Set(ids).size, 1);
  assert.deepEqual(t.queue(), []);
});

test("server errors are retried, refused batches dropped", async () => {
  const statuses = [503, 429, 200, 400];
  const env = fakeEnv({ respond: () => statuses.shift() });
  const t = tracker(env);
  t.view("a");
  await env.advance(10_000);
  assert.equal(env.requests.length, 3);

  t.view("b");
  await env.advance(10_000);

  assert.equal(env.requests.length, 4);
  assert.deepEqual(t.queue(), [], "a 400 will never succeed");
});

test("events are dropped after the last attempt", async () => {
  const env = fakeEnv({ respond: () => "fail" });
  const t = tracker(env, { maxAttempts: 3 });
  t.view("a");

  await env.advance(60_000);

  assert.equal(env.requests.length, 3);
  assert.deepEqual(t.queue(), []);
});

test("a blocked endpoint cannot grow the stored queue past its bounds", async () => {
  const storage = new MemoryStorage();
  const env = fakeEnv({ respond: () => "fail", storage });
  const t = tracker(env, { maxQueue: 50, maxQueueBytes: 20_000 });
  for (let i = 0; i < 500; i++) {
    t.view({ id: "c" + i, title: "x".repeat(100), categories: ["a", "b"] });
  }
  await env.advance(5000);

  const queue = t.queue();
  assert.ok(queue.length <= 50 && queue.length > 10, `${queue.length} entries`);
  assert.equal(queue.at(-1).e.content_id, "c499", "the newest events are kept");
  assert.ok(storage.getItem("cx_q").length <= 20_000);
  assert.ok(storage.bytes() < 40_000);
});

test("unsent events expire", async () => {
  const env = fakeEnv({ respond: () => "fail" });
  const t = tracker(env, { queueTtl: 10_000, maxAttempts: 100 });
  t.view("a");
  await env.advance(5000);
  const before = env.requests.length;

  await env.advance(60_000);

  assert.deepEqual(t.queue(), []);
  assert.ok(env.requests.length <= before + 2);
});

test("pagehide sends the queue by beacon, with the write key in the body", async () => {
  const env = fakeEnv();
  const t = tracker(env, { flushInterval: 60_000 });
  t.view("a");
  t.addToCart("a");

  env.document.visibilityState = "hidden";
  env.document.dispatchEvent(new Event("visibilitychange"));
  env.dispatchEvent(new Event("pagehide"));
  await settle();

  assert.equal(env.beacons.length, 1);
  assert.equal(env.beacons[0].url, "https://api.test/v1/events");
  assert.equal(env.beacons[0].blob.type, "text/plain");
  const [body] = await env.beaconBodies();
  assert.equal(body.writeKey, "pk_test");
  assert.deepEqual(
    body.batch.map((e) => e.type),
    ["view", "add_to_cart"],
  );
  assert.deepEqual(t.queue(), []);
});

test("a refused beacon falls back to a keepalive fetch and keeps the events", async () => {
  const env = fakeEnv();
  env.beaconQueued = false;
  const t = tracker(env, { flushInterval: 60_000 });
  t.view("a");

  env.dispatchEvent(new Event("pagehide"));
  await settle();

  assert.equal(env.requests.length, 1);
  assert.equal(env.requests[0].init.keepalive, true);
});

test("identify sends a Segment identify; reset starts a new anonymous visitor", async () => {
  const env = fakeEnv();
  const t = tracker(env);
  t.view("a");
  const first = t.anonymousId();

  t.identify("user-7");
  t.like("a");
  await env.advance(2000);
  const next = t.reset();
  t.view("b");
  await env.advance(2000);

  const sent = env.sent();
  const identify = sent.find((e) => e.type == "identify");
  assert.deepEqual([identify.userId, identify.anonymousId], ["user-7", first]);
  assert.equal(sent.find((e) => e.type == "like").user_id, "user-7");
  assert.ok(next && next != first);
  assert.equal(t.anonymousId(), next);
  const last = sent.at(-1);
  assert.equal(last.anonymous_id, next);
  assert.equal(last.user_id, undefined);
  assert.deepEqual(t.context().summary.counts, { view: 1 }, "the summary starts afresh");
});

test("without consent nothing is stored or sent; consent(true) releases the events", async () => {
  const storage = new MemoryStorage();
  const env = fakeEnv({ storage });
  const t = tracker(env, { consent: false });
  t.view("a");
  t.like("a");
  await env.advance(5000);
  assert.equal(storage.bytes(), 0);
  assert.equal(env.requests.length, 0);
  assert.equal(t.anonymousId(), undefined);

  t.consent(true);
  await env.advance(2000);

  assert.deepEqual(
    env.sent().map((e) => e.type),
    ["view", "like"],
  );
  assert.deepEqual(t.context().summary.counts, { view: 1, like: 1 });

  t.consent(false);
  assert.equal(storage.bytes(), 0);
});

test("nothing throws: broken storage, missing fetch, bad input", async () => {
  const storage = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("SecurityError");
    },
    removeItem() {
      throw new Error("SecurityError");
    },
  };
  const env = fakeEnv({ storage });
  env.console = { warn() {} };
  const t = tracker(env);
  t.view("a");
  t.view();
  t.view({ id: "" });
  t.rating("a", 11);
  t.rating("a", "x");
  t.identify("");
  t.purchase(null);
  t.track();
  await env.advance(2000);
  assert.deepEqual(
    env.sent().map((e) => e.type),
    ["view", "track"],
  );

  const bare = fakeEnv();
  Object.defineProperty(bare, "localStorage", {
    get() {
      throw new Error("SecurityError");
    },
  });
  bare.fetch = () => {
    throw new Error("blocked");
  };
  bare.console = { warn() {} };
  const u = tracker(bare);
  u.view("a");
  await bare.advance(5000);
  assert.equal(await u.recommend(), null);
  await u.flush();
});

test("custom events go as Segment track calls with their properties", async () => {
  const env = fakeEnv();
  const t = tracker(env);
  t.track("Recommendation Shown", { content_id: "a", rank: 2, model_version: 5 });
  await env.advance(2000);

  const [event] = env.sent();
  assert.equal(event.type, "track");
  assert.equal(event.event, "Recommendation Shown");
  assert.deepEqual(event.properties, { content_id: "a", rank: 2, model_version: 5 });
  assert.ok(event.messageId && event.anonymousId);
});

test("recommend flushes, then posts the summary and the seen content to /v1/context", async () => {
  const env = fakeEnv();
  const t = tracker(env, { apiPath: "/api/p" });
  t.view({ id: "a", categories: ["x"] });

  const answer = t.recommend({ metric: "views", limit: 5 });
  await env.advance(0);
  assert.deepEqual(await answer, { ok: true });

  const [events, context] = env.requests;
  assert.equal(events.url, "https://api.test/api/p/events");
  assert.equal(context.url, "https://api.test/api/p/context");
  assert.equal(context.body.metric, "views");
  assert.equal(context.body.limit, 5);
  assert.deepEqual(context.body.exclude, ["a"]);
  assert.deepEqual(context.body.summary.categories, { x: 1 });
  assert.equal(context.body.anonymous_id, t.anonymousId());
});

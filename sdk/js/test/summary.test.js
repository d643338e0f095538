import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { categoriesOf, emptySummary, fold, toWire, trim } from "../src/summary.js";
import { fakeEnv, tracker } from "./helpers.js";

// The same file crates/core/tests/tracker_summary.rs folds with the server's reducer.
const fixture = JSON.parse(readFileSync(new URL("fixtures/summary.json", import.meta.url)));

test("the summary equals the server reducer's for the fixture events", () => {
  const seen = new Set();
  const summary = emptySummary();
  for (const event of fixture.events) {
    const id = event.event_id || event.messageId;
    if (!seen.has(id)) fold(summary, event);
    seen.add(id);
  }

  assert.deepEqual(toWire(summary), fixture.summary);
});

test("categories are read as the server reads them", () => {
  assert.deepEqual(categoriesOf("a| b |a||"), ["a", "b"]);
  assert.deepEqual(categoriesOf(["a|b", " c ", "", 3]), ["a|b", "c", "3"]);
  assert.deepEqual(categoriesOf(["ok", "bad\u0001", "x".repeat(257)]), ["ok"]);
  assert.equal(categoriesOf(Array.from({ length: 20 }, (_, i) => "c" + i)).length, 16);
  assert.deepEqual(categoriesOf({ no: 1 }), []);
});

test("the summary keeps at most 256 categories, the largest", () => {
  const summary = emptySummary();
  for (let i = 0; i < 300; i++) {
    const event = { type: "view", timestamp: i, properties: { categories: ["c" + i] } };
    fold(summary, event);
    if (i < 10) fold(summary, event);
  }

  trim(summary);

  assert.equal(Object.keys(summary.cats).length, 256);
  assert.equal(summary.cats.c0, 2 * 720720);
});

test("the tracker's stored summary is the fold of the events it sent", async () => {
  const env = fakeEnv();
  const t = tracker(env);
  t.view({ id: "m1", title: "Heat", categories: ["Action", "Crime"] });
  t.view({ id: 42, category: "Drama|Crime" });
  t.rating("m1", 4.5);
  t.like({ id: "m1", categories: ["Action", "Crime"] });
  t.addToCart({ id: "p1", category: "Shoes", price: 30 });
  t.purchase([{ id: "p1", category: "Shoes", quantity: 2 }, { id: "p2" }]);
  t.watchSeconds({ id: "m1" }, 12.5);
  t.page({ path: "/about" });
  t.track("Newsletter Signed Up", { list: "weekly" });
  await env.advance(2000);

  const expected = emptySummary();
  for (const event of env.sent()) fold(expected, event);

  assert.deepEqual(t.context().summary, toWire(expected));
  assert.equal(t.context().summary.counts.purchase, 2);
  assert.deepEqual(t.context().exclude.slice(0, 3), ["m1", "p2", "p1"]);
});

test("the summary expires after its TTL of inactivity", async () => {
  const env = fakeEnv();
  const t = tracker(env, { summaryTtl: 1000 });
  t.view("a");

  await env.advance(1001);

  assert.deepEqual(t.context().summary.counts, {});
  assert.deepEqual(t.context().exclude, []);
});

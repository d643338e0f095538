import { test } from "node:test";
import assert from "node:assert/strict";
import * as centroid from "../src/index.js";

test("the module keeps calls made before init and replays them", async () => {
  const bodies = [];
  globalThis.fetch = async (url, init) => {
    bodies.push({ url, body: JSON.parse(init.body) });
    return { ok: true, status: 200, json: async () => ({}) };
  };
  assert.equal(centroid.view({ id: "early", categories: ["a"] }), undefined);

  centroid.init({ endpoint: "https://api.test/", writeKey: "pk_x", flushInterval: 10 });
  centroid.like("early");
  await centroid.flush();

  assert.equal(bodies[0].url, "https://api.test/v1/events");
  assert.deepEqual(
    bodies[0].body.batch.map((e) => e.type),
    ["view", "like"],
  );
  assert.deepEqual(centroid.context().summary.counts, { view: 1, like: 1 });
  // No document here: the answer comes back, nothing is rendered, nothing throws.
  assert.deepEqual(await centroid.renderRecommendations(null), {});
  assert.equal(bodies.at(-1).url, "https://api.test/v1/context");
});

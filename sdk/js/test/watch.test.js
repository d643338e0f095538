import { test } from "node:test";
import assert from "node:assert/strict";
import { addInterval, covered, watchMedia } from "../src/watch.js";
import { fakeEnv, tracker } from "./helpers.js";

class FakeMedia extends EventTarget {
  currentTime = 0;
  paused = true;
  seeking = false;
  playbackRate = 1;
  emit(name) {
    this.dispatchEvent(new Event(name));
  }
  play() {
    this.paused = false;
    this.emit("play");
  }
  /** Plays on for `seconds`, with a timeupdate every quarter second. */
  run(seconds) {
    for (let i = 0; i < seconds * 4; i++) {
      this.currentTime += 0.25;
      this.emit("timeupdate");
    }
  }
  pause() {
    this.paused = true;
    this.emit("pause");
  }
  seek(to) {
    this.seeking = true;
    this.emit("seeking");
    this.currentTime = to;
    this.seeking = false;
    this.emit("seeked");
    this.emit("timeupdate");
  }
}

function watched(env) {
  return env
    .sent()
    .filter((e) => e.type == "watch")
    .map((e) => e.value);
}

test("intervals merge", () => {
  let ranges = addInterval([], 0, 5);
  ranges = addInterval(ranges, 10, 12);
  ranges = addInterval(ranges, 4, 11);
  assert.deepEqual(ranges, [[0, 12]]);
  assert.equal(covered(addInterval(ranges, 20, 21)), 13);
});

test("seconds played are counted once across pauses and seeks", async () => {
  const env = fakeEnv();
  const t = tracker(env);
  const media = new FakeMedia();
  watchMedia(t, media, { id: "film", categories: ["Drama"] });

  media.play();
  media.run(4);
  media.pause();
  media.seek(1);
  media.play();
  media.run(5); // 1..6: only 4..6 is new
  media.seek(20);
  media.run(1); // 20..21
  media.pause();
  media.pause();
  await env.advance(2000);

  assert.deepEqual(watched(env), [4, 3]);
  assert.equal(t.context().summary.watch_seconds, 7);
  assert.deepEqual(t.context().summary.categories, { Drama: 2 });
});

test("long plays report every `every` seconds; leaving the page reports the rest", async () => {
  const env = fakeEnv();
  const t = tracker(env, { flushInterval: 60_000 });
  const media = new FakeMedia();
  watchMedia(t, media, "clip", { every: 10 });

  media.play();
  media.run(23);
  env.dispatchEvent(new Event("pagehide"));

  const bodies = await env.beaconBodies();
  const values = bodies.flatMap((b) => b.batch).map((e) => e.value);
  assert.deepEqual(values, [10, 10, 3]);
});

test("a reload does not count the same seconds again", async () => {
  const env = fakeEnv();
  const first = tracker(env);
  const media = new FakeMedia();
  watchMedia(first, media, "clip");
  media.play();
  media.run(3);
  media.pause();

  const second = tracker(env);
  const again = new FakeMedia();
  watchMedia(second, again, "clip");
  again.play();
  again.run(5);
  again.pause();
  await env.advance(2000);

  assert.deepEqual(watched(env), [3, 2]);
});

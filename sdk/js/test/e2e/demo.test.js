// End to end in headless Chromium: the demo shop on a real `centroid serve --demo` over a
// MovieLens database, the tracker's events checked on the server.
//
// Needs ../shared/data/movielens-latest-small, /usr/bin/chromium (scripts/test-browser-deps
// installs it) and a built `centroid` (target/debug, $CARGO_TARGET_DIR/debug, or
// E2E_CENTROID_BIN); skips with a message when one is missing. Screenshots go to target/e2e/ (UPDATE_SCREENSHOT=1 also refreshes
// docs/img/demo.png).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const data = resolve(root, "../shared/data/movielens-latest-small");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const bin =
  process.env.E2E_CENTROID_BIN ||
  join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug/centroid");
const shots = join(root, "target/e2e");
const CATEGORY = "Sci-Fi";
// The server drops events of headless browsers as bots; this is what a visitor's looks like.
const USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

const missing = !existsSync(data)
  ? `${data} is absent`
  : !existsSync(chromiumPath)
    ? `${chromiumPath} is absent (run scripts/test-browser-deps)`
    : !existsSync(bin)
      ? `${bin} is absent (run cargo build -p centroid-cli)`
      : null;
if (missing) console.log(`# skipping the browser end-to-end tests: ${missing}`);

let work;
let server;
let base;
let keys;
let context;
let titles;

async function admin(path) {
  const response = await fetch(base + path, {
    headers: { Authorization: `Bearer ${keys.admin}` },
  });
  assert.ok(response.ok, `${path}: ${response.status}`);
  return response.json();
}

async function counts(anonymousId) {
  const path = `/v1/profiles/${encodeURIComponent(anonymousId)}`;
  const response = await fetch(base + path, {
    headers: { Authorization: `Bearer ${keys.admin}` },
  });
  if (response.status == 404) return {};
  const profile = await response.json();
  return Object.fromEntries(Object.entries(profile.counts).filter(([, n]) => n > 0));
}

async function waitFor(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function errorsOf(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

async function railTitles(page) {
  await page.waitForSelector("#rail .card .title");
  return page.$$eval("#rail .card .title", (nodes) => nodes.map((n) => n.textContent));
}

async function emptyQueue(page) {
  await page.waitForFunction(() => JSON.parse(localStorage.getItem("cx_q") || "[]").length == 0);
}

before(async () => {
  if (missing) return;
  work = mkdtempSync(join(tmpdir(), "centroid-e2e-"));
  mkdirSync(shots, { recursive: true });
  const db = join(work, "demo.db");
  execFileSync(bin, ["import", "--db", db, "--format", "movielens", data], { stdio: "pipe" });
  execFileSync(bin, ["train", "--db", db, "-k", "8"], { stdio: "pipe" });
  titles = new Set(
    readFileSync(join(data, "movies.csv"), "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.match(/^\d+,(?:"((?:[^"]|"")*)"|([^,]*)),/))
      .filter(Boolean)
      .map((m) => (m[1] != null ? m[1].replace(/""/g, '"') : m[2]).trim()),
  );

  server = spawn(bin, ["serve", "--db", db, "--bind", "127.0.0.1:0", "--demo"], {
    stdio: ["ignore", "pipe", "pipe"],
    // CENTROID_* variables are server configuration; the test's server gets none.
    env: {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith("CENTROID_")),
      ),
      RUST_LOG: "warn",
    },
  });
  base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    let err = "";
    server.stderr.on("data", (chunk) => (err += chunk));
    server.on("exit", (code) => reject(new Error(`centroid serve exited with ${code}: ${err}`)));
  });
  const keyText = readFileSync(`${db}.keys.toml`, "utf8");
  keys = {
    write: keyText.match(/write_key\s*=\s*"([^"]+)"/)[1],
    admin: keyText.match(/admin_key\s*=\s*"([^"]+)"/)[1],
  };

  const { chromium } = await import("playwright-core");
  context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    userAgent: USER_AGENT,
    viewport: { width: 1100, height: 760 },
  });
});

after(async () => {
  if (context) await context.close();
  if (server) server.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  "a visitor browses, acts, reloads; the server has each event once and places them",
  {
    skip: missing || false,
  },
  async () => {
    const page = await context.newPage();
    const errors = errorsOf(page);
    // The first batch fails: the tracker must retry it with the same event ids.
    let failed = false;
    await page.route("**/v1/events", (route) => {
      if (failed) return route.continue();
      failed = true;
      return route.abort("connectionrefused");
    });

    await page.goto(`${base}/demo/`);
    const cold = await railTitles(page);
    assert.match(await page.textContent("#panel-cluster"), /none yet/);

    await page.goto(`${base}/demo/#/c/${encodeURIComponent(CATEGORY)}`);
    await page.waitForSelector(".grid .card");
    const links = await page.$$eval(".grid .card", (cards) =>
      cards.slice(0, 3).map((a) => a.getAttribute("href")),
    );
    for (const link of links) {
      await page.goto(`${base}/demo/${link}`);
      await page.waitForSelector(".item h1");
    }
    const categories = await page.textContent(".details .muted");
    assert.ok(categories.includes(CATEGORY), categories);
    await page.click("#like");
    await page.click("#add-to-cart");
    await page.click('#rating button[data-stars="4"]');
    await page.click("#play");
    await page.waitForTimeout(2600);
    await page.click("#play");
    await emptyQueue(page);
    await page.goto(`${base}/demo/#/c/${encodeURIComponent(CATEGORY)}`);
    await page.reload();
    await page.waitForSelector(".grid .card");
    await emptyQueue(page);

    const anonymousId = await page.evaluate(() => JSON.parse(localStorage.getItem("cx_a")));
    assert.ok(failed, "the first batch was refused");
    assert.deepEqual(await counts(anonymousId), {
      view: 3,
      like: 1,
      add_to_cart: 1,
      rating: 1,
      watch: 1,
    });
    const profile = await admin(`/v1/profiles/${encodeURIComponent(anonymousId)}`);
    assert.ok(profile.watch_seconds >= 2 && profile.watch_seconds <= 4, `${profile.watch_seconds}`);

    await page.waitForFunction(() =>
      /^#\d+$/.test(document.querySelector("#panel-cluster").textContent),
    );
    await page.waitForSelector("#panel-why li b");
    const warm = await railTitles(page);
    for (const title of warm.concat(cold))
      assert.ok(titles.has(title), `${title} is in movies.csv`);
    assert.notDeepEqual(warm, cold, "the rail changed with the behaviour");
    assert.match(await page.textContent("#panel-version"), /^\d+$/);
    await page.goto(`${base}/demo/${links[2]}`);
    await page.waitForSelector("#panel-why li b");
    await railTitles(page);
    await page.screenshot({ path: join(shots, "demo.png") });
    if (process.env.UPDATE_SCREENSHOT) {
      const target = join(root, "docs/img/demo.png");
      copyFileSync(join(shots, "demo.png"), target);
      // A 256-colour palette keeps the committed image small (pngquant, when installed).
      try {
        execFileSync("pngquant", [
          "--quality",
          "60-85",
          "--force",
          "--strip",
          "-o",
          target,
          target,
        ]);
      } catch (_) {}
    }
    // Login merges the anonymous history into the user; logout starts a new visitor.
    await page.evaluate(() => window.centroid.identify("e2e-user"));
    await emptyQueue(page);
    const merged = await waitFor(async () => {
      const found = await counts("e2e-user");
      return found.view >= 3 && found;
    }, "the identified profile");
    assert.equal(merged.watch, 1);
    const next = await page.evaluate(() => window.centroid.reset());
    assert.ok(next && next != anonymousId);

    assert.deepEqual(errors, []);
    await page.close();
  },
);

test(
  "with the endpoint down or the script blocked, the page renders and nothing throws",
  {
    skip: missing || false,
  },
  async () => {
    const down = await context.newPage();
    const errors = errorsOf(down);
    await down.goto(`${base}/demo/?endpoint=http://127.0.0.1:9#/i/1`);
    await down.waitForSelector(".item h1");
    await down.click("#like");
    await down.click('#rating button[data-stars="5"]');
    await down.click("#add-to-cart");
    await down.waitForTimeout(1500);
    assert.ok((await down.textContent(".item h1")).length > 0);
    await down.screenshot({ path: join(shots, "endpoint-down.png") });
    await down.close();

    const blocked = await context.newPage();
    errors.push(...errorsOf(blocked));
    await blocked.route("**/lib/centroid.js", (route) => route.abort("blockedbyclient"));
    await blocked.goto(`${base}/demo/#/i/2`);
    await blocked.waitForSelector(".item h1");
    await blocked.click("#like");
    await blocked.click("#play");
    await blocked.click("#play");
    assert.equal(await blocked.evaluate(() => typeof window.centroid.like), "function");
    await blocked.close();

    assert.deepEqual(errors, []);
  },
);

test("closing the page delivers the last events", { skip: missing || false }, async () => {
  const page = await context.newPage();
  // A long flush interval: only the page's exit can send the like.
  const url = `http://localhost:${new URL(base).port}/demo/?flush=600000#/i/1`;
  await page.goto(url);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForSelector(".item h1");
  // Straight to the tracker: the like button would also refresh the rail, which flushes.
  await page.evaluate(() => window.centroid.like({ id: "1", categories: ["Comedy"] }));
  const anonymousId = await page.evaluate(() => JSON.parse(localStorage.getItem("cx_a")));
  await page.waitForTimeout(500);
  assert.deepEqual(await counts(anonymousId), {}, "nothing sent before the page closes");

  await page.close({ runBeforeUnload: true });

  await waitFor(async () => (await counts(anonymousId)).like == 1, "the like to arrive");
  assert.deepEqual(await counts(anonymousId), { view: 1, like: 1 });
});

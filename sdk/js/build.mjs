// Builds dist/: the ES module, the classic script and the type declarations, and prints the
// gzipped sizes. `node build.mjs --check` builds in memory and fails when dist/ is stale
// (the server embeds dist/, so it must match src/).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const check = process.argv.includes("--check");
const common = {
  bundle: true,
  minify: true,
  write: false,
  target: "es2019",
  legalComments: "none",
};
const outputs = {
  "dist/centroid.mjs": (await build({ ...common, entryPoints: ["src/index.js"], format: "esm" }))
    .outputFiles[0].text,
  "dist/centroid.js": (await build({ ...common, entryPoints: ["src/classic.js"], format: "iife" }))
    .outputFiles[0].text,
  "dist/centroid.d.ts": readFileSync("src/centroid.d.ts", "utf8"),
};

let stale = [];
mkdirSync("dist", { recursive: true });
for (const [path, text] of Object.entries(outputs)) {
  if (check) {
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch (_) {}
    if (current !== text) stale.push(path);
  } else {
    writeFileSync(path, text);
  }
  const gz = gzipSync(text, { level: 9 }).length;
  console.log(`${path}: ${text.length} bytes, ${gz} bytes gzipped`);
}
if (stale.length) {
  console.error(`stale: ${stale.join(", ")}; run \`npm run build\` in sdk/js and commit dist/`);
  process.exit(1);
}

// Builds static/live.bundle.js (the live co-editing editor) from src/live.js and
// the exact npm packages in package-lock.json, plus live.bundle.js.LICENSE.txt
// with the licence of every package that ends up in the bundle.
//
//   npm --prefix frontend ci && node frontend/build.mjs [--out DIR]
//
// The output is deterministic: no timestamps, no machine paths, packages in a
// fixed order, so a rebuild anywhere gives the same bytes (tests/test_bundle.py).
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--out");
const outDir = flag === -1 ? resolve(here, "..", "static") : resolve(process.argv[flag + 1]);
const bundleName = "live.bundle.js";

const result = await build({
  absWorkingDir: here,
  entryPoints: ["src/live.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  platform: "browser",
  charset: "utf8",
  legalComments: "none",  // every licence text goes to the .LICENSE.txt file below
  banner: { js: `/*! cowiki live editor; licences: ${bundleName}.LICENSE.txt */` },
  outfile: bundleName,  // a name only: the bytes are written below
  metafile: true,
  write: false,
  logLevel: "warning",
});

// The packages whose code is in the bundle, from esbuild's own list of inputs.
const packages = new Set();
const inputs = Object.values(result.metafile.outputs)[0].inputs;
for (const [input, info] of Object.entries(inputs)) {
  if (info.bytesInOutput === 0) continue;
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}

function licenceText(name) {
  const dir = join(here, "node_modules", name);
  const file = readdirSync(dir).filter((f) => /^(licen[cs]e|copying)/i.test(f)).sort()[0];
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const head = `${name} ${meta.version} (${meta.license})`;
  const body = file ? readFileSync(join(dir, file), "utf8").trim() : `Licence: ${meta.license}`;
  return `${head}\n${"-".repeat(head.length)}\n${body}\n`;
}

const names = [...packages].sort();
const licences = [
  `Third-party software in ${bundleName}, with its licences.\n`,
  ...names.map(licenceText),
].join("\n");

if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, bundleName), result.outputFiles[0].contents);
writeFileSync(join(outDir, `${bundleName}.LICENSE.txt`), licences);
process.stdout.write(`${bundleName}: ${result.outputFiles[0].contents.length} bytes, ` +
  `${names.length} packages\n`);

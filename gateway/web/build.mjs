// Builds the web client: src/ → dist/ (committed, served by the gateway at /), offline once `npm ci` ran.
//
//   node build.mjs                 dist/: app.js + worklet.js (esbuild, minified), the static files (page, styles,
//                                  app manifest, icons) and sw.js, the service worker caching all of them
//   node build.mjs --outdir DIR    the same into DIR (the stale-bundle test compares it with dist/)
//   node build.mjs --dev           unminified, with inline source maps, for debugging in the browser
//   node build.mjs --tests         test/*.test.ts → build/tests/*.test.mjs, for `node --test build/tests/`
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

const STATIC = ["index.html", "style.css", "favicon.svg", "manifest.webmanifest", "icon-192.png", "icon-512.png",
  "icon-maskable-512.png", "apple-touch-icon.png"];
// The app shell the service worker caches: "./" is the page as the start URL opens it.
const SHELL = ["./", "app.js", "worklet.js", ...STATIC];
const common = {
  absWorkingDir: here,
  bundle: true,
  format: "esm",
  // Private class fields, top-level await, import.meta: every evergreen browser since 2022.
  target: ["es2022", "chrome100", "firefox100", "safari15.4"],
  charset: "utf8",
  // @lingua/sdk is a symlink to generated/ts; resolve its imports from here, not from generated/ts.
  preserveSymlinks: true,
  logLevel: "warning",
};

async function buildApp(outdir, dev) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    ...common,
    entryPoints: { app: "src/main.ts", worklet: "src/audio/worklet.ts" },
    outdir,
    minify: !dev,
    sourcemap: dev ? "inline" : false,
    legalComments: "eof",
  });
  for (const name of STATIC) await copyFile(path.join(here, "src", name), path.join(outdir, name));
  await buildServiceWorker(outdir, dev);
}

// sw.js names its cache after a hash of the shell's files, so that a new build replaces the cached shell (and
// the browser sees a changed sw.js, which is how it learns that there is a new version).
async function buildServiceWorker(outdir, dev) {
  const hash = createHash("sha256");
  for (const name of SHELL.filter((n) => n !== "./")) {
    hash.update(name).update("\0").update(await readFile(path.join(outdir, name)));
  }
  await build({
    ...common,
    entryPoints: { sw: "src/sw.ts" },
    outdir,
    format: "iife", // a classic service worker script: no module syntax
    minify: !dev,
    sourcemap: dev ? "inline" : false,
    define: { SHELL: JSON.stringify(SHELL), VERSION: JSON.stringify(hash.digest("hex").slice(0, 16)) },
  });
}

async function buildTests() {
  const outdir = path.join(here, "build", "tests");
  await rm(outdir, { recursive: true, force: true });
  const tests = (await readdir(path.join(here, "test"))).filter((f) => f.endsWith(".test.ts"));
  await build({
    ...common,
    entryPoints: tests.map((f) => `test/${f}`),
    outdir,
    outExtension: { ".js": ".mjs" },
    platform: "node",
    target: "node20",
    sourcemap: "inline",
  });
}

if (flag("--tests")) await buildTests();
else await buildApp(path.resolve(here, option("--outdir", "dist")), flag("--dev"));
